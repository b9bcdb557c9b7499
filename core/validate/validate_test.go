package validate

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/jwks"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// countingTransport counts requests per path.
type countingTransport struct {
	base http.RoundTripper
	jwks atomic.Int64
	path string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == c.path {
		c.jwks.Add(1)
	}
	return c.base.RoundTrip(r)
}

// zitadel is the in-process provider with a validator for it.
type zitadel struct {
	op    *oidctest.Provider
	clk   *testkit.Clock
	v     *Validator
	users *memUsers
	hits  *countingTransport
	prof  core.Profile
}

func newZitadel(t *testing.T) *zitadel {
	op := oidctest.Start(t)
	clk := newFakeClock(time.Now())
	u, _ := url.Parse(op.JWKSURL)
	hits := &countingTransport{base: http.DefaultTransport, path: u.Path}
	hc := &http.Client{Transport: hits, Timeout: 10 * time.Second}
	discard := slog.New(slog.DiscardHandler)
	users := newMemUsers(core.User{Login: oidctest.ServiceClientID, Roles: []string{"api"}})
	v := New(Config{
		Discovery: &discovery.Client{Now: clk.Now, Logger: discard},
		Keys: &jwks.Cache{Now: clk.Now, Logger: discard,
			HTTPClient: func(core.Profile) (*http.Client, error) { return hc, nil }},
		Users:     users,
		Now:       clk.Now,
		ResultTTL: -1,
	})
	p := core.NewProfile("zitadel")
	p.DiscoveryURL = op.DiscoveryURL
	p.ClientID = oidctest.ServiceClientID
	return &zitadel{op: op, clk: clk, v: v, users: users, hits: hits, prof: p}
}

// clientCredentials gets a JWT access token from the provider.
func (z *zitadel) clientCredentials(t *testing.T, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, z.op.TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oidctest.ServiceClientID, oidctest.ServiceClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || strings.Count(tr.AccessToken, ".") != 2 {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tr.AccessToken
}

// claims are claims like the provider's own, valid now.
func (z *zitadel) claims(extra map[string]any) map[string]any {
	return claimsAt(z.op.Issuer, oidctest.ServiceClientID, oidctest.ServiceClientID, z.clk.Now(),
		merge(map[string]any{"scope": "openid read", "client_id": oidctest.ServiceClientID}, extra))
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (z *zitadel) signed(t *testing.T, extra map[string]any) string {
	t.Helper()
	tok, err := z.op.SignJWT(z.claims(extra))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// header replaces the header of a token, keeping payload and signature.
func withHeader(t *testing.T, token string, h map[string]any) string {
	parts := strings.Split(token, ".")
	return b64part(t, h) + "." + parts[1] + "." + parts[2]
}

// TestRefusals is the table of bad tokens: each is refused with a
// reason of its own, from the real provider where it can issue the token,
// from keys of the test's own where it cannot.
func TestRefusals(t *testing.T) {
	z := newZitadel(t)
	ctx := context.Background()
	good := z.clientCredentials(t, "openid read")
	if r := z.v.Validate(ctx, z.prof, good); !r.Accepted() {
		t.Fatalf("the provider's own token: %s: %s", r.Reason, r.Message)
	}
	kid := z.op.KeyID()
	rogue := newKey(t, "rogue", "RS256")
	rogue.kid = kid // claims to be the provider's key
	pubDER, _ := x509.MarshalPKIXPublicKey(z.op.PublicKey())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	now := z.clk.Now()
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	goodParts := strings.Split(good, ".")
	rogueJWK, _ := json.Marshal(rogue.jwk(t))

	tests := []struct {
		name    string
		token   func() string
		prof    func(*core.Profile)
		reason  Reason
		status  int
		message string // a piece of the message
	}{
		{name: "no token", token: func() string { return "" }, reason: ReasonMissing, status: 401, message: "Authorization: Bearer"},
		{name: "alg none", token: func() string {
			return b64(`{"alg":"none","typ":"JWT"}`) + "." + goodParts[1] + "."
		}, reason: ReasonAlgNone, status: 401, message: "not signed"},
		{name: "alg None in other case", token: func() string {
			return b64(`{"alg":"NONE"}`) + "." + goodParts[1] + "."
		}, reason: ReasonAlgNone, status: 401},
		{name: "HS256 with the RSA public key as secret", token: func() string {
			return hs256(t, map[string]any{"alg": "HS256", "kid": kid, "typ": "JWT"}, z.claims(nil), pubPEM)
		}, reason: ReasonAlgNotAllowed, status: 401, message: "HMAC"},
		{name: "unknown alg", token: func() string {
			return withHeader(t, good, map[string]any{"alg": "RS1", "kid": kid})
		}, reason: ReasonAlgNotAllowed, status: 401, message: "RS256"},
		{name: "embedded jwk", token: func() string {
			return rogue.sign(t, z.claims(nil), map[string]any{"jwk": json.RawMessage(rogueJWK)})
		}, reason: ReasonEmbeddedKey, status: 401, message: "jwk"},
		{name: "embedded jku", token: func() string {
			return rogue.sign(t, z.claims(nil), map[string]any{"jku": "https://evil.example/keys"})
		}, reason: ReasonEmbeddedKey, status: 401, message: "jku"},
		{name: "embedded x5c", token: func() string {
			return rogue.sign(t, z.claims(nil), map[string]any{"x5c": []string{"MIIB"}})
		}, reason: ReasonEmbeddedKey, status: 401, message: "x5c"},
		{name: "embedded x5u", token: func() string {
			return rogue.sign(t, z.claims(nil), map[string]any{"x5u": "https://evil.example/cert"})
		}, reason: ReasonEmbeddedKey, status: 401},
		{name: "crit", token: func() string {
			return withHeader(t, good, map[string]any{"alg": "RS256", "kid": kid, "crit": []string{"exp"}, "exp": 1})
		}, reason: ReasonCritUnsupported, status: 401, message: "crit"},
		{name: "signed by someone else with the provider's kid", token: func() string {
			return rogue.sign(t, z.claims(nil))
		}, reason: ReasonBadSignature, status: 401, message: "does not verify"},
		{name: "payload changed after signing", token: func() string {
			return goodParts[0] + "." + b64part(t, z.claims(map[string]any{"sub": "admin"})) + "." + goodParts[2]
		}, reason: ReasonBadSignature, status: 401},
		{name: "ES256 header on the provider's RSA key", token: func() string {
			return withHeader(t, good, map[string]any{"alg": "ES256", "kid": kid})
		}, reason: ReasonKeyMismatch, status: 401, message: "published for RS256 only"},
		{name: "RS384 on a key published for RS256", token: func() string {
			return withHeader(t, good, map[string]any{"alg": "RS384", "kid": kid})
		}, reason: ReasonKeyMismatch, status: 401, message: "RS256"},
		{name: "expired", token: func() string {
			return z.signed(t, map[string]any{"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix(), "nbf": nil})
		}, reason: ReasonExpired, status: 401, message: "expired"},
		{name: "expired beyond leeway by a second", token: func() string {
			return z.signed(t, map[string]any{"exp": now.Add(-3 * time.Second).Unix()})
		}, reason: ReasonExpired, status: 401},
		{name: "no exp", token: func() string { return z.signed(t, map[string]any{"exp": nil}) }, reason: ReasonNoExpiry, status: 401},
		{name: "exp not a number", token: func() string { return z.signed(t, map[string]any{"exp": "tomorrow"}) }, reason: ReasonMalformed, status: 401},
		{name: "nbf in the future beyond leeway", token: func() string {
			return z.signed(t, map[string]any{"nbf": now.Add(10 * time.Second).Unix()})
		}, reason: ReasonNotYetValid, status: 401, message: "Leeway"},
		{name: "nbf in the future within leeway", token: func() string {
			return z.signed(t, map[string]any{"nbf": now.Add(time.Second).Unix()})
		}},
		{name: "iat in the future", token: func() string {
			return z.signed(t, map[string]any{"iat": now.Add(time.Minute).Unix(), "nbf": nil})
		}, reason: ReasonIssuedInFuture, status: 401},
		{name: "wrong iss", token: func() string { return z.signed(t, map[string]any{"iss": "https://evil.example"}) },
			reason: ReasonIssuerMismatch, status: 401, message: `"https://evil.example"`},
		{name: "iss with a trailing slash", token: func() string { return z.signed(t, map[string]any{"iss": z.op.Issuer + "/"}) },
			reason: ReasonIssuerMismatch, status: 401, message: "trailing slash"},
		{name: "no iss", token: func() string { return z.signed(t, map[string]any{"iss": nil}) }, reason: ReasonIssuerMismatch, status: 401},
		{name: "wrong aud", token: func() string { return z.signed(t, map[string]any{"aud": []string{"billing"}}) },
			reason: ReasonAudienceMismatch, status: 401, message: "client id"},
		{name: "aud lacks a required audience", token: func() string { return z.good(t) },
			prof:   func(p *core.Profile) { p.Restrictions.Audiences = []string{oidctest.ServiceClientID, "tickets"} },
			reason: ReasonAudienceMismatch, status: 401, message: `"tickets"`},
		{name: "all required audiences", token: func() string {
			return z.signed(t, map[string]any{"aud": []string{"tickets", "sid1"}})
		}, prof: func(p *core.Profile) { p.Restrictions.Audiences = []string{"tickets"} }},
		{name: "missing scope", token: func() string { return good },
			prof:   func(p *core.Profile) { p.Restrictions.Scopes = []string{"read", "admin"} },
			reason: ReasonScopeMissing, status: 403, message: `"admin"`},
		{name: "no scope claim at all", token: func() string { return z.signed(t, map[string]any{"scope": nil}) },
			prof:   func(p *core.Profile) { p.Restrictions.Scopes = []string{"read"} },
			reason: ReasonScopeMissing, status: 403, message: "no scope"},
		{name: "scope granted", token: func() string { return good },
			prof: func(p *core.Profile) { p.Restrictions.Scopes = []string{"read", "openid"} }},
		{name: "wrong azp", token: func() string { return z.signed(t, map[string]any{"azp": "sid1"}) },
			prof:   func(p *core.Profile) { p.Restrictions.AuthorizedParty = "web" },
			reason: ReasonAZPMismatch, status: 401, message: `"web"`},
		{name: "no azp", token: func() string { return good },
			prof:   func(p *core.Profile) { p.Restrictions.AuthorizedParty = "sid1" },
			reason: ReasonAZPMismatch, status: 401, message: "no azp"},
		{name: "right azp", token: func() string { return z.signed(t, map[string]any{"azp": "web"}) },
			prof: func(p *core.Profile) { p.Restrictions.AuthorizedParty = "web" }},
		{name: "wrong UserLogin", token: func() string { return good },
			prof:   func(p *core.Profile) { p.Restrictions.UserLogin = "someone-else" },
			reason: ReasonUserLoginMismatch, status: 403, message: `"someone-else"`},
		{name: "right UserLogin", token: func() string { return good },
			prof: func(p *core.Profile) { p.Restrictions.UserLogin = oidctest.ServiceClientID }},
		{name: "no UID claim", token: func() string { return good },
			prof:   func(p *core.Profile) { p.UIDClaim = "preferred_username" },
			reason: ReasonNoUID, status: 403, message: "preferred_username"},
		{name: "three-part garbage", token: func() string { return "abc.def.ghi" }, reason: ReasonMalformed, status: 401},
		{name: "two parts", token: func() string { return goodParts[0] + "." + goodParts[1] }, reason: ReasonMalformed, status: 401, message: "2 dot-separated parts"},
		{name: "bad base64", token: func() string { return "eyJ!!!." + goodParts[1] + "." + goodParts[2] }, reason: ReasonMalformed, status: 401, message: "base64"},
		{name: "padded base64", token: func() string { return goodParts[0] + "==." + goodParts[1] + "." + goodParts[2] }, reason: ReasonMalformed, status: 401},
		{name: "bad base64 in the signature", token: func() string { return goodParts[0] + "." + goodParts[1] + ".%%%" }, reason: ReasonMalformed, status: 401},
		{name: "header JSON not an object", token: func() string { return b64(`["RS256"]`) + "." + goodParts[1] + "." + goodParts[2] },
			reason: ReasonMalformed, status: 401, message: "not an object"},
		{name: "payload JSON not an object", token: func() string { return goodParts[0] + "." + b64(`"sid1"`) + "." + goodParts[2] },
			reason: ReasonMalformed, status: 401, message: "not an object"},
		{name: "payload JSON null", token: func() string { return goodParts[0] + "." + b64(`null`) + "." + goodParts[2] },
			reason: ReasonMalformed, status: 401},
		{name: "header not JSON", token: func() string { return b64(`{alg:RS256}`) + "." + goodParts[1] + "." + goodParts[2] },
			reason: ReasonMalformed, status: 401, message: "not JSON"},
		{name: "no alg", token: func() string { return withHeader(t, good, map[string]any{"kid": kid}) }, reason: ReasonMalformed, status: 401, message: "no alg"},
		{name: "1 MB token", token: func() string { return strings.Repeat("a", 1<<20) + "." + goodParts[1] + "." + goodParts[2] },
			reason: ReasonTooLarge, status: 401, message: "16384"},
		{name: "JWE", token: func() string {
			return b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a2V5.aXY.Y2lwaGVy.dGFn"
		}, reason: ReasonEncrypted, status: 401, message: "encrypted tokens are not supported"},
		{name: "opaque without introspection", token: func() string { return "2YotnFZFEjr1zCsicMWpAA" }, reason: ReasonOpaque, status: 401, message: "introspection"},
		{name: "Graph token with a nonce header", token: func() string {
			return rogue.sign(t, z.claims(map[string]any{"aud": "00000003-0000-0000-c000-000000000000", "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "ver": "1.0"}),
				map[string]any{"nonce": "AQABAAAAAAD--DLA3VO7QrddgJg7WevrX"})
		}, reason: ReasonEntraGraphToken, status: 401, message: "Only Microsoft Graph can validate it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := z.prof
			if tt.prof != nil {
				tt.prof(&p)
			}
			token := tt.token()
			for _, r := range []*Result{z.v.Validate(ctx, p, token), z.v.Inspect(ctx, p, token)} {
				if r.Reason != tt.reason {
					t.Fatalf("Reason = %q (%s), want %q", r.Reason, r.Message, tt.reason)
				}
				if tt.reason == "" {
					if r.Status() != 200 || r.WWWAuthenticate() != "" || r.Login != oidctest.ServiceClientID {
						t.Errorf("accepted: status %d, login %q", r.Status(), r.Login)
					}
					continue
				}
				if r.Status() != tt.status {
					t.Errorf("Status = %d, want %d", r.Status(), tt.status)
				}
				if !strings.Contains(r.Message, tt.message) || len(r.Message) < 30 {
					t.Errorf("Message %q lacks %q", r.Message, tt.message)
				}
				www := r.WWWAuthenticate()
				wantCode := map[int]string{401: `Bearer error="invalid_token", error_description="`, 403: `Bearer error="insufficient_scope", error_description="`}[tt.status]
				if tt.reason == ReasonMissing {
					wantCode = "Bearer"
				}
				if !strings.HasPrefix(www, wantCode) || strings.ContainsAny(strings.TrimPrefix(www, wantCode), "\\\r\n") {
					t.Errorf("WWW-Authenticate = %s", www)
				}
			}
		})
	}
}

// good returns a fresh token of the provider's own.
func (z *zitadel) good(t *testing.T) string { return z.clientCredentials(t, "openid read") }

// TestUnknownKIDAfterOneRefetch: a token whose kid is not in the JWKS is
// refused after exactly one refetch; more of them within the interval cost
// nothing.
func TestUnknownKIDAfterOneRefetch(t *testing.T) {
	z := newZitadel(t)
	ctx := context.Background()
	if r := z.v.Validate(ctx, z.prof, z.good(t)); !r.Accepted() {
		t.Fatalf("%s: %s", r.Reason, r.Message)
	}
	if n := z.hits.jwks.Load(); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}
	ghost := newKey(t, "ghost", "RS256")
	z.clk.Add(jwks.DefaultMinRefetchInterval + time.Second)
	r := z.v.Validate(ctx, z.prof, ghost.sign(t, z.claims(nil)))
	if r.Reason != ReasonUnknownKID || !strings.Contains(r.Message, "even after fetching it again") {
		t.Fatalf("%s: %s", r.Reason, r.Message)
	}
	if n := z.hits.jwks.Load(); n != 2 {
		t.Errorf("JWKS requests = %d, want 2 (one refetch)", n)
	}
	for range 20 {
		if r := z.v.Validate(ctx, z.prof, ghost.sign(t, z.claims(nil))); r.Reason != ReasonUnknownKID {
			t.Fatalf("%s: %s", r.Reason, r.Message)
		}
	}
	if n := z.hits.jwks.Load(); n != 2 {
		t.Errorf("JWKS requests after 20 more = %d, want 2", n)
	}
	r = z.v.Inspect(ctx, z.prof, ghost.sign(t, z.claims(nil)))
	if r.Reason != ReasonUnknownKID || !strings.Contains(r.Message, "next at") {
		t.Errorf("within the interval: %s: %s", r.Reason, r.Message)
	}
}

// TestInspectDetail: Inspect lists every check, goes on after the first
// failure and keeps the first as the reason.
func TestInspectDetail(t *testing.T) {
	z := newZitadel(t)
	ctx := context.Background()
	p := z.prof
	p.Restrictions.Scopes = []string{"admin"}
	now := z.clk.Now()
	tok := z.signed(t, map[string]any{"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix(), "nbf": nil, "aud": "other"})
	r := z.v.Inspect(ctx, p, tok)
	if r.Reason != ReasonExpired {
		t.Fatalf("Reason = %s: %s", r.Reason, r.Message)
	}
	got := map[string]bool{}
	for _, c := range r.Checks {
		got[c.Name] = c.OK
		if c.Detail == "" {
			t.Errorf("check %s has no detail", c.Name)
		}
	}
	want := map[string]bool{
		CheckFormat: true, CheckAlgorithm: true, CheckHeader: true, CheckIssuer: true, CheckKey: true,
		CheckSignature: true, CheckExpiry: false, CheckIssuedAt: true, CheckAudience: false, CheckAZP: true,
		CheckScope: false, CheckUID: true, CheckUser: true,
	}
	for name, ok := range want {
		if g, there := got[name]; !there || g != ok {
			t.Errorf("check %s: ok=%v there=%v, want ok=%v", name, g, there, ok)
		}
	}
	if r.Header["kid"] != z.op.KeyID() || r.Claims["aud"] != "other" || r.Subject != oidctest.ServiceClientID || r.Kind != "jwt" {
		t.Errorf("header %v, claims %v", r.Header, r.Claims)
	}
	if !r.ExpiresAt.Equal(now.Add(-time.Hour)) {
		t.Errorf("ExpiresAt = %v", r.ExpiresAt)
	}
	// Validate stops at the first failure and records no checks.
	if r := z.v.Validate(ctx, p, tok); r.Reason != ReasonExpired || r.Checks != nil {
		t.Errorf("Validate: %s, %d checks", r.Reason, len(r.Checks))
	}
}

// TestUnavailable: a provider that cannot be reached is oidcctl's
// problem, 503, not the token's.
func TestUnavailable(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "RS256")
	p := newIDP(t, "", key)
	v := p.validator(clk, nil)
	prof := testProfile("idp", "api")
	tok := key.sign(t, claimsAt(p.doc.Issuer, "svc", "api", clk.Now(), nil))

	v.Discovery().(*staticDiscovery).err = &discovery.Error{URL: "https://idp.example", Stage: discovery.StageConnect, Err: io.ErrUnexpectedEOF}
	r := v.Validate(context.Background(), prof, tok)
	if r.Reason != ReasonDiscoveryUnavailable || r.Status() != 503 || r.WWWAuthenticate() != "Bearer" {
		t.Errorf("discovery down: %s %d %q", r.Reason, r.Status(), r.WWWAuthenticate())
	}
	// Inspect still checks what it can without the provider.
	in := v.Inspect(context.Background(), prof, tok)
	var checked []string
	for _, c := range in.Checks {
		checked = append(checked, c.Name)
	}
	if in.Reason != ReasonDiscoveryUnavailable || !slices.Contains(checked, CheckExpiry) || !slices.Contains(checked, CheckAudience) || in.Login != "svc" {
		t.Errorf("Inspect with discovery down: %s, checks %v", in.Reason, checked)
	}
	v.Discovery().(*staticDiscovery).err = nil
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
	r = v.Validate(context.Background(), prof, tok)
	if r.Reason != ReasonKeysUnavailable || r.Status() != 503 || !strings.Contains(r.Message, "502") {
		t.Errorf("JWKS down: %s %d %s", r.Reason, r.Status(), r.Message)
	}
	// Not cached: the provider is back, the token is accepted.
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
	clk.Add(time.Minute)
	if r := v.Validate(context.Background(), prof, tok); !r.Accepted() {
		t.Errorf("provider back: %s: %s", r.Reason, r.Message)
	}
}

func TestWWWAuthenticate(t *testing.T) {
	// The caller gets the error code and a generic description, never the
	// Message (it names the profile, the key set, the restrictions).
	r := &Result{Reason: ReasonScopeMissing, Message: "profile \"kc\" requires ...", requiredScopes: []string{"read", "write"}}
	want := `Bearer error="insufficient_scope", error_description="The access token does not grant access to this resource.", scope="read write"`
	if got := r.WWWAuthenticate(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := (&Result{}).WWWAuthenticate(); got != "" {
		t.Errorf("accepted: %q", got)
	}
	for _, reason := range []Reason{ReasonExpired, ReasonUnknownKID, ReasonIssuerMismatch, ReasonAudienceMismatch, ReasonBadSignature, ReasonControlCharacters} {
		r := &Result{Reason: reason, Message: "profile \"kc\", JWKS https://idp.example/keys, kid \"k1\""}
		if got, want := r.WWWAuthenticate(), `Bearer error="invalid_token", error_description="The access token is not valid."`; got != want {
			t.Errorf("%s: %s, want %s", reason, got, want)
		}
	}
	// Non-ASCII (a scope restriction in another script) is percent-encoded,
	// not turned into question marks, and cut only between characters.
	uni := &Result{Reason: ReasonScopeMissing, requiredScopes: []string{"lesen:Jürgen", `say"hi"\100%`}}
	want = `Bearer error="insufficient_scope", error_description="The access token does not grant access to this resource.", scope="lesen:J%C3%BCrgen say%22hi%22%5C100%25"`
	if got := uni.WWWAuthenticate(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, err := url.PathUnescape(HeaderSafe("Jürgen \"x\" \\ 100% \x1b\r\n", 400)); err != nil || got != "Jürgen \"x\" \\ 100% \x1b\r\n" {
		t.Errorf("HeaderSafe does not decode back: %q %v", got, err)
	}
	for limit := range 12 {
		got := HeaderSafe("aü€", limit)
		if len(got) > limit {
			t.Errorf("limit %d: %q", limit, got)
		}
		if d, err := url.PathUnescape(got); err != nil || !strings.HasPrefix("aü€", d) {
			t.Errorf("limit %d: %q cut inside an escape or a character (%q, %v)", limit, got, d, err)
		}
	}
	for _, c := range HeaderSafe(strings.Repeat("x\"ü\\\x00", 100), 400) {
		if !(c == 0x20 || c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e) {
			t.Fatalf("%q is not allowed by RFC 6750", c)
		}
	}
	for reason, want := range map[Reason]int{
		"": 200, ReasonMissing: 401, ReasonExpired: 401, ReasonScopeMissing: 403, ReasonUserUnknown: 403,
		ReasonKeysUnavailable: 503, ReasonUserStoreError: 500,
	} {
		if got := reason.Status(); got != want {
			t.Errorf("%q: Status %d, want %d", reason, got, want)
		}
	}
}
