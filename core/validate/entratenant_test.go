package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
)

// TestEntraTenantRestriction: a multi-tenant ({tenantid}) profile accepts
// every tenant's token; its Tenants restriction narrows that to the listed
// tenants (from tid, else the issuer's tenant) and refuses the others with
// tenant_not_allowed, on both paths of the validator, and with it cached.
func TestEntraTenantRestriction(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "entra-key", "RS256")
	key.hideAlg = true
	ctx := context.Background()
	now := clk.Now()
	idp := newIDP(t, "https://login.microsoftonline.com/{tenantid}/v2.0", key)

	open := testProfile("entra", appClientID)
	open.Flavour = core.FlavourEntra
	open.UIDClaim = "oid"
	narrow := open
	narrow.Restrictions.Tenants = []string{tenant}
	otherV2 := "https://login.microsoftonline.com/" + otherTenant + "/v2.0"
	other := entraClaims("2.0", otherV2, appClientID, now, map[string]any{"tid": otherTenant})

	tests := []struct {
		name    string
		prof    core.Profile
		claims  map[string]any
		reason  Reason
		message []string
	}{
		{name: "no restriction: another tenant is accepted", prof: open, claims: other},
		{name: "listed tenant, v2", prof: narrow, claims: entraClaims("2.0", v2Issuer, appClientID, now, nil)},
		{name: "listed tenant, v1", prof: narrow, claims: entraClaims("1.0", v1Issuer, appClientID, now, nil)},
		{name: "another tenant is refused", prof: narrow, claims: other, reason: ReasonTenantNotAllowed,
			message: []string{"tenant " + `"` + otherTenant + `"`, "Tenants restriction accepts only [\"" + tenant}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := idp.validator(clk, nil, resultTTL(time.Minute))
			tok := key.sign(t, tt.claims)
			for i, r := range []*Result{v.Validate(ctx, tt.prof, tok), v.Validate(ctx, tt.prof, tok), v.Inspect(ctx, tt.prof, tok)} {
				if r.Reason != tt.reason {
					t.Fatalf("run %d: Reason = %q, want %q: %s", i, r.Reason, tt.reason, r.Message)
				}
				for _, m := range tt.message {
					if !strings.Contains(r.Message, m) {
						t.Errorf("Message %q lacks %q", r.Message, m)
					}
				}
			}
		})
	}
	if ReasonTenantNotAllowed.Status() != 401 || !ReasonTenantNotAllowed.cacheable() {
		t.Errorf("tenant_not_allowed: status %d, cacheable %v", ReasonTenantNotAllowed.Status(), ReasonTenantNotAllowed.cacheable())
	}
}

// TestTenantRestrictionNeedsTenant: a token that names no tenant at all
// (a generic provider's) is refused by a Tenants restriction.
func TestTenantRestrictionNeedsTenant(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k", "RS256")
	idp := newIDP(t, "", key)
	p := testProfile("p", "api")
	p.Restrictions.Tenants = []string{tenant}
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "bob", "api", clk.Now(), nil))
	v := idp.validator(clk, nil)
	for _, r := range []*Result{v.Validate(context.Background(), p, tok), v.Inspect(context.Background(), p, tok)} {
		if r.Reason != ReasonTenantNotAllowed || !strings.Contains(r.Message, "names no Microsoft Entra tenant") {
			t.Errorf("Reason %q: %s", r.Reason, r.Message)
		}
	}
}
