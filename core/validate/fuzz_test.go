package validate

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
)

// FuzzValidate feeds arbitrary strings to the entry point: it must never
// panic, every refusal must carry a reason, a sentence and a status, and
// Validate (the raw claims) and Inspect (the claim map) must agree on the
// reason and, for a refusal, the message.
func FuzzValidate(f *testing.F) {
	clk := newFakeClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	rsaKey := newKey(f, "fz-rsa", "RS256")
	ecKey := newKey(f, "fz-ec", "ES256")
	edKey := newKey(f, "fz-ed", "EdDSA")
	idp := newIDP(f, "", rsaKey, ecKey, edKey)
	users := newMemUsers(core.User{Login: "svc", Roles: []string{"api"}})
	v := idp.validator(clk, users, idp.inProcess, func(c *Config) { c.Introspect = true })
	prof := testProfile("fuzz", "api")
	prof.ClientSecret = core.NewSecret("s3cr3t")
	prof.RoleMap = core.RoleMap{"realm_access.roles": {"admin": "admin"}, "roles": {"a": "b"}}
	prof.UserMap = core.UserMap{"email": core.UserEmail}
	prof.Restrictions.Scopes = []string{"read"}
	idp.introspect = func(token string) map[string]any {
		if token == "opaqueok" {
			return map[string]any{"active": true, "sub": "svc", "aud": "api", "scope": "read"}
		}
		return nil
	}
	now := clk.Now()
	claims := claimsAt(idp.doc.Issuer, "svc", "api", now, map[string]any{"scope": "read"})
	newUser := claimsAt(idp.doc.Issuer, "new", "api", now, map[string]any{
		"scope": "read", "email": "n@x.test", "realm_access": map[string]any{"roles": []any{"admin"}}})
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, seed := range []string{
		rsaKey.sign(f, claims),
		ecKey.sign(f, claims),
		edKey.sign(f, newUser),
		rsaKey.sign(f, claims, map[string]any{"alg": "PS256"}),
		rsaKey.sign(f, claims, map[string]any{"jwk": map[string]any{"kty": "RSA"}}),
		rsaKey.sign(f, claims, map[string]any{"crit": []any{"b64"}, "b64": false}),
		rsaKey.sign(f, claims, map[string]any{"nonce": "x"}),
		rsaKey.sign(f, claims, map[string]any{"kid": "unknown"}),
		rsaKey.sign(f, claims, map[string]any{"kid": nil}),
		rsaKey.sign(f, map[string]any{"exp": 1e300, "nbf": -5, "iat": "x", "aud": []any{1, nil}, "iss": 3}),
		b64(`{"alg":"none"}`) + "." + b64(`{"sub":"svc"}`) + ".",
		b64(`{"alg":"HS256"}`) + "." + b64(`{}`) + ".c2ln",
		b64(`{"alg":"RSA-OAEP","enc":"A128GCM"}`) + ".a.b.c.d",
		b64(`[]`) + "." + b64(`{}`) + ".",
		b64(`{"alg":"ES256","kid":"fz-ec"}`) + "." + b64(`null`) + ".AAAA",
		b64(`{"alg":"ES256","kid":"fz-ec"}`) + "." + b64(`{"iss":"`+idp.doc.Issuer+`"}`) + ".AAAA",
		"opaqueok", "opaque-bad", "", ".", "..", "a.b.c", "....", "\x00.\xff.\n",
		strings.Repeat("A", 20000),
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, token string) {
		in := v.Inspect(ctx, prof, token)
		r := v.Validate(ctx, prof, token)
		for _, res := range []*Result{in, r} {
			if res.Message == "" {
				t.Fatalf("no message (reason %q)", res.Reason)
			}
			switch st := res.Status(); {
			case res.Accepted() && st != 200:
				t.Fatalf("accepted with status %d", st)
			case !res.Accepted() && st != 401 && st != 403 && st != 500 && st != 503:
				t.Fatalf("reason %q: status %d", res.Reason, st)
			}
			if res.Accepted() && res.Login == "" {
				t.Fatal("accepted without a login")
			}
			www := res.WWWAuthenticate()
			if strings.ContainsAny(www, "\r\n\\") {
				t.Fatalf("WWW-Authenticate %q", www)
			}
		}
		if in.Reason != r.Reason || !r.Accepted() && in.Message != r.Message {
			t.Fatalf("Inspect says %q (%s), Validate %q (%s)", in.Reason, in.Message, r.Reason, r.Message)
		}
	})
}
