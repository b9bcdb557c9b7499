package serve_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/core/validate"
)

// endpoint is a remote API that checks bearer tokens with a validator of
// its own.
func endpoint(t *testing.T, h *harness, reject *atomic.Int32) *upstream {
	v := validate.New(validate.Config{})
	p := core.NewProfile("remote")
	p.DiscoveryURL, p.ClientID = h.op.DiscoveryURL, oidctest.ServiceClientID
	return startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if reject != nil && reject.Add(-1) >= 0 {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if res := v.Validate(r.Context(), p, tok); !res.Accepted() {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(res.Message))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"ok":true}`))
	})
}

func tokenRequests(op *oidctest.Provider) int { return len(op.TokenRequests()) }

func TestRequesterWebservice(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.MaxInvokeBodySize = 1 << 10 })
	var reject atomic.Int32
	ep := endpoint(t, h, &reject)
	h.addWebservice(requester("echo", "billing", ep.url, "/rest/api/endpoint", "POST"))
	ctx := context.Background()

	t.Run("fresh token attached", func(t *testing.T) {
		r := h.do("POST", "/invoke/echo/sub?q=1", "", strings.NewReader(`{"article":"x"}`), "Content-Type", "application/json", "Cookie", "local=1")
		if r.status != 201 || r.body != `{"ok":true}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
		reqs, bodies := ep.got()
		got := reqs[len(reqs)-1]
		st, err := h.store.TokenState(ctx, "billing")
		must(t, err)
		if got.Header.Get("Authorization") != "Bearer "+st.Tokens.AccessToken.Reveal() || got.Method != "POST" ||
			got.URL.Path != "/rest/api/endpoint/sub" || got.URL.RawQuery != "q=1" || bodies[len(bodies)-1] != `{"article":"x"}` {
			t.Fatalf("endpoint got %s %s %q %v", got.Method, got.URL, bodies[len(bodies)-1], got.Header)
		}
		if got.Header.Get("Cookie") != "" {
			t.Fatal("the local caller's cookie went to the remote endpoint")
		}
	})
	t.Run("a stored valid token is reused", func(t *testing.T) {
		n := tokenRequests(h.op)
		if r := h.do("POST", "/invoke/echo", "", strings.NewReader(`{}`)); r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if tokenRequests(h.op) != n {
			t.Fatal("a new token was obtained although the stored one is valid")
		}
	})
	t.Run("401, refresh once, retry once", func(t *testing.T) {
		before, _ := ep.got()
		n := tokenRequests(h.op)
		reject.Store(1)
		r := h.do("POST", "/invoke/echo", "", strings.NewReader(`{"again":1}`))
		if r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		after, bodies := ep.got()
		if len(after) != len(before)+2 || tokenRequests(h.op) != n+1 {
			t.Fatalf("%d calls to the endpoint (want 2), %d token requests (want 1)", len(after)-len(before), tokenRequests(h.op)-n)
		}
		if a, b := after[len(after)-2].Header.Get("Authorization"), after[len(after)-1].Header.Get("Authorization"); a == b {
			t.Fatal("the retry carried the same token")
		}
		if bodies[len(bodies)-1] != `{"again":1}` {
			t.Fatalf("the retry's body %q", bodies[len(bodies)-1])
		}
	})
	t.Run("401 twice is passed back", func(t *testing.T) {
		reject.Store(2)
		if r := h.do("POST", "/invoke/echo", "", nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tt := range []struct {
			method, path, body string
			status             int
		}{
			{"GET", "/invoke/echo", "", 405},
			{"POST", "/invoke/nope", "", 404},
			{"POST", "/invoke/echo/../admin", "", 404},
			{"POST", "/invoke/echo", strings.Repeat("z", 2<<10), 413},
		} {
			before, _ := ep.got()
			r := h.do(tt.method, tt.path, "", strings.NewReader(tt.body))
			if r.status != tt.status || r.json(t)["error_description"] == "" {
				t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.status)
			}
			if after, _ := ep.got(); len(after) != len(before) {
				t.Errorf("%s %s reached the endpoint", tt.method, tt.path)
			}
		}
	})
	t.Run("provider down, stored token still valid: goes through", func(t *testing.T) {
		h.op.FailTokenRequests(http.StatusServiceUnavailable)
		defer h.op.FailTokenRequests(0)
		st, _ := h.store.TokenState(ctx, "billing")
		// Within the renewal margin, not yet expired.
		h.clock.Add(time.Until(st.Tokens.Expiry) - 30*time.Second)
		defer h.clock.Add(-(time.Until(st.Tokens.Expiry) - 30*time.Second))
		n := tokenRequests(h.op)
		r := h.do("POST", "/invoke/echo", "", strings.NewReader(`{}`))
		if r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if tokenRequests(h.op) <= n {
			t.Fatal("no renewal was tried")
		}
	})
	t.Run("provider down, token expired: 502, not sent", func(t *testing.T) {
		h.op.FailTokenRequests(http.StatusServiceUnavailable)
		defer h.op.FailTokenRequests(0)
		st, _ := h.store.TokenState(ctx, "billing")
		off := time.Until(st.Tokens.Expiry) + time.Minute
		h.clock.Add(off)
		defer h.clock.Add(-off)
		before, _ := ep.got()
		r := h.do("POST", "/invoke/echo", "", strings.NewReader(`{}`))
		m := r.json(t)
		if r.status != 502 || m["error"] != "no_token" || !strings.Contains(m["error_description"].(string), "not sent") {
			t.Fatalf("%d %v", r.status, m)
		}
		// The account and the provider's error are for the debugger.
		if strings.Contains(r.body, "billing") || strings.Contains(r.body, "503") {
			t.Fatalf("the 502 tells the caller the detail: %s", r.body)
		}
		if after, _ := ep.got(); len(after) != len(before) {
			t.Fatal("a call went out without a valid token")
		}
		es := h.entries("echo")
		if es[0].Status != 502 || es[0].Verdict != "error" || !strings.Contains(es[0].Reason, "no valid token") {
			t.Fatalf("debugger: %+v", es[0])
		}
	})
	t.Run("endpoint down: 502", func(t *testing.T) {
		addr := freeAddr(t)
		h.addWebservice(requester("gone", "billing", "http://"+addr, "/x", "POST"))
		r := h.do("POST", "/invoke/gone", "", nil)
		if m := r.json(t); r.status != 502 || m["error"] != "bad_gateway" || m["error_description"] == "" || m["request_id"] != r.header.Get("X-Request-Id") {
			t.Fatalf("%d %v", r.status, m)
		}
		// The endpoint's URL and the socket error are for the debugger and
		// the log, not for the caller.
		if strings.Contains(r.body, addr) || strings.Contains(r.body, "connection refused") {
			t.Fatalf("the 502 tells the caller the endpoint: %s", r.body)
		}
		if es := h.entries("gone"); len(es) != 1 || !strings.Contains(es[0].Reason, addr) || !strings.Contains(es[0].Reason, "connection refused") {
			t.Fatalf("debugger: %+v", es)
		}
	})
}

// An account that hands out id tokens sends its id token.
func TestRequesterIDToken(t *testing.T) {
	h := startWith(t, func(h *harness) {
		p := core.NewProfile("web")
		p.DiscoveryURL, p.ClientID, p.ClientSecret = h.op.DiscoveryURL, oidctest.WebClientID, core.NewSecret(oidctest.WebClientSecret)
		reg := core.Registry{Store: h.store}
		must(t, reg.AddProfile(context.Background(), p))
		a := core.NewAccount("svc", "web")
		a.GrantType, a.Username, a.Password = core.GrantPassword, h.op.Username(), core.NewSecret(oidctest.Password)
		a.Scopes, a.TokenType = []string{"openid"}, core.TokenID
		must(t, reg.AddAccount(context.Background(), a))
	})
	ep := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	h.addWebservice(requester("idsvc", "svc", ep.url, "/", "GET"))
	if r := h.do("GET", "/invoke/idsvc", "", nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	st, err := h.store.TokenState(context.Background(), "svc")
	must(t, err)
	reqs, _ := ep.got()
	if !st.Tokens.IDToken.IsSet() || reqs[0].Header.Get("Authorization") != "Bearer "+st.Tokens.IDToken.Reveal() {
		t.Fatalf("endpoint got %q, want the id token", reqs[0].Header.Get("Authorization"))
	}
}
