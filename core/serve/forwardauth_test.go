package serve_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/core/serve/debuglog"
)

// startBehindNginx starts serve with the profiles of the shipped nginx
// site (keycloak, and keycloak-admin with a Scope restriction the
// service client's tokens do not meet), an upstream, and the site.
func startBehindNginx(t *testing.T, opts ...option) (*harness, *upstream, *nginxSite) {
	h := startWith(t, func(h *harness) {
		reg := core.Registry{Store: h.store}
		p := core.NewProfile("keycloak")
		p.DiscoveryURL, p.ClientID = h.op.DiscoveryURL, oidctest.ServiceClientID
		must(t, reg.AddProfile(context.Background(), p))
		p.Name, p.Restrictions.Scopes = "keycloak-admin", []string{"tickets.write"}
		must(t, reg.AddProfile(context.Background(), p))
	}, opts...)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("upstream saw " + r.URL.Path))
	})
	return h, up, startNginx(t, h.base, up.url)
}

// TestForwardAuthThroughNginx puts the shipped nginx site with
// auth_request in front of an upstream and asks serve's /auth.
func TestForwardAuthThroughNginx(t *testing.T) {
	h, up, nginx := startBehindNginx(t)
	good := h.serviceToken("openid")
	expired := h.signed(map[string]any{"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000})

	tests := []struct {
		name, path, token string
		status            int
		challenge         string // in WWW-Authenticate
	}{
		{"accepted", "/api/tickets/1?x=1", good, 200, ""},
		{"no token", "/api/tickets/1", "", 401, "Bearer"},
		{"expired", "/api/tickets/2", expired, 401, `error="invalid_token"`},
		{"tampered", "/api/tickets/3", tamper(good), 401, `error="invalid_token"`},
		{"insufficient scope", "/api/admin/x", good, 403, `error="insufficient_scope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := up.got()
			r := doWith(t, nginx.client, "GET", nginx.base+tt.path, tt.token, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.status, r.body)
			}
			after, _ := up.got()
			if tt.status != 200 {
				if len(after) != len(before) {
					t.Fatal("a refused request reached the upstream")
				}
				if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || !strings.Contains(got[0], tt.challenge) {
					t.Fatalf("WWW-Authenticate %q, want one with %q", got, tt.challenge)
				}
				return
			}
			if len(after) != len(before)+1 {
				t.Fatalf("upstream got %d requests, want %d", len(after), len(before)+1)
			}
			last := after[len(after)-1]
			for header, want := range map[string]string{
				"X-Auth-User": oidctest.ServiceClientID, "X-Auth-Roles": testRoles, "X-Auth-Subject": oidctest.ServiceClientID,
			} {
				if got := last.Header.Get(header); got != want {
					t.Errorf("upstream got %s %q, want %q", header, got, want)
				}
			}
		})
	}

	// The debugger keeps the refusals (the default mode), with the URI and
	// method nginx was asked for, and no token.
	es := h.entries("")
	var refused []core.DebugEntry
	for _, e := range es {
		if e.Direction != core.DirectionForwardAuth {
			t.Fatalf("unexpected entry %+v", e)
		}
		if e.Verdict == "accepted" {
			t.Fatalf("an accepted forward-auth call was recorded in the default mode: %+v", e)
		}
		refused = append(refused, e)
	}
	if len(refused) != 4 {
		t.Fatalf("%d refusals recorded, want 4: %+v", len(refused), es)
	}
	paths := map[string]core.DebugEntry{}
	for _, e := range refused {
		paths[e.Path] = e
	}
	e, ok := paths["/api/tickets/2"]
	if !ok || e.Method != "GET" || e.Status != 401 || !strings.HasPrefix(e.Reason, "expired") {
		t.Fatalf("entry of the expired token: %+v (all: %v)", e, paths)
	}
	if got := e.RequestHeader.Get("Authorization"); got != "Bearer "+debuglog.Redacted {
		t.Fatalf("recorded Authorization %q", got)
	}
	if a := paths["/api/admin/x"]; a.Status != 403 || !strings.HasPrefix(a.Reason, "scope_missing") {
		t.Fatalf("entry of the insufficient scope: %+v", a)
	}
	for _, e := range refused {
		assertNoSecret(t, e, good, expired)
	}
}

func TestForwardAuthDirect(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.ForwardAuthDebug.Mode = "all" })
	good := h.serviceToken("openid")

	r := h.do("GET", "/auth", good, nil, "X-Forwarded-Uri", "/app/page", "X-Forwarded-Method", "POST")
	if r.status != 200 || r.header.Get("X-Auth-User") != oidctest.ServiceClientID || r.header.Get("X-Auth-Roles") != testRoles {
		t.Fatalf("accepted: %d %v", r.status, r.header)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Fatal("no X-Request-Id")
	}
	// The profile by query; never by a header the caller could send. An
	// unknown one is a misconfiguration of the proxy, answered as a bad
	// token (TestUnknownProfileLooksLikeABadToken).
	if r := h.do("GET", "/auth?profile=op-write", good, nil); r.status != 403 {
		t.Fatalf("profile by query: %d", r.status)
	}
	if r := h.do("GET", "/auth", good, nil, "X-Auth-Profile", "op-write"); r.status != 200 {
		t.Fatalf("a header chose the profile: %d", r.status)
	}
	r = h.do("GET", "/auth?profile=nope", good, nil)
	if r.status != 401 || strings.Contains(r.body, "nope") {
		t.Fatalf("unknown profile: %d %s", r.status, r.body)
	}
	// A refusal gives the caller the RFC 6750 code; the debugger says why.
	r = h.do("GET", "/auth/envoy/path", "not-a-jwt.x.y", nil)
	m := r.json(t)
	if r.status != 401 || m["error"] != "invalid_token" || m["error_description"] == "" {
		t.Fatalf("malformed: %d %v", r.status, m)
	}

	es := h.entries("")
	if len(es) != 5 {
		t.Fatalf("%d entries in mode all, want 5", len(es))
	}
	byPath := map[string]core.DebugEntry{}
	for _, e := range es {
		byPath[e.Path] = e
	}
	if e := byPath["/app/page"]; e.Method != "POST" || e.Verdict != "accepted" || e.User != oidctest.ServiceClientID || e.Status != 200 {
		t.Fatalf("accepted entry: %+v", e)
	}
	if e := byPath["/envoy/path"]; e.Verdict != "refused" || e.Status != 401 || !strings.HasPrefix(e.Reason, "malformed: ") {
		t.Fatalf("envoy-style entry: %+v (all %v)", e, byPath)
	}
	if e := byPath["/auth?profile=nope"]; e.Verdict != "error" || e.Status != 401 || !strings.Contains(e.Reason, `profile "nope" does not exist`) {
		t.Fatalf("unknown profile entry: %+v (all %v)", e, byPath)
	}
}

// tamper changes a character in the middle of the signature.
func tamper(tok string) string {
	i := strings.LastIndex(tok, ".") + 10
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// assertNoSecret fails when a secret appears anywhere in an entry.
func assertNoSecret(t *testing.T, e core.DebugEntry, secrets ...string) {
	t.Helper()
	all := e.Path + "\n" + string(e.RequestBody) + "\n" + string(e.ResponseBody) + "\n" + e.Reason + "\n" + e.TokenClaims
	for _, h := range []http.Header{e.RequestHeader, e.ResponseHeader} {
		for k, vs := range h {
			all += "\n" + k + ": " + strings.Join(vs, ", ")
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Fatalf("entry %d keeps the secret %.20s…:\n%s", e.ID, s, all)
		}
	}
}
