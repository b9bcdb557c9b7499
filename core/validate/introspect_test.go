package validate

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
)

// TestIntrospection: opaque tokens are checked at the introspection
// endpoint when enabled; active ones go through the same checks as a JWT,
// and the answer is cached no longer than the token lives.
func TestIntrospection(t *testing.T) {
	clk := newFakeClock(time.Now())
	idp := newIDP(t, "")
	now := clk.Now()
	idp.introspect = func(token string) map[string]any {
		switch token {
		case "good-opaque":
			return map[string]any{"active": true, "iss": idp.doc.Issuer, "sub": "svc", "client_id": "caller",
				"aud": "api", "scope": "tickets offline_access", "exp": now.Add(90 * time.Second).Unix(),
				"roles": []any{"admin"}, "token_type": "Bearer"}
		case "no-aud":
			return map[string]any{"active": true, "sub": "svc", "exp": now.Add(time.Hour).Unix()}
		case "expired":
			return map[string]any{"active": true, "sub": "svc", "aud": "api", "exp": now.Add(-time.Hour).Unix()}
		case "other-iss":
			return map[string]any{"active": true, "sub": "svc", "aud": "api", "iss": "https://elsewhere.example"}
		}
		return nil // active: false
	}
	prof := testProfile("idp", "api")
	prof.ClientSecret = core.NewSecret("s3cr3t")
	prof.RoleMap = core.RoleMap{"roles": {"admin": "ticket-admin"}}
	ctx := context.Background()

	v := idp.validator(clk, nil)
	if r := v.Validate(ctx, prof, "good-opaque"); r.Reason != ReasonOpaque || idp.introHits.Load() != 0 {
		t.Fatalf("introspection off: %s, %d requests", r.Reason, idp.introHits.Load())
	}

	// On for the one profile.
	v = idp.validator(clk, nil)
	one := prof
	one.Introspect = true
	if r := v.Validate(ctx, one, "no-aud"); !r.Accepted() || r.Kind != "opaque" {
		t.Fatalf("Profile.Introspect: %s: %s", r.Reason, r.Message)
	}

	v = idp.validator(clk, nil, func(c *Config) { c.Introspect = true })
	idp.introHits.Store(0)
	p := prof
	p.Restrictions.Scopes = []string{"tickets"}
	p.Restrictions.AuthorizedParty = "caller"
	r := v.Validate(ctx, p, "good-opaque")
	if !r.Accepted() || r.Kind != "opaque" || r.Login != "svc" || !slices.Equal(r.Roles, []string{"ticket-admin"}) {
		t.Fatalf("%s: %s (%s, %v)", r.Reason, r.Message, r.Kind, r.Roles)
	}
	if !r.ExpiresAt.Equal(now.Add(90 * time.Second)) {
		t.Errorf("ExpiresAt = %v", r.ExpiresAt)
	}
	// Cached, and no longer than the token lives.
	clk.Add(30 * time.Second)
	if v.Validate(ctx, p, "good-opaque") != r || idp.introHits.Load() != 1 {
		t.Errorf("not cached: %d requests", idp.introHits.Load())
	}
	clk.Add(33 * time.Second) // past the 60 s TTL
	if v.Validate(ctx, p, "good-opaque") == r || idp.introHits.Load() != 2 {
		t.Errorf("cached past the TTL: %d requests", idp.introHits.Load())
	}
	clk.Add(30 * time.Second) // 93 s: past exp
	if r := v.Validate(ctx, p, "good-opaque"); r.Reason != ReasonExpired {
		t.Errorf("past exp: %s: %s", r.Reason, r.Message)
	}
	clk.Add(-93 * time.Second)

	for _, tt := range []struct {
		token  string
		prof   func(*core.Profile)
		reason Reason
		msg    string
	}{
		{token: "revoked", reason: ReasonInactive, msg: "not active"},
		{token: "no-aud"},
		{token: "no-aud", prof: func(p *core.Profile) { p.Restrictions.Audiences = []string{"api"} }, reason: ReasonAudienceMismatch},
		{token: "expired", reason: ReasonExpired},
		{token: "other-iss", reason: ReasonIssuerMismatch},
		{token: "good-opaque", prof: func(p *core.Profile) { p.Restrictions.Scopes = []string{"admin"} }, reason: ReasonScopeMissing},
		{token: "good-opaque", prof: func(p *core.Profile) { p.Restrictions.AuthorizedParty = "web" }, reason: ReasonAZPMismatch, msg: "client_id claim"},
		{token: "good-opaque", prof: func(p *core.Profile) { p.ClientSecret = core.NewSecret("wrong") }, reason: ReasonIntrospectionUnavailable, msg: "client id and secret"},
		{token: "good-opaque", prof: func(p *core.Profile) { p.ClientSecret = core.Secret{} }, reason: ReasonOpaque, msg: "client secret"},
	} {
		p := prof
		if tt.prof != nil {
			tt.prof(&p)
		}
		r := v.Inspect(ctx, p, tt.token)
		if r.Reason != tt.reason || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%s: %s: %s", tt.token, r.Reason, r.Message)
		}
		if strings.Contains(r.Message, "s3cr3t") || strings.Contains(r.Message, "wrong") {
			t.Errorf("the message shows the secret: %s", r.Message)
		}
	}

	// No introspection endpoint at the provider.
	idp.doc.IntrospectionEndpoint = ""
	if r := v.Inspect(ctx, prof, "good-opaque"); r.Reason != ReasonOpaque || !strings.Contains(r.Message, "introspection_endpoint") {
		t.Errorf("no endpoint: %s: %s", r.Reason, r.Message)
	}
}
