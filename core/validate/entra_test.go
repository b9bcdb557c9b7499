package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"oidcctl/assets"
	"oidcctl/core"
	"oidcctl/core/config"
)

const (
	tenant      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	otherTenant = "0b9a1b2c-1111-2222-3333-444455556666"
	appClientID = "6e2bbc7d-1a1b-4c8a-9b1e-00000000a001"
	callerApp   = "c0ffee00-1a1b-4c8a-9b1e-00000000c001"
	v1Issuer    = "https://sts.windows.net/" + tenant + "/"
	v2Issuer    = "https://login.microsoftonline.com/" + tenant + "/v2.0"
)

// entraToken returns Entra-shaped claims: ver "1.0" (v1 issuer, appid) or
// "2.0" (v2 issuer, azp).
func entraClaims(ver, iss, aud string, now time.Time, extra map[string]any) map[string]any {
	c := claimsAt(iss, "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", aud, now, map[string]any{
		"ver": ver, "tid": tenant, "oid": "00000000-0000-0000-66f3-3332eca7ea81",
		"preferred_username": "ann@contoso.example",
	})
	if ver == "1.0" {
		c["appid"] = callerApp
	} else {
		c["azp"] = callerApp
	}
	return merge(c, extra)
}

// TestEntra: Microsoft v1 and v2 tokens against a v2 (and a v1, and a
// multi-tenant) discovery document, with the flavour entra and without.
func TestEntra(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "entra-key", "RS256")
	key.hideAlg = true // Entra's JWKS names no alg
	ctx := context.Background()
	now := clk.Now()

	entra := testProfile("entra", appClientID)
	entra.Flavour = core.FlavourEntra
	entra.UIDClaim = "oid"
	generic := entra
	generic.Flavour = core.FlavourGeneric

	withScopes := func(p core.Profile, s ...string) core.Profile { p.Restrictions.Scopes = s; return p }
	withAZP := func(p core.Profile, azp string) core.Profile { p.Restrictions.AuthorizedParty = azp; return p }
	withAud := func(p core.Profile, aud ...string) core.Profile { p.Restrictions.Audiences = aud; return p }

	tests := []struct {
		name      string
		docIssuer string
		prof      core.Profile
		claims    map[string]any
		header    map[string]any
		reason    Reason
		message   []string
		ms        Microsoft // Version, Issuer, Graph, Application compared
	}{
		{name: "v2 token, v2 document", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("2.0", v2Issuer, appClientID, now, map[string]any{"scp": "tickets.read"}),
			ms:     Microsoft{Version: "2.0", Issuer: "v2", TenantID: tenant, AppID: callerApp}},
		{name: "v1 token, v2 document, flavour entra", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("1.0", v1Issuer, appClientID, now, nil),
			ms:     Microsoft{Version: "1.0", Issuer: "v1", TenantID: tenant, AppID: callerApp}},
		{name: "v2 token, v1 document, flavour entra", docIssuer: v1Issuer, prof: entra,
			claims: entraClaims("2.0", v2Issuer, appClientID, now, nil),
			ms:     Microsoft{Version: "2.0", Issuer: "v2", TenantID: tenant, AppID: callerApp}},
		{name: "v1 token, v2 document, flavour generic", docIssuer: v2Issuer, prof: generic,
			claims: entraClaims("1.0", v1Issuer, appClientID, now, nil), reason: ReasonIssuerMismatch,
			message: []string{"flavour to entra", `"requestedAccessTokenVersion": 2`, "accessTokenAcceptedVersion"},
			ms:      Microsoft{Version: "1.0", Issuer: "v1", TenantID: tenant, AppID: callerApp}},
		{name: "v1 token of another tenant", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("1.0", "https://sts.windows.net/"+otherTenant+"/", appClientID, now, map[string]any{"tid": otherTenant}),
			reason: ReasonIssuerMismatch, message: []string{"from tenant " + otherTenant}},
		{name: "v1 token whose tid is not its issuer's tenant", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("1.0", v1Issuer, appClientID, now, map[string]any{"tid": otherTenant}),
			reason: ReasonIssuerMismatch},
		{name: "multi-tenant document, v2 token", docIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0", prof: entra,
			claims: entraClaims("2.0", v2Issuer, appClientID, now, nil)},
		{name: "multi-tenant document, v1 token", docIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0", prof: entra,
			claims: entraClaims("1.0", v1Issuer, appClientID, now, nil)},
		{name: "multi-tenant document, token without tid", docIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0", prof: entra,
			claims: entraClaims("2.0", v2Issuer, appClientID, now, map[string]any{"tid": nil}), reason: ReasonIssuerMismatch},
		{name: "v1 token with the App ID URI as aud", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("1.0", v1Issuer, "api://"+appClientID, now, nil), reason: ReasonAudienceMismatch,
			message: []string{"Application ID URI", `"requestedAccessTokenVersion": 2`, "Audience restriction"}},
		{name: "v1 token with the App ID URI listed in Audience", docIssuer: v2Issuer, prof: withAud(entra, "api://"+appClientID),
			claims: entraClaims("1.0", v1Issuer, "api://"+appClientID, now, nil)},
		{name: "token for another API", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("2.0", v2Issuer, "11111111-2222-3333-4444-555555555555", now, nil), reason: ReasonAudienceMismatch,
			message: []string{"api://" + appClientID + "/.default"}},
		{name: "Graph audience without a nonce", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("1.0", v1Issuer, "https://graph.microsoft.com", now, nil), reason: ReasonEntraGraphToken,
			message: []string{"Microsoft Graph", "no third party can", "api://" + appClientID + "/"},
			ms:      Microsoft{Version: "1.0", Issuer: "v1", TenantID: tenant, AppID: callerApp, Graph: true}},
		{name: "Graph token with a nonce header", docIssuer: v2Issuer, prof: entra,
			claims: entraClaims("1.0", v1Issuer, "00000003-0000-0000-c000-000000000000", now, map[string]any{"scp": "User.Read"}),
			header: map[string]any{"nonce": "MjQ4ZTc0OWYtNDFmYi00"}, reason: ReasonEntraGraphToken,
			message: []string{"header carries a nonce", "Only Microsoft Graph can validate it; no third party can", ".default"},
			ms:      Microsoft{Version: "1.0", Issuer: "v1", TenantID: tenant, AppID: callerApp, Graph: true, HeaderNonce: true}},
		{name: "Graph nonce header, flavour generic", docIssuer: v2Issuer, prof: generic,
			claims: entraClaims("1.0", v1Issuer, "00000003-0000-0000-c000-000000000000", now, nil),
			header: map[string]any{"nonce": "MjQ4ZTc0OWYtNDFmYi00"}, reason: ReasonEntraGraphToken},
		{name: "delegated scope in scp", docIssuer: v2Issuer, prof: withScopes(entra, "tickets.read"),
			claims: entraClaims("2.0", v2Issuer, appClientID, now, map[string]any{"scp": "profile tickets.read"})},
		{name: "scope listed with its api:// prefix", docIssuer: v2Issuer, prof: withScopes(entra, "api://"+appClientID+"/tickets.read"),
			claims: entraClaims("2.0", v2Issuer, appClientID, now, map[string]any{"scp": "tickets.read"}), reason: ReasonScopeMissing,
			message: []string{`list "tickets.read"`}},
		{name: "application permission in roles", docIssuer: v2Issuer, prof: withScopes(entra, "Tickets.ReadWrite.All"),
			claims: entraClaims("2.0", v2Issuer, appClientID, now, map[string]any{"roles": []any{"Tickets.ReadWrite.All"}}),
			ms:     Microsoft{Version: "2.0", Issuer: "v2", TenantID: tenant, AppID: callerApp, Application: true}},
		{name: "app-only token without the role", docIssuer: v2Issuer, prof: withScopes(entra, "Tickets.ReadWrite.All"),
			claims: entraClaims("2.0", v2Issuer, appClientID, now, map[string]any{"roles": []any{"Other"}}), reason: ReasonScopeMissing,
			message: []string{"app role", ".default"}},
		{name: "Entra token without scp or roles fails a Scope restriction", docIssuer: v2Issuer, prof: withScopes(entra, "tickets.read"),
			claims: entraClaims("2.0", v2Issuer, appClientID, now, nil), reason: ReasonScopeMissing,
			message: []string{"no scope, scp or roles claim"}},
		{name: "AuthorizedParty from appid in a v1 token", docIssuer: v2Issuer, prof: withAZP(entra, callerApp),
			claims: entraClaims("1.0", v1Issuer, appClientID, now, nil)},
		{name: "AuthorizedParty from azp in a v2 token", docIssuer: v2Issuer, prof: withAZP(entra, callerApp),
			claims: entraClaims("2.0", v2Issuer, appClientID, now, nil)},
		{name: "AuthorizedParty mismatch", docIssuer: v2Issuer, prof: withAZP(entra, "someone"),
			claims: entraClaims("1.0", v1Issuer, appClientID, now, nil), reason: ReasonAZPMismatch, message: []string{"appid claim"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := newIDP(t, tt.docIssuer, key)
			v := idp.validator(clk, nil)
			tok := key.sign(t, tt.claims, tt.header)
			for _, r := range []*Result{v.Validate(ctx, tt.prof, tok), v.Inspect(ctx, tt.prof, tok)} {
				if r.Reason != tt.reason {
					t.Fatalf("Reason = %q, want %q: %s", r.Reason, tt.reason, r.Message)
				}
				for _, m := range tt.message {
					if !strings.Contains(r.Message, m) {
						t.Errorf("Message %q lacks %q", r.Message, m)
					}
				}
				if r.Microsoft == nil {
					t.Fatal("not classified as Microsoft")
				}
				if tt.ms != (Microsoft{}) && *r.Microsoft != tt.ms {
					t.Errorf("Microsoft = %+v, want %+v", *r.Microsoft, tt.ms)
				}
				if tt.reason == "" && r.Login != "00000000-0000-0000-66f3-3332eca7ea81" {
					t.Errorf("Login = %q", r.Login)
				}
			}
		})
	}
}

// TestNotMicrosoft: other tokens are not classified.
func TestNotMicrosoft(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "ES256")
	idp := newIDP(t, "", key)
	r := idp.validator(clk, nil).Validate(context.Background(), testProfile("kc", "api"),
		key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), map[string]any{"roles": []any{"x"}})))
	if !r.Accepted() || r.Microsoft != nil {
		t.Errorf("%s %+v", r.Reason, r.Microsoft)
	}
}

// TestEntraExampleConfig: the entra profile of `oidcctl config example`
// accepts the tokens Entra issues for its API, a delegated one (the short
// scope name in scp) and an app-only one (the app role in roles), and
// refuses one without the scope. Its Scope restriction once listed
// api://<client-id>/otobo, which Entra never puts in scp, so that the
// example refused every token.
func TestEntraExampleConfig(t *testing.T) {
	doc, err := config.Parse(assets.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	var prof core.Profile
	for _, p := range doc.Profiles {
		if p.Name == "entra" {
			prof = p.ToProfile()
		}
	}
	if prof.Flavour != core.FlavourEntra {
		t.Fatalf("the example has no entra profile: %+v", doc.Profiles)
	}
	if len(prof.Restrictions.Scopes) == 0 {
		t.Fatal("the example's entra profile restricts no scope: the test would prove nothing")
	}
	// The tenant and issuer of the example's discovery URL.
	tid := strings.Split(strings.TrimPrefix(prof.DiscoveryURL, "https://login.microsoftonline.com/"), "/")[0]
	iss := "https://login.microsoftonline.com/" + tid + "/v2.0"
	// Entra puts the scope's short name in scp, never its api:// prefix.
	scope := prof.Restrictions.Scopes[0]
	short := scope[strings.LastIndexByte(scope, '/')+1:]
	clk := newFakeClock(time.Now())
	key := newKey(t, "entra-key", "RS256")
	key.hideAlg = true
	v := newIDP(t, iss, key).validator(clk, nil)
	claims := func(extra map[string]any) map[string]any {
		c := entraClaims("2.0", iss, prof.ClientID, clk.Now(), extra)
		c["tid"] = tid
		return c
	}
	tests := []struct {
		name   string
		claims map[string]any
		reason Reason
	}{
		{"delegated", claims(map[string]any{"scp": "openid " + short}), ""},
		{"app-only", claims(map[string]any{"roles": []any{short}}), ""},
		{"without the scope", claims(map[string]any{"scp": "User.Read"}), ReasonScopeMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := v.Validate(context.Background(), prof, key.sign(t, tt.claims))
			if r.Reason != tt.reason {
				t.Fatalf("Reason = %q, want %q: %s", r.Reason, tt.reason, r.Message)
			}
		})
	}
}
