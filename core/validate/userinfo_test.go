package validate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"oidcctl/core"
)

// userinfoServer is a userinfo endpoint (RFC 6750 bearer, OpenID Connect
// Core 5.3) that answers what answer says for the token it is sent, and
// counts its calls.
type userinfoServer struct {
	srv    *httptest.Server
	calls  atomic.Int64
	mu     sync.Mutex
	answer func(token string) (status int, body string)
}

func newUserinfoServer(t *testing.T, answer func(token string) (int, string)) *userinfoServer {
	u := &userinfoServer{answer: answer}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.calls.Add(1)
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || r.Method != http.MethodGet {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		u.mu.Lock()
		f := u.answer
		u.mu.Unlock()
		status, body := f(token)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *userinfoServer) set(answer func(token string) (int, string)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.answer = answer
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestUserinfoPrecedence: the userinfo claims replace the token's claims
// of the same name for the UID claim, the user map and the role map
// (email, groups, preferred_username), the claims the checks read (scope,
// iss, aud …) never come from userinfo, and a claim only the token has
// stays. Both paths of the validator (Validate and Inspect) agree.
func TestUserinfoPrecedence(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	ui := newUserinfoServer(t, func(string) (int, string) {
		return http.StatusOK, jsonText(map[string]any{
			"sub": "sub-ann", "preferred_username": "ann", "email": "ann@new.example", "groups": []string{"support"},
			"scope": "admin", "iss": "https://evil.example", "aud": "other",
		})
	})
	idp.doc.UserinfoEndpoint = ui.srv.URL
	p := testProfile("p", "api")
	p.UserinfoClaims = true
	p.UIDClaim = "preferred_username"
	p.RoleMap = core.RoleMap{"groups": {"support": "agent", "sales": "seller"}, "scope": {"admin": "admin"}}
	p.UserMap = core.UserMap{"email": core.UserEmail, "family_name": core.UserLastName}
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "sub-ann", "api", clk.Now(), map[string]any{
		"email": "ann@old.example", "groups": []any{"sales"}, "family_name": "Smith", "scope": "openid",
	}))

	users := newMemUsers()
	v := idp.validator(clk, users)
	in := v.Inspect(context.Background(), p, tok)
	r := v.Validate(context.Background(), p, tok)
	for name, res := range map[string]*Result{"Inspect": in, "Validate": r} {
		if !res.Accepted() {
			t.Fatalf("%s refused: %s %s", name, res.Reason, res.Message)
		}
		if res.Login != "ann" || !slices.Equal(res.TokenRoles, []string{"agent"}) {
			t.Errorf("%s: login %q, roles %v; want ann from userinfo, [agent] from its groups (not seller, not admin from its scope)", name, res.Login, res.TokenRoles)
		}
	}
	u, ok := users.get("ann")
	if !ok || u.Email != "ann@new.example" || u.LastName != "Smith" || !slices.Equal(u.Roles, []string{"agent"}) {
		t.Errorf("user %+v: want the email from userinfo and the last name from the token", u)
	}
	if in.Userinfo["email"] != "ann@new.example" || r.Userinfo != nil {
		t.Errorf("Inspect shows userinfo %v; Validate keeps none: %v", in.Userinfo, r.Userinfo)
	}
	var check *Check
	for i := range in.Checks {
		if in.Checks[i].Name == CheckUserinfo {
			check = &in.Checks[i]
		}
	}
	if check == nil || !check.OK || strings.Contains(check.Detail, `"iss"`) || !strings.Contains(check.Detail, `"email"`) {
		t.Errorf("userinfo check %+v", check)
	}
	if n := ui.calls.Load(); n != 1 {
		t.Errorf("%d userinfo calls for one token, want 1 (cached for the token's lifetime)", n)
	}

	// Off, the same token has neither the login nor the email.
	p.UserinfoClaims = false
	if r := idp.validator(clk, newMemUsers()).Validate(context.Background(), p, tok); r.Reason != ReasonNoUID {
		t.Errorf("without userinfo claims: %q %s", r.Reason, r.Message)
	}
}

// TestUserinfoRefusals: every way the userinfo call fails refuses the
// token with its reason, and a failure is remembered for a few seconds
// only: the next call after that succeeds.
func TestUserinfoRefusals(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	key := newKey(t, "k1", "RS256")
	ok := func(string) (int, string) { return http.StatusOK, `{"sub":"bob","email":"bob@example.test"}` }
	tests := []struct {
		name    string
		answer  func(string) (int, string)
		noURL   bool
		reason  Reason
		message string
	}{
		{name: "token refused there", answer: func(string) (int, string) { return http.StatusUnauthorized, `{}` },
			reason: ReasonUserinfoRefused, message: "does not accept the token (HTTP 401 Unauthorized, error invalid_token)"},
		{name: "forbidden", answer: func(string) (int, string) { return http.StatusForbidden, `{}` }, reason: ReasonUserinfoRefused},
		{name: "another subject", answer: func(string) (int, string) { return http.StatusOK, `{"sub":"mallory"}` },
			reason: ReasonUserinfoRefused, message: `subject "mallory", but the token's sub is "bob"`},
		{name: "server error", answer: func(string) (int, string) { return http.StatusBadGateway, `` },
			reason: ReasonUserinfoUnavailable, message: "answered HTTP 502"},
		{name: "not JSON", answer: func(string) (int, string) { return http.StatusOK, `<html>` },
			reason: ReasonUserinfoUnavailable, message: "not a JSON object"},
		{name: "no sub", answer: func(string) (int, string) { return http.StatusOK, `{"email":"x@example.test"}` },
			reason: ReasonUserinfoRefused, message: "has no sub: request the token with the openid scope"},
		{name: "too large", answer: func(string) (int, string) {
			return http.StatusOK, `{"sub":"bob","x":"` + strings.Repeat("a", maxUserinfoBody) + `"}`
		}, reason: ReasonUserinfoUnavailable, message: "larger than 64 KiB"},
		{name: "no endpoint", noURL: true, reason: ReasonUserinfoUnavailable, message: "names no userinfo_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := newIDP(t, "", key)
			ui := newUserinfoServer(t, tt.answer)
			if !tt.noURL {
				idp.doc.UserinfoEndpoint = ui.srv.URL
			}
			p := testProfile("p", "api")
			p.UserinfoClaims = true
			tok := key.sign(t, claimsAt(idp.doc.Issuer, "bob", "api", clk.Now(), nil))
			v := idp.validator(clk, nil)
			for i := range 2 {
				r := v.Validate(context.Background(), p, tok)
				if r.Reason != tt.reason || !strings.Contains(r.Message, tt.message) {
					t.Fatalf("call %d: %q %s; want %q with %q", i, r.Reason, r.Message, tt.reason, tt.message)
				}
			}
			if tt.noURL {
				return
			}
			if n := ui.calls.Load(); n != 1 {
				t.Errorf("%d calls for two requests within the failure TTL, want 1", n)
			}
			ui.set(ok)
			clk.Add(userinfoFailureTTL - time.Second)
			if r := v.Validate(context.Background(), p, tok); r.Reason != tt.reason {
				t.Errorf("within the failure TTL: %q", r.Reason)
			}
			clk.Add(2 * time.Second)
			if r := v.Validate(context.Background(), p, tok); !r.Accepted() {
				t.Errorf("after the failure TTL: %q %s", r.Reason, r.Message)
			}
		})
	}
	if ReasonUserinfoUnavailable.Status() != http.StatusServiceUnavailable || ReasonUserinfoRefused.Status() != http.StatusUnauthorized ||
		ReasonUserinfoUnavailable.cacheable() || ReasonUserinfoRefused.cacheable() {
		t.Error("userinfo reasons: want 503 and 401, neither kept in the result cache")
	}
}

// TestUserinfoCacheBounds: the cache keeps at most UserinfoCacheSize
// responses and UserinfoCacheBytes bytes, least recently used out first,
// uses a response no longer than the token lives, and /metrics' figures
// (UserinfoCacheStats) follow.
func TestUserinfoCacheBounds(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	ui := newUserinfoServer(t, func(token string) (int, string) {
		return http.StatusOK, `{"sub":"bob","pad":"` + strings.Repeat("p", 1000) + `"}`
	})
	idp.doc.UserinfoEndpoint = ui.srv.URL
	p := testProfile("p", "api")
	p.UserinfoClaims = true
	token := func(jti string, life time.Duration) string {
		return key.sign(t, claimsAt(idp.doc.Issuer, "bob", "api", clk.Now(), map[string]any{"jti": jti, "exp": clk.Now().Add(life).Unix()}))
	}
	validate := func(v *Validator, tok string) {
		t.Helper()
		if r := v.Validate(context.Background(), p, tok); !r.Accepted() {
			t.Fatalf("%q %s", r.Reason, r.Message)
		}
	}

	// By count: three tokens, room for two.
	v := idp.validator(clk, nil, resultTTL(-1), func(c *Config) { c.UserinfoCacheSize = 2 })
	a, b, c := token("a", time.Hour), token("b", time.Hour), token("c", time.Hour)
	validate(v, a)
	validate(v, b)
	validate(v, a) // a is now the most recently used
	validate(v, c) // pushes out b
	if s := v.UserinfoCacheStats(); s.Entries != 2 || s.Hits != 1 || s.Misses != 3 || s.Bytes <= 2000 {
		t.Errorf("stats %+v, want 2 entries of over 1000 bytes, 1 hit, 3 misses", s)
	}
	calls := ui.calls.Load()
	validate(v, a)
	validate(v, c)
	if ui.calls.Load() != calls {
		t.Error("a and c were fetched again")
	}
	validate(v, b)
	if ui.calls.Load() != calls+1 {
		t.Error("b was not fetched again")
	}

	// By bytes: room for one response of some 1 KB.
	v = idp.validator(clk, nil, resultTTL(-1), func(c *Config) { c.UserinfoCacheBytes = 1500 })
	validate(v, a)
	validate(v, b)
	if s := v.UserinfoCacheStats(); s.Entries != 1 || s.Bytes > 1500 || s.MaxBytes != 1500 {
		t.Errorf("stats %+v, want 1 entry within 1500 bytes", s)
	}

	// By time: no longer than the token lives.
	v = idp.validator(clk, nil, resultTTL(-1))
	short := token("short", 2*time.Minute)
	validate(v, short)
	calls = ui.calls.Load()
	clk.Add(time.Minute)
	validate(v, short)
	if ui.calls.Load() != calls {
		t.Error("fetched again while the token lives")
	}
	if _, ok := v.userinfo.get(userinfoKey(p.Name+"\x00"+idp.doc.UserinfoEndpoint, short), clk.Now().Add(61*time.Second)); ok {
		t.Error("the response outlives its token")
	}
}

// routeTransport serves the requests for one URL with a handler of the
// test, and every other one with the provider's, in-process.
type routeTransport struct {
	url      string
	handler  http.Handler
	provider http.Handler
}

func (t routeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := t.provider
	if r.URL.String() == t.url {
		h = t.handler
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestUserinfoOneCallPerToken: concurrent first requests with one token
// make one userinfo call; the others wait for its answer.
func TestUserinfoOneCallPerToken(t *testing.T) {
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	const endpoint = "https://idp.example/userinfo"
	idp.doc.UserinfoEndpoint = endpoint
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
		var calls atomic.Int64
		release := make(chan struct{})
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			<-release
			_, _ = w.Write([]byte(`{"sub":"bob","email":"bob@example.test"}`))
		})
		hc := &http.Client{Transport: routeTransport{url: endpoint, handler: slow, provider: idp.srv.Config.Handler}}
		v := idp.validator(clk, nil, resultTTL(-1), func(c *Config) {
			c.HTTPClient = func(core.Profile) (*http.Client, error) { return hc, nil }
			c.Keys.HTTPClient = c.HTTPClient
		})
		p := testProfile("p", "api")
		p.UserinfoClaims = true
		tok := key.sign(t, claimsAt(idp.doc.Issuer, "bob", "api", clk.Now(), nil))
		const n = 8
		results := make([]*Result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i] = v.Validate(context.Background(), p, tok) })
		}
		synctest.Wait() // every request waits: one for the endpoint, the others for it
		if got := calls.Load(); got != 1 {
			t.Errorf("%d userinfo calls while %d requests wait, want 1", got, n)
		}
		close(release)
		wg.Wait()
		for i, r := range results {
			if !r.Accepted() {
				t.Errorf("request %d: %q %s", i, r.Reason, r.Message)
			}
		}
		if s := v.UserinfoCacheStats(); s.Entries != 1 {
			t.Errorf("stats %+v", s)
		}
	})
}
