package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/oidctest"
)

// TestIntrospectionPrivateKeyJWT: introspection authenticates a profile
// without a secret by a client assertion of its key, which the provider
// verifies: with the key registered it answers (active: false for a
// token it never issued), with an unknown key it refuses the client.
func TestIntrospectionPrivateKeyJWT(t *testing.T) {
	z := newZitadel(t)
	ctx := context.Background()
	p := z.prof
	p.ClientID, p.Introspect = oidctest.KeyClientID, true
	p.TokenAuthMethod, p.AssertionAudience = core.AuthPrivateKeyJWT, core.AudienceIssuer

	unknown, err := clientauth.Generate(core.KeyES256, p.ClientID, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.AddClientKey(unknown, false)
	if r := z.v.Inspect(ctx, p, "opaque-token-0123"); r.Reason != ReasonIntrospectionUnavailable || !strings.Contains(r.Message, "refused") {
		t.Fatalf("unregistered key: %s: %s", r.Reason, r.Message)
	}

	known, err := clientauth.Generate(core.KeyRS256, p.ClientID, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := clientauth.PublicJWKS([]core.ClientKey{known})
	if err != nil {
		t.Fatal(err)
	}
	if err := z.op.RegisterClientKeys(oidctest.KeyClientID, jwks); err != nil {
		t.Fatal(err)
	}
	p.AddClientKey(known, true)
	if r := z.v.Inspect(ctx, p, "opaque-token-0123"); r.Reason != ReasonInactive {
		t.Fatalf("registered key: %s: %s, want the provider's answer (inactive)", r.Reason, r.Message)
	}

	// Neither secret nor key nor certificate: refused before any request.
	p.ClientKeys, p.TokenAuthMethod = nil, ""
	if r := z.v.Inspect(ctx, p, "opaque-token-0123"); r.Reason != ReasonOpaque || !strings.Contains(r.Message, "client secret, client key or TLS client certificate") {
		t.Fatalf("no credentials: %s: %s", r.Reason, r.Message)
	}
}
