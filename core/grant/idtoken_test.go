package grant_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

// idClaims are the claims of a valid id_token for the web client.
func idClaims(op *oidctest.Provider, now time.Time) map[string]any {
	return map[string]any{
		"iss": op.Issuer,
		"sub": oidctest.UserID,
		"aud": []string{oidctest.WebClientID},
		"azp": oidctest.WebClientID,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
}

// signWith signs claims with key under the provider's kid and alg.
func signWith(t *testing.T, op *oidctest.Provider, alg jwa.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, op.KeyID())
	_ = hdr.Set(jws.TypeKey, "JWT")
	b, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIDTokenVerification(t *testing.T) {
	t.Parallel()
	e := setup(t)
	now, _ := fixedClock()
	e.c.Now = now
	a := e.passwordAccount("openid")
	ctx := ctxT(t)

	set, err := e.c.Obtain(ctx, e.web(), e.doc, a)
	if err != nil {
		t.Fatalf("the provider's own id_token: %v", err)
	}
	if !set.IDToken.IsSet() {
		t.Fatal("no id_token")
	}

	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sign := func(edit func(map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string {
			c := idClaims(e.op, now())
			edit(c)
			s, err := e.op.SignJWT(c)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	for _, tc := range []struct {
		name    string
		token   func(t *testing.T) string
		leeway  time.Duration
		wantErr string // "" for accepted
	}{
		{"valid", sign(func(map[string]any) {}), 0, ""},
		{"wrong audience", sign(func(c map[string]any) { c["aud"] = []string{"someone-else"}; delete(c, "azp") }), 0, "audience mismatch"},
		{"several audiences, other azp", sign(func(c map[string]any) { c["aud"] = []string{"web", "api"}; c["azp"] = "api" }), 0, "authorized party mismatch"},
		{"wrong issuer", sign(func(c map[string]any) { c["iss"] = "https://evil.example" }), 0, "issuer mismatch"},
		{"expired", sign(func(c map[string]any) { c["exp"] = now().Add(-10 * time.Second).Unix() }), 2 * time.Second, "expired at"},
		{"expired within leeway", sign(func(c map[string]any) { c["exp"] = now().Add(-time.Second).Unix() }), 2 * time.Second, ""},
		{"issued in the future", sign(func(c map[string]any) { c["iat"] = now().Add(time.Minute).Unix() }), 2 * time.Second, "issued in the future"},
		{"no exp", sign(func(c map[string]any) { delete(c, "exp") }), 0, "exp"},
		{"signed by another key", func(t *testing.T) string {
			return signWith(t, e.op, jwa.RS256(), otherKey, idClaims(e.op, now()))
		}, 0, "signature does not verify"},
		{"HS256 (alg confusion)", func(t *testing.T) string {
			return signWith(t, e.op, jwa.HS256(), []byte(oidctest.WebClientSecret), idClaims(e.op, now()))
		}, 0, `signed with "HS256"`},
		{"alg none", func(t *testing.T) string {
			enc := base64.RawURLEncoding.EncodeToString
			payload, _ := json.Marshal(idClaims(e.op, now()))
			return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
		}, 0, "id_token"},
		{"not a JWT", func(*testing.T) string { return "opaque-id-token" }, 0, "not a signed JWT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token(t)
			rewriteTokenResponse(e.op, func(m map[string]any) { m["id_token"] = tok })
			defer e.op.SetTokenMiddleware(nil)
			p := e.web()
			p.Misc.Leeway = tc.leeway
			set, err := e.c.Obtain(ctx, p, e.doc, a)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if set.IDToken.Reveal() != tok {
					t.Error("the id_token returned is not the one the provider sent")
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err)
			if !errors.Is(err, grant.ErrIDToken) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want ErrIDToken saying %q", err, tc.wantErr)
			}
			if set.AccessToken.IsSet() {
				t.Error("tokens returned with a refused id_token")
			}
			assertNoSecrets(t, "error", err.Error(), tok, oidctest.Password)
		})
	}
}

func TestIDTokenKeysHook(t *testing.T) {
	t.Parallel()
	e := setup(t)
	calls := 0
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	e.c.Keys = func(_ context.Context, p core.Profile, d *discovery.Document) (jwk.Set, error) {
		calls++
		k, err := jwk.Import(otherKey.Public())
		if err != nil {
			return nil, err
		}
		_ = k.Set(jwk.KeyIDKey, e.op.KeyID())
		_ = k.Set(jwk.AlgorithmKey, jwa.RS256())
		set := jwk.NewSet()
		_ = set.AddKey(k)
		return set, nil
	}
	_, err := e.c.Obtain(ctxT(t), e.web(), e.doc, e.passwordAccount("openid"))
	if calls != 1 || !errors.Is(err, grant.ErrIDToken) {
		t.Fatalf("Keys called %d times, err = %v: want the hook's keys used (and the provider's token refused)", calls, err)
	}
}

// TestIDTokenSameAlgorithmsAsValidate: id_tokens and incoming tokens go
// through one verification (package jws), so an alg that validate refuses
// is refused for an id_token too. Before, the id_token check had a list
// of its own that also took "Ed25519" (RFC 9864's fully-specified name),
// which incoming tokens never accepted.
func TestIDTokenSameAlgorithmsAsValidate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	now, _ := fixedClock()
	e.c.Now = now
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e.c.Keys = func(context.Context, core.Profile, *discovery.Document) (jwk.Set, error) {
		k, err := jwk.Import(pub)
		if err != nil {
			return nil, err
		}
		_ = k.Set(jwk.KeyIDKey, e.op.KeyID())
		set := jwk.NewSet()
		_ = set.AddKey(k)
		return set, nil
	}
	a := e.passwordAccount("openid")
	for _, tc := range []struct {
		alg     jwa.SignatureAlgorithm
		wantErr string // "" for accepted
	}{
		{jwa.EdDSA(), ""},
		{jwa.EdDSAEd25519(), `signed with "Ed25519"`},
	} {
		t.Run(tc.alg.String(), func(t *testing.T) {
			tok := signWith(t, e.op, tc.alg, priv, idClaims(e.op, now()))
			rewriteTokenResponse(e.op, func(m map[string]any) { m["id_token"] = tok })
			defer e.op.SetTokenMiddleware(nil)
			_, err := e.c.Obtain(ctxT(t), e.web(), e.doc, a)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (!errors.Is(err, grant.ErrIDToken) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want ErrIDToken saying %q", err, tc.wantErr)
			}
		})
	}
}

// TestIDTokenEntraIssuer: the id_token check has validate's issuer rule,
// so with the flavour entra a tenant's v1 issuer is accepted for a v2
// discovery document, as it is for access tokens; for another flavour,
// or another tenant, it is an issuer mismatch. Before, the id_token check
// had a rule of its own that knew nothing of Entra.
func TestIDTokenEntraIssuer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	now, _ := fixedClock()
	e.c.Now = now
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	doc := *e.doc
	doc.Issuer = "https://login.microsoftonline.com/" + tenant + "/v2.0"
	a := e.passwordAccount("openid")
	for _, tc := range []struct {
		name    string
		flavour core.Flavour
		iss     string
		wantErr string
	}{
		{"entra v1 issuer", core.FlavourEntra, "https://sts.windows.net/" + tenant + "/", ""},
		{"entra v2 issuer", core.FlavourEntra, doc.Issuer, ""},
		{"entra, another tenant", core.FlavourEntra, "https://sts.windows.net/00000000-0000-0000-0000-000000000000/", "issuer mismatch"},
		{"generic flavour", "", "https://sts.windows.net/" + tenant + "/", "issuer mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := idClaims(e.op, now())
			c["iss"], c["tid"] = tc.iss, tenant
			tok, err := e.op.SignJWT(c)
			if err != nil {
				t.Fatal(err)
			}
			rewriteTokenResponse(e.op, func(m map[string]any) { m["id_token"] = tok })
			defer e.op.SetTokenMiddleware(nil)
			p := e.web()
			p.Flavour = tc.flavour
			_, err = e.c.Obtain(ctxT(t), p, &doc, a)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (!errors.Is(err, grant.ErrIDToken) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want ErrIDToken saying %q", err, tc.wantErr)
			}
		})
	}
}
