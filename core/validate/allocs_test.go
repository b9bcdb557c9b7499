package validate

import (
	"context"
	"testing"
	"time"

	"oidcctl/core"
)

// TestFirstValidationAllocs: a first-time validation (result cache off)
// of a Keycloak-like RS256 token with a role map, a Scope restriction and
// a user reads the claims its checks need as raw JSON (jws.ParseRaw), not
// a map of boxed values: it allocates at most 22 times (20 measured; 69
// when the wanted claims were decoded into a map, 145 when every claim
// and header parameter was; crypto/rsa's verify alone takes 9 of them).
// The race detector's sync.Pool drops items, so with it the bound is
// raceAllocs more.
func TestFirstValidationAllocs(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	users := newMemUsers(core.User{Login: "svc-billing", Roles: []string{"ticket-reader"}})
	prof := testProfile("kc", "billing")
	prof.UIDClaim = "preferred_username"
	prof.RoleMap = core.RoleMap{"realm_access.roles": {"tickets": "ticket-reader"}}
	prof.Restrictions.Scopes = []string{"tickets"}
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "f:2d1b0c7e-5a1e-4c4a-9d1a-7b5e3c2a1f00:svc-billing", "billing", clk.Now(), map[string]any{
		"jti": "0e0b6c5e-2f6b-4a8f-a1f7-1c3b8d5e9f21", "typ": "Bearer", "azp": "billing",
		"session_state": "6a2f0e3c-8d4b-4c1a-9e7f-2b5d3c1a0f98", "acr": "1",
		"realm_access":    map[string]any{"roles": []any{"offline_access", "uma_authorization", "tickets"}},
		"resource_access": map[string]any{"account": map[string]any{"roles": []any{"manage-account", "view-profile"}}},
		"scope":           "openid profile email tickets", "email_verified": false,
		"preferred_username": "svc-billing", "client_id": "billing", "clientHost": "10.0.0.17",
	}))
	v := idp.validator(clk, users, resultTTL(-1))
	ctx := context.Background()
	var r *Result
	allocs := testing.AllocsPerRun(200, func() { r = v.Validate(ctx, prof, tok) })
	if !r.Accepted() || r.Login != "svc-billing" || len(r.Roles) != 1 {
		t.Fatalf("%s: %s", r.Reason, r.Message)
	}
	if limit := 22.0 + raceAllocs; allocs > limit {
		t.Errorf("%.0f allocations for a first-time validation, want at most %.0f", allocs, limit)
	}
	t.Logf("%.0f allocations", allocs)
}
