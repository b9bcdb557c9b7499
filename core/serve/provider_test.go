package serve_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/oidctest"
)

func TestProviderWebservice(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.MaxBodySize = 1 << 10 })
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"TicketID":"` + strings.TrimPrefix(r.URL.Path, "/otobo/Webservice/Test/GetTicket/") + `"}`))
	})
	h.addWebservice(provider("tickets", "/GetTicket/:TicketID", up.url+"/otobo/Webservice/Test", "GET", "POST"))
	pass := provider("passing", "/Item/:ID/Detail", up.url+"/base/", "GET")
	pass.PassAuthorization = true
	h.addWebservice(pass)
	down := provider("down", "/x", "http://"+freeAddr(t)+"/nothing", "GET")
	h.addWebservice(down)
	tok := h.serviceToken("openid")

	t.Run("accepted, proxied with the user", func(t *testing.T) {
		r := h.do("GET", "/ws/tickets/GetTicket/42?expand=1", tok, nil, "X-Auth-User", "root@localhost", "X-Auth-Roles", "admin")
		if r.status != 200 || r.body != `{"TicketID":"42"}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
		reqs, _ := up.got()
		got := reqs[len(reqs)-1]
		if got.URL.Path != "/otobo/Webservice/Test/GetTicket/42" || got.URL.RawQuery != "expand=1" {
			t.Fatalf("upstream got %s", got.URL)
		}
		want := map[string]string{
			"X-Auth-User": oidctest.ServiceClientID, "X-Auth-Roles": testRoles, "X-Auth-Subject": oidctest.ServiceClientID,
			"Authorization": "", "X-Forwarded-For": "127.0.0.1", "X-Request-Id": r.header.Get("X-Request-Id"),
		}
		for k, v := range want {
			if got.Header.Get(k) != v {
				t.Errorf("upstream got %s %q, want %q", k, got.Header.Get(k), v)
			}
		}
		if vs := got.Header.Values("X-Auth-User"); len(vs) != 1 {
			t.Errorf("a forged X-Auth-User reached the upstream: %q", vs)
		}
	})
	t.Run("Authorization passed on when configured", func(t *testing.T) {
		r := h.do("GET", "/ws/passing/Item/7/Detail", tok, nil)
		reqs, _ := up.got()
		if r.status != 200 || reqs[len(reqs)-1].Header.Get("Authorization") != "Bearer "+tok || reqs[len(reqs)-1].URL.Path != "/base/Item/7/Detail" {
			t.Fatalf("%d %s %v", r.status, reqs[len(reqs)-1].URL, reqs[len(reqs)-1].Header)
		}
	})

	for _, tt := range []struct {
		name, method, path, token string
		body                      io.Reader
		status                    int
		errCode                   string
		header                    [2]string
	}{
		{"method not allowed", "DELETE", "/ws/tickets/GetTicket/1", tok, nil, 405, "method_not_allowed", [2]string{"Allow", "GET, POST"}},
		{"route with another shape", "GET", "/ws/tickets/GetTicket/1/2", tok, nil, 404, "not_found", [2]string{}},
		{"dot-dot segment", "GET", "/ws/tickets/GetTicket/..", tok, nil, 404, "not_found", [2]string{}},
		{"empty parameter", "GET", "/ws/tickets/GetTicket/", tok, nil, 404, "not_found", [2]string{}},
		{"unknown webservice", "GET", "/ws/nope/GetTicket/1", tok, nil, 404, "not_found", [2]string{}},
		{"unknown route", "GET", "/elsewhere", tok, nil, 404, "not_found", [2]string{}},
		{"no token", "GET", "/ws/tickets/GetTicket/1", "", nil, 401, "invalid_request", [2]string{"WWW-Authenticate", "Bearer"}},
		{"bad token", "GET", "/ws/tickets/GetTicket/1", tamper(tok), nil, 401, "invalid_token", [2]string{}},
		{"body over the limit", "POST", "/ws/tickets/GetTicket/1", tok, strings.NewReader(strings.Repeat("x", 2<<10)), 413, "too_large", [2]string{}},
		{"chunked body over the limit", "POST", "/ws/tickets/GetTicket/1", tok, io.MultiReader(strings.NewReader(strings.Repeat("y", 2<<10))), 413, "too_large", [2]string{}},
		{"upstream down", "GET", "/ws/down/x", tok, nil, 502, "bad_gateway", [2]string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if m := r.json(t); m["error"] != tt.errCode || m["error_description"] == "" {
				t.Fatalf("answer %v, want error %q", m, tt.errCode)
			}
			if tt.header[0] != "" && r.header.Get(tt.header[0]) != tt.header[1] {
				t.Fatalf("%s %q, want %q", tt.header[0], r.header.Get(tt.header[0]), tt.header[1])
			}
			// By request id: the upstream may still be reading the body of
			// an earlier case's streamed call that was cut at the limit.
			if reqs, _ := up.got(); tt.status != 413 && slices.ContainsFunc(reqs, func(got *http.Request) bool {
				return got.Header.Get("X-Request-Id") == r.header.Get("X-Request-Id")
			}) {
				t.Fatal("the upstream was called")
			}
		})
	}

	// The debugger has the reason of the 502, and the verdicts.
	es := h.entries("down")
	if len(es) != 1 || es[0].Status != 502 || !strings.Contains(es[0].Reason, "connection refused") || es[0].Verdict != "accepted" {
		t.Fatalf("debugger of down: %+v", es)
	}
	var statuses []int
	for _, e := range h.entries("tickets") {
		statuses = append(statuses, e.Status)
		if e.Direction != core.DirectionIncoming {
			t.Fatalf("direction %q", e.Direction)
		}
		assertNoSecret(t, e, tok)
	}
	if len(statuses) < 8 {
		t.Fatalf("entries of tickets: %v", statuses)
	}
}
