package grant_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

// keyProfile returns a profile of the private_key_jwt client with a new
// key of alg (with a self-signed certificate when cert is set),
// registered at the provider when register is set.
func (e *env) keyProfile(t *testing.T, alg string, cert, register bool) (core.Profile, core.ClientKey) {
	t.Helper()
	p := profile(e.op, oidctest.KeyClientID, "")
	p.TokenAuthMethod, p.AssertionAudience = core.AuthPrivateKeyJWT, core.AudienceIssuer
	k := newKey(t, alg, cert)
	p.AddClientKey(k, false)
	if register {
		e.register(t, k)
	}
	return p, k
}

func newKey(t *testing.T, alg string, cert bool) core.ClientKey {
	t.Helper()
	k, err := clientauth.Generate(alg, oidctest.KeyClientID, cert, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// register registers keys at the provider from the JWKS that profile
// keygen prints.
func (e *env) register(t *testing.T, keys ...core.ClientKey) {
	t.Helper()
	jwks, err := clientauth.PublicJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.op.RegisterClientKeys(oidctest.KeyClientID, jwks); err != nil {
		t.Fatal(err)
	}
}

// lastAssertion returns the header and claims of the client assertion of
// the provider's last token request, failing when the request carried a
// client secret or none.
func (e *env) lastAssertion(t *testing.T) (jws.Headers, jwt.Token) {
	t.Helper()
	reqs := e.op.TokenRequests()
	if len(reqs) == 0 {
		t.Fatal("no token request")
	}
	form := reqs[len(reqs)-1]
	if form.Get("client_secret") != "" || form.Get("client_assertion_type") != clientauth.AssertionType {
		t.Fatalf("token request form %v: want a client assertion and no secret", form)
	}
	raw := form.Get("client_assertion")
	msg, err := jws.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("client assertion: %v", err)
	}
	tok, err := jwt.ParseInsecure([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.Signatures()[0].ProtectedHeaders(), tok
}

// TestPrivateKeyJWT: a profile with a client key authenticates every call
// by a signed client assertion that zitadel's provider verifies against
// the registered public key: client_credentials, device authorization,
// the device_code grant, refresh and revocation.
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithDevicePollInterval(time.Second))
	p, k := e.keyProfile(t, core.KeyES256, false, true)

	t.Run("client_credentials", func(t *testing.T) {
		set, err := e.c.Obtain(ctxT(t), p, e.doc, account("svc", core.GrantClientCredentials))
		if err != nil {
			t.Fatal(err)
		}
		if !set.AccessToken.IsSet() {
			t.Fatal("no access token")
		}
		hdr, tok := e.lastAssertion(t)
		iss, _ := tok.Issuer()
		sub, _ := tok.Subject()
		aud, _ := tok.Audience()
		jti, _ := tok.JwtID()
		iat, _ := tok.IssuedAt()
		exp, _ := tok.Expiration()
		kid, _ := hdr.KeyID()
		if iss != oidctest.KeyClientID || sub != iss || len(aud) != 1 || aud[0] != e.op.Issuer || jti == "" ||
			exp.Sub(iat) != clientauth.AssertionLifetime || kid != k.ID {
			t.Errorf("assertion iss %q sub %q aud %v jti %q iat %v exp %v kid %q", iss, sub, aud, jti, iat, exp, kid)
		}
		if _, ok := hdr.X509CertThumbprintS256(); ok {
			t.Error("x5t#S256 without a certificate")
		}
	})

	t.Run("device, refresh and revocation", func(t *testing.T) {
		a := account("person", core.GrantAuthorizationCode, "openid", "offline_access")
		f, err := e.c.StartDevice(ctxT(t), p, e.doc, a)
		if err != nil {
			t.Fatalf("device authorization: %v", err)
		}
		if err := e.op.ApproveDevice(f.UserCode, e.op.Username()); err != nil {
			t.Fatal(err)
		}
		set, err := f.Wait(ctxT(t))
		if err != nil {
			t.Fatalf("device_code grant: %v", err)
		}
		e.lastAssertion(t)
		if !set.RefreshToken.IsSet() {
			t.Fatal("no refresh token")
		}
		refreshed, err := e.c.Refresh(ctxT(t), p, e.doc, a, set.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		_, first := e.lastAssertion(t)
		if err := e.c.Revoke(ctxT(t), p, e.doc, refreshed.RefreshToken, "refresh_token"); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		revoke := e.op.RevocationRequests()
		if form := revoke[len(revoke)-1]; form.Get("client_assertion") == "" || form.Get("client_secret") != "" {
			t.Errorf("revocation form %v: want a client assertion", form)
		}
		if _, err := e.c.Refresh(ctxT(t), p, e.doc, a, refreshed.RefreshToken); !errors.Is(err, grant.ErrInvalidGrant) {
			t.Fatalf("refresh with the revoked token: %v, want invalid_grant", err)
		}
		// Each request has an assertion of its own.
		_, second := e.lastAssertion(t)
		j1, _ := first.JwtID()
		j2, _ := second.JwtID()
		if j1 == j2 {
			t.Errorf("two requests used the same jti %q", j1)
		}
	})
}

// TestPrivateKeyJWTRefusals: the provider refuses an expired assertion and
// one signed with a key it does not know; a provider that does not list
// private_key_jwt is not sent one, and the error says what it supports.
func TestPrivateKeyJWTRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	svc := account("svc", core.GrantClientCredentials)

	t.Run("expired assertion", func(t *testing.T) {
		p, _ := e.keyProfile(t, core.KeyRS256, false, true)
		c := *e.c
		c.Now = func() time.Time { return time.Now().Add(-2 * clientauth.AssertionLifetime) }
		_, err := c.Obtain(ctxT(t), p, e.doc, svc)
		var pe *grant.ProviderError
		if !errors.As(err, &pe) || pe.Code != "invalid_client" || !strings.Contains(pe.Description, "expired") {
			t.Fatalf("expired assertion: %v, want invalid_client naming the expiry", err)
		}
		// The same key with the right clock works: the clock was the fault.
		if _, err := e.c.Obtain(ctxT(t), p, e.doc, svc); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("unknown key", func(t *testing.T) {
		p, _ := e.keyProfile(t, core.KeyES256, false, false)
		_, err := e.c.Obtain(ctxT(t), p, e.doc, svc)
		var pe *grant.ProviderError
		if !errors.As(err, &pe) || pe.Code != "invalid_client" || !strings.Contains(pe.Description, "not registered") {
			t.Fatalf("unregistered key: %v, want invalid_client", err)
		}
	})

	t.Run("unknown key at the other endpoints", func(t *testing.T) {
		p, _ := e.keyProfile(t, core.KeyES256, false, false)
		a := account("person", core.GrantAuthorizationCode, "openid")
		if _, err := e.c.StartDevice(ctxT(t), p, e.doc, a); err == nil {
			t.Error("device authorization with an unregistered key was accepted")
		}
		// zitadel answers invalid_grant here, naming the key.
		if _, err := e.c.Refresh(ctxT(t), p, e.doc, a, core.NewSecret("some-refresh-token")); err == nil || !strings.Contains(err.Error(), "not registered") {
			t.Errorf("refresh with an unregistered key: %v, want the assertion refused", err)
		}
	})

	t.Run("not supported by the provider", func(t *testing.T) {
		p, _ := e.keyProfile(t, core.KeyES256, false, true)
		d := *e.doc
		d.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post"}
		before := len(e.op.TokenRequests())
		_, err := e.c.Obtain(ctxT(t), p, &d, svc)
		if err == nil || !strings.Contains(err.Error(), "supports only client_secret_basic, client_secret_post") {
			t.Fatalf("err = %v, want one naming the provider's methods", err)
		}
		if n := len(e.op.TokenRequests()); n != before {
			t.Errorf("%d token requests sent to a provider that does not take the method", n-before)
		}
		// Chosen by default (keys, no secret), the same.
		p.TokenAuthMethod = ""
		if _, err := e.c.Obtain(ctxT(t), p, &d, svc); err == nil || !strings.Contains(err.Error(), "supports only") {
			t.Fatalf("default method: err = %v", err)
		}
	})

	t.Run("no key yet", func(t *testing.T) {
		p := profile(e.op, oidctest.KeyClientID, "")
		p.TokenAuthMethod = core.AuthPrivateKeyJWT
		_, err := e.c.Obtain(ctxT(t), p, e.doc, svc)
		if !errors.Is(err, clientauth.ErrNoKey) || !strings.Contains(err.Error(), "oidcctl profile keygen test") {
			t.Fatalf("err = %v, want ErrNoKey with the keygen command", err)
		}
	})
}

// TestClientKeyRollover: a new key signs at once; the old one is kept
// (and stays in the printed JWKS) until it is retired, so that the
// administrator registers the new key before the old one goes.
func TestClientKeyRollover(t *testing.T) {
	t.Parallel()
	e := setup(t)
	svc := account("svc", core.GrantClientCredentials)
	p, old := e.keyProfile(t, core.KeyES256, false, true)
	next := newKey(t, core.KeyRS256, true)
	p.AddClientKey(next, false)

	jwks, err := clientauth.PublicJWKS(p.ClientKeys)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(jwks), old.ID) || !strings.Contains(string(jwks), next.ID) || strings.Contains(string(jwks), `"d"`) {
		t.Fatalf("JWKS during rollover: %s", jwks)
	}
	// Not registered yet: refused, and nothing falls back to the old key.
	if _, err := e.c.Obtain(ctxT(t), p, e.doc, svc); err == nil {
		t.Fatal("the new key signed before it was registered, and the provider took it")
	}
	e.register(t, next)
	if _, err := e.c.Obtain(ctxT(t), p, e.doc, svc); err != nil {
		t.Fatal(err)
	}
	hdr, _ := e.lastAssertion(t)
	kid, _ := hdr.KeyID()
	alg, _ := hdr.Algorithm()
	x5t, _ := hdr.X509CertThumbprintS256()
	block, _ := pem.Decode([]byte(next.Certificate))
	sum := sha256.Sum256(block.Bytes)
	if kid != next.ID || alg.String() != "RS256" || x5t != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("assertion header kid %q alg %v x5t#S256 %q: want the new key's, with its certificate's thumbprint", kid, alg, x5t)
	}
	if n := p.RetireClientKeys(); n != 1 || len(p.ClientKeys) != 1 || p.ClientKeys[0].ID != next.ID {
		t.Fatalf("retire: %d dropped, keys %v", n, p.ClientKeys)
	}
}
