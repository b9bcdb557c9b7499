package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"oidcctl/core/dpop"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

const (
	apiURL = "https://api.example.org/tickets/42"
	token  = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
)

func newKey(t testing.TB) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func proof(t testing.TB, k *dpop.Key, method, u string, o dpop.ProofOptions) string {
	t.Helper()
	if o.Now.IsZero() {
		o.Now = t0
	}
	p, err := k.Proof(method, u, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// clock is a settable fake clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func verifier(c *clock) *dpop.Verifier {
	return dpop.NewVerifier(dpop.Config{Now: c.Now, MaxAge: time.Minute, Leeway: 5 * time.Second})
}

// wantRefusal checks that err is a refusal with reason (and code).
func wantRefusal(t *testing.T, err error, reason dpop.Reason, code string) {
	t.Helper()
	var e *dpop.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *dpop.Error with reason %s", err, reason)
	}
	if e.Reason != reason || e.Code != code {
		t.Fatalf("refused with %s/%s (%s), want %s/%s", e.Code, e.Reason, e.Message, code, reason)
	}
}

func TestVerifyAcceptsBoundProof(t *testing.T) {
	k := newKey(t)
	c := &clock{t0.Add(2 * time.Second)}
	p, err := verifier(c).Verify(dpop.Request{
		Proofs: []string{proof(t, k, "POST", apiURL+"?q=1#frag", dpop.ProofOptions{AccessToken: token})},
		Method: "POST", URL: apiURL + "?other=2", AccessToken: token, BoundTo: k.Thumbprint(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Thumbprint != k.Thumbprint() || p.HTM != "POST" || p.HTU != apiURL || !p.IssuedAt.Equal(t0) || p.Alg != "ES256" {
		t.Fatalf("proof = %+v", p)
	}
}

// TestVerifyRefusals covers every refusal path of RFC 9449 section 4.3
// and 7.1 that the verifier owns.
func TestVerifyRefusals(t *testing.T) {
	k, other := newKey(t), newKey(t)
	ok := func() dpop.Request {
		return dpop.Request{Proofs: []string{proof(t, k, "GET", apiURL, dpop.ProofOptions{AccessToken: token})},
			Method: "GET", URL: apiURL, AccessToken: token, BoundTo: k.Thumbprint()}
	}
	tests := []struct {
		name   string
		edit   func(*dpop.Request)
		reason dpop.Reason
	}{
		{"no proof", func(r *dpop.Request) { r.Proofs = nil }, dpop.ReasonMissing},
		{"two proofs", func(r *dpop.Request) { r.Proofs = append(r.Proofs, r.Proofs[0]) }, dpop.ReasonMultiple},
		{"not a JWT", func(r *dpop.Request) { r.Proofs = []string{"abc.def"} }, dpop.ReasonMalformed},
		{"wrong htm", func(r *dpop.Request) { r.Method = "POST" }, dpop.ReasonMethod},
		{"htm case differs", func(r *dpop.Request) {
			r.Proofs = []string{proof(t, k, "get", apiURL, dpop.ProofOptions{AccessToken: token})}
		}, dpop.ReasonMethod},
		{"wrong htu path", func(r *dpop.Request) { r.URL = "https://api.example.org/tickets/43" }, dpop.ReasonURL},
		{"wrong htu host", func(r *dpop.Request) { r.URL = "https://evil.example.org/tickets/42" }, dpop.ReasonURL},
		{"wrong htu scheme", func(r *dpop.Request) { r.URL = "http://api.example.org/tickets/42" }, dpop.ReasonURL},
		{"wrong htu port", func(r *dpop.Request) { r.URL = "https://api.example.org:8443/tickets/42" }, dpop.ReasonURL},
		{"iat too old", func(r *dpop.Request) {
			r.Proofs = []string{proof(t, k, "GET", apiURL, dpop.ProofOptions{AccessToken: token, Now: t0.Add(-66 * time.Second)})}
		}, dpop.ReasonTooOld},
		{"iat in the future", func(r *dpop.Request) {
			r.Proofs = []string{proof(t, k, "GET", apiURL, dpop.ProofOptions{AccessToken: token, Now: t0.Add(6 * time.Second)})}
		}, dpop.ReasonFuture},
		{"ath missing", func(r *dpop.Request) {
			r.Proofs = []string{proof(t, k, "GET", apiURL, dpop.ProofOptions{})}
		}, dpop.ReasonTokenHash},
		{"ath of another token", func(r *dpop.Request) { r.AccessToken = token + "x" }, dpop.ReasonTokenHash},
		{"wrong thumbprint", func(r *dpop.Request) { r.BoundTo = other.Thumbprint() }, dpop.ReasonThumbprint},
		{"proof by another key", func(r *dpop.Request) {
			r.Proofs = []string{proof(t, other, "GET", apiURL, dpop.ProofOptions{AccessToken: token})}
		}, dpop.ReasonThumbprint},
		{"token not bound", func(r *dpop.Request) { r.BoundTo = "" }, dpop.ReasonUnboundToken},
		{"tampered claims", func(r *dpop.Request) { r.Proofs = []string{tamper(r.Proofs[0])} }, dpop.ReasonSignature},
		{"symmetric alg HS256", func(r *dpop.Request) { r.Proofs = []string{hmacProof(t)} }, dpop.ReasonAlg},
		{"alg none", func(r *dpop.Request) { r.Proofs = []string{noneProof(t, k)} }, dpop.ReasonAlg},
		{"typ JWT", func(r *dpop.Request) {
			r.Proofs = []string{custom(t, map[string]any{"typ": "JWT"}, nil, nil)}
		}, dpop.ReasonType},
		{"private key in the header", func(r *dpop.Request) { r.Proofs = []string{custom(t, nil, nil, privateJWK(t))} }, dpop.ReasonKey},
		{"no jwk", func(r *dpop.Request) { r.Proofs = []string{custom(t, nil, nil, "none")} }, dpop.ReasonKey},
		{"jti missing", func(r *dpop.Request) {
			r.Proofs = []string{custom(t, nil, map[string]any{"jti": ""}, nil)}
		}, dpop.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok()
			tt.edit(&r)
			_, err := verifier(&clock{t0}).Verify(r)
			wantRefusal(t, err, tt.reason, dpop.CodeInvalidProof)
		})
	}
	// The unedited request passes, so each refusal above is the edit's.
	if _, err := verifier(&clock{t0}).Verify(ok()); err != nil {
		t.Fatalf("the base request is refused: %v", err)
	}
}

func TestVerifyReplayedJTI(t *testing.T) {
	k := newKey(t)
	c := &clock{t0}
	v := verifier(c)
	req := dpop.Request{Proofs: []string{proof(t, k, "GET", apiURL, dpop.ProofOptions{})}, Method: "GET", URL: apiURL}
	if _, err := v.Verify(req); err != nil {
		t.Fatal(err)
	}
	c.now = t0.Add(30 * time.Second)
	_, err := v.Verify(req)
	wantRefusal(t, err, dpop.ReasonReplay, dpop.CodeInvalidProof)
	// An inspection does not use a proof up.
	fresh := dpop.Request{Proofs: []string{proof(t, k, "GET", apiURL, dpop.ProofOptions{Now: c.now})}, Method: "GET", URL: apiURL, NoReplayCheck: true}
	for range 2 {
		if _, err := v.Verify(fresh); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyRefusalDoesNotUseJTI: a proof refused for another reason
// keeps its jti unused, so the replay cache holds only accepted proofs.
func TestVerifyRefusalDoesNotUseJTI(t *testing.T) {
	k := newKey(t)
	v := verifier(&clock{t0})
	p := proof(t, k, "GET", apiURL, dpop.ProofOptions{})
	if _, err := v.Verify(dpop.Request{Proofs: []string{p}, Method: "PUT", URL: apiURL}); err == nil {
		t.Fatal("wrong method accepted")
	}
	if _, err := v.Verify(dpop.Request{Proofs: []string{p}, Method: "GET", URL: apiURL}); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNormalisesHTU(t *testing.T) {
	k := newKey(t)
	for _, pair := range [][2]string{
		{"HTTPS://API.Example.ORG:443/tickets/%7e42", "https://api.example.org/tickets/~42"},
		{"http://api.example.org:80", "http://api.example.org/"},
		{"https://api.example.org/a%2fb", "https://api.example.org/a%2Fb"},
		{"http://[::1]:8080/x?y#z", "http://[::1]:8080/x"},
	} {
		req := dpop.Request{Proofs: []string{proof(t, k, "GET", pair[0], dpop.ProofOptions{})}, Method: "GET", URL: pair[1]}
		if _, err := verifier(&clock{t0}).Verify(req); err != nil {
			t.Errorf("htu %s against %s: %v", pair[0], pair[1], err)
		}
	}
}

func TestVerifyNonce(t *testing.T) {
	k := newKey(t)
	n, err := dpop.NewNonces(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t0}
	v := dpop.NewVerifier(dpop.Config{Now: c.Now, Nonces: n})
	req := func(nonce string) dpop.Request {
		return dpop.Request{Proofs: []string{proof(t, k, "GET", apiURL, dpop.ProofOptions{Nonce: nonce, Now: c.now})}, Method: "GET", URL: apiURL}
	}
	_, err = v.Verify(req(""))
	wantRefusal(t, err, dpop.ReasonNonce, dpop.CodeUseNonce)
	_, err = v.Verify(req("forged"))
	wantRefusal(t, err, dpop.ReasonNonce, dpop.CodeUseNonce)
	nonce := n.Issue(c.now)
	if _, err := v.Verify(req(nonce)); err != nil {
		t.Fatal(err)
	}
	c.now = c.now.Add(61 * time.Second)
	_, err = v.Verify(req(nonce))
	wantRefusal(t, err, dpop.ReasonNonce, dpop.CodeUseNonce)
	other, _ := dpop.NewNonces(time.Minute)
	_, err = v.Verify(req(other.Issue(c.now)))
	wantRefusal(t, err, dpop.ReasonNonce, dpop.CodeUseNonce)
}

// TestReplayCacheBounded: a full cache drops the entry closest to
// expiry and refuses proofs that old from then on, so no dropped jti can
// come back.
func TestReplayCacheBounded(t *testing.T) {
	c := &dpop.ReplayCache{Size: 2}
	now := t0
	if !c.Use("k", "a", now.Add(10*time.Second), now) || !c.Use("k", "b", now.Add(20*time.Second), now) {
		t.Fatal("fresh jti refused")
	}
	if !c.Use("k", "c", now.Add(30*time.Second), now) {
		t.Fatal("third jti refused")
	}
	if c.Len() != 2 {
		t.Fatalf("len %d, want 2", c.Len())
	}
	if c.Use("k", "a", now.Add(10*time.Second), now) {
		t.Fatal("the dropped jti a was accepted again")
	}
	if c.Use("k", "b", now.Add(20*time.Second), now) || c.Use("k", "c", now.Add(30*time.Second), now) {
		t.Fatal("a kept jti was accepted again")
	}
	// Entries go when they expire.
	later := now.Add(25 * time.Second)
	if !c.Use("k", "d", later.Add(10*time.Second), later) || c.Len() != 2 {
		t.Fatalf("after expiry: len %d", c.Len())
	}
	// The same jti of another key is another proof.
	if !c.Use("k2", "d", later.Add(11*time.Second), later) {
		t.Fatal("jti d of another key refused")
	}
}

func TestKeyRoundTrip(t *testing.T) {
	k := newKey(t)
	der, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := dpop.ParseKey(der)
	if err != nil {
		t.Fatal(err)
	}
	if k2.Thumbprint() != k.Thumbprint() || k2.Alg() != "ES256" {
		t.Fatalf("thumbprint %s alg %s, want %s ES256", k2.Thumbprint(), k2.Alg(), k.Thumbprint())
	}
	if strings.Contains(k.String(), string(der)) || !strings.Contains(k.String(), k.Thumbprint()) {
		t.Fatalf("String() = %q", k.String())
	}
	// The thumbprint is RFC 7638's, as jwx computes it from the JWK.
	js, _ := k.PublicJWK()
	pub, err := jwk.ParseKey(js)
	if err != nil {
		t.Fatal(err)
	}
	if private, _ := jwk.IsPrivateKey(pub); private {
		t.Fatal("PublicJWK has the private key")
	}
	if got := dpop.Thumbprint(pub); got != k.Thumbprint() {
		t.Fatalf("Thumbprint(jwk) = %s, want %s", got, k.Thumbprint())
	}
}

// tamper changes a character in the middle of the payload.
func tamper(p string) string {
	parts := strings.Split(p, ".")
	b := []byte(parts[1])
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	parts[1] = string(b)
	return strings.Join(parts, ".")
}

func claimsJSON(t *testing.T, edit map[string]any) []byte {
	t.Helper()
	c := map[string]any{"jti": "j-" + t.Name(), "htm": "GET", "htu": apiURL, "iat": t0.Unix(), "ath": dpop.TokenHash(token)}
	for k, v := range edit {
		c[k] = v
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func hmacProof(t *testing.T) string {
	t.Helper()
	secret := make([]byte, 32)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, dpop.ProofType)
	sym, err := jwk.Import(secret)
	if err != nil {
		t.Fatal(err)
	}
	_ = hdr.Set(jws.JWKKey, sym)
	s, err := jws.Sign(claimsJSON(t, nil), jws.WithKey(jwa.HS256(), secret, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

func noneProof(t *testing.T, k *dpop.Key) string {
	t.Helper()
	pub, _ := k.PublicJWK()
	h, _ := json.Marshal(map[string]any{"typ": dpop.ProofType, "alg": "none", "jwk": json.RawMessage(pub)})
	return b64(h) + "." + b64(claimsJSON(t, nil)) + ".c2ln"
}

// custom signs a proof with a fresh P-256 key: header fields as given
// (jwkOverride "none" leaves jwk out, a jwk.Key replaces it).
func custom(t *testing.T, hdrEdit map[string]any, claimEdit map[string]any, jwkOverride any) string {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := jwk.Import(priv.Public())
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, dpop.ProofType)
	switch o := jwkOverride.(type) {
	case nil:
		_ = hdr.Set(jws.JWKKey, pub)
	case jwk.Key:
		_ = hdr.Set(jws.JWKKey, o)
	}
	for k, v := range hdrEdit {
		_ = hdr.Set(k, v)
	}
	s, err := jws.Sign(claimsJSON(t, claimEdit), jws.WithKey(jwa.ES256(), priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

func privateJWK(t *testing.T) jwk.Key {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, err := jwk.Import(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
