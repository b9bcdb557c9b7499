package validate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/jwks"
	"oidcctl/core/jws"
	"oidcctl/internal/testkit"
)

// newFakeClock returns a frozen test clock at t, to the second.
func newFakeClock(t time.Time) *testkit.Clock { return testkit.Frozen(t.Truncate(time.Second)) }

// memUsers is an in-memory core.UserStore that counts its use.
type memUsers struct {
	mu      sync.Mutex
	users   map[string]core.User
	reads   int
	writes  int
	failErr error // every call fails with it when set
}

func newMemUsers(users ...core.User) *memUsers {
	m := &memUsers{users: map[string]core.User{}}
	for _, u := range users {
		m.users[u.Login] = u
	}
	return m
}

func (m *memUsers) User(_ context.Context, login string) (core.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.failErr != nil {
		return core.User{}, m.failErr
	}
	u, ok := m.users[login]
	if !ok {
		return core.User{}, &core.NotFoundError{Kind: "user", Name: login}
	}
	u.Roles = slices.Clone(u.Roles)
	return u, nil
}

func (m *memUsers) Users(context.Context) ([]core.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []core.User
	for _, u := range m.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b core.User) int { return compareStrings(a.Login, b.Login) })
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (m *memUsers) CreateUser(_ context.Context, u core.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	if m.failErr != nil {
		return m.failErr
	}
	if _, ok := m.users[u.Login]; ok {
		return &core.ExistsError{Kind: "user", Name: u.Login}
	}
	u.Roles = slices.Clone(u.Roles)
	m.users[u.Login] = u
	return nil
}

func (m *memUsers) UpdateUser(_ context.Context, login string, fn func(*core.User) error) (core.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	u, ok := m.users[login]
	if !ok {
		return core.User{}, &core.NotFoundError{Kind: "user", Name: login}
	}
	u.Roles = slices.Clone(u.Roles)
	if err := fn(&u); err != nil {
		return core.User{}, err
	}
	m.users[login] = u
	return u, nil
}

func (m *memUsers) DeleteUser(_ context.Context, login string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[login]; !ok {
		return &core.NotFoundError{Kind: "user", Name: login}
	}
	delete(m.users, login)
	return nil
}

func (m *memUsers) get(login string) (core.User, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[login]
	return u, ok
}

func (m *memUsers) counts() (reads, writes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads, m.writes
}

// staticDiscovery hands out one document and counts the calls.
type staticDiscovery struct {
	doc   *discovery.Document
	calls atomic.Int64
	err   error
}

func (s *staticDiscovery) Get(context.Context, core.Profile) (*discovery.Document, error) {
	s.calls.Add(1)
	if s.err != nil {
		return nil, s.err
	}
	return s.doc, nil
}

// testKey is a signing key of a test provider.
type testKey struct {
	kid  string
	alg  string
	priv crypto.Signer
	// hideAlg leaves alg out of the published JWK.
	hideAlg bool
}

var (
	keyMu    sync.Mutex
	keyCache = map[string]crypto.Signer{}
)

// newKey returns a key for alg, made once per test binary and name (RSA
// keys are slow to make).
func newKey(t testing.TB, name, alg string) testKey {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	id := name + "/" + alg
	priv, ok := keyCache[id]
	if !ok {
		var err error
		switch alg[:2] {
		case "RS", "PS":
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		case "ES":
			curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
			priv, err = ecdsa.GenerateKey(curve, rand.Reader)
		case "Ed":
			_, priv, err = ed25519.GenerateKey(rand.Reader)
		}
		if err != nil {
			t.Fatal(err)
		}
		keyCache[id] = priv
	}
	return testKey{kid: name, alg: alg, priv: priv}
}

func (k testKey) jwk(t testing.TB) jwk.Key {
	t.Helper()
	j, err := jwk.Import(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	_ = j.Set(jwk.KeyIDKey, k.kid)
	if !k.hideAlg {
		_ = j.Set(jwk.AlgorithmKey, k.alg)
	}
	_ = j.Set(jwk.KeyUsageKey, "sig")
	return j
}

// sign makes a compact JWS with the key's alg and kid, unless the header
// says otherwise.
func (k testKey) sign(t testing.TB, claims map[string]any, extraHeader ...map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": k.alg, "kid": k.kid, "typ": "JWT"}
	for _, e := range extraHeader {
		for name, v := range e {
			if v == nil {
				delete(h, name)
			} else {
				h[name] = v
			}
		}
	}
	input := b64part(t, h) + "." + b64part(t, claims)
	alg, _ := h["alg"].(string)
	return input + "." + base64.RawURLEncoding.EncodeToString(signRaw(t, k.priv, alg, []byte(input)))
}

func b64part(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func signRaw(t testing.TB, priv crypto.Signer, alg string, input []byte) []byte {
	t.Helper()
	a, ok := jws.Algorithms[alg]
	if !ok {
		t.Fatalf("sign: alg %s", alg)
	}
	var digest []byte
	if a.Hash != 0 {
		h := a.Hash.New()
		h.Write(input)
		digest = h.Sum(nil)
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		var sig []byte
		var err error
		if a.PSS {
			sig, err = rsa.SignPSS(rand.Reader, k, a.Hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, a.Hash, digest)
		}
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input)
	}
	t.Fatalf("sign: key %T", priv)
	return nil
}

// hs256 signs with HMAC-SHA256, as an attacker would with a public key.
func hs256(t testing.TB, header, claims map[string]any, secret []byte) string {
	input := b64part(t, header) + "." + b64part(t, claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// idp is a provider made of an httptest server: a JWKS whose keys tests
// change (requests counted) and an introspection endpoint.
type idp struct {
	srv        *httptest.Server
	doc        *discovery.Document
	jwksHits   atomic.Int64
	introHits  atomic.Int64
	mu         sync.Mutex
	keys       []jwk.Key
	down       bool
	introspect func(token string) map[string]any
}

// newIDP starts a provider whose discovery document says issuer (the
// server's URL when "").
func newIDP(t testing.TB, issuer string, keys ...testKey) *idp {
	p := &idp{}
	p.setKeys(t, keys...)
	mux := http.NewServeMux()
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		down := p.down
		set := jwk.NewSet()
		for _, k := range p.keys {
			_ = set.AddKey(k)
		}
		p.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		body, _ := json.Marshal(p.doc)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/introspect", func(w http.ResponseWriter, r *http.Request) {
		p.introHits.Add(1)
		id, secret, _ := r.BasicAuth()
		if id != "api" || secret != "s3cr3t" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		fn := p.introspect
		p.mu.Unlock()
		resp := map[string]any{"active": false}
		if fn != nil {
			if got := fn(r.PostFormValue("token")); got != nil {
				resp = got
			}
		}
		_ = json.NewEncoder(w).Encode(resp)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	if issuer == "" {
		issuer = p.srv.URL
	}
	p.doc = &discovery.Document{
		Issuer:                issuer,
		JWKSURI:               p.srv.URL + "/keys",
		TokenEndpoint:         p.srv.URL + "/token",
		IntrospectionEndpoint: p.srv.URL + "/introspect",
	}
	return p
}

func (p *idp) setKeys(t testing.TB, keys ...testKey) {
	var jwks []jwk.Key
	for _, k := range keys {
		jwks = append(jwks, k.jwk(t))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = jwks
}

// validator returns a validator for the provider with a fake clock; with
// changes its Config before New.
func (p *idp) validator(clk *testkit.Clock, users core.UserStore, with ...func(*Config)) *Validator {
	cfg := Config{
		Discovery: &staticDiscovery{doc: p.doc},
		Keys:      &jwks.Cache{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)},
		Users:     users,
		Now:       clk.Now,
	}
	for _, f := range with {
		f(&cfg)
	}
	return New(cfg)
}

// resultTTL sets Config.ResultTTL.
func resultTTL(d time.Duration) func(*Config) {
	return func(c *Config) { c.ResultTTL = d }
}

// profile returns a profile for the provider.
func testProfile(name, clientID string) core.Profile {
	p := core.NewProfile(name)
	p.ClientID = clientID
	p.DiscoveryURL = "https://idp.example/.well-known/openid-configuration"
	return p
}

// claimsAt returns claims valid at now.
func claimsAt(iss, sub, aud string, now time.Time, extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": iss, "sub": sub, "aud": aud,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// ecdsaBare verifies an ES signature the way crypto/ecdsa wants it.
func ecdsaBare(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	size := len(sig) / 2
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	return ecdsa.Verify(pub, digest, r, s)
}

var errStore = errors.New("disk on fire")

func fmtJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// handlerTransport serves requests in-process, without sockets.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// inProcess points the validator's HTTP at the provider's handler
// directly.
func (p *idp) inProcess(c *Config) {
	hc := &http.Client{Transport: handlerTransport{p.srv.Config.Handler}}
	c.HTTPClient = func(core.Profile) (*http.Client, error) { return hc, nil }
	c.Keys.HTTPClient = c.HTTPClient
}
