package serve_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/oidctest"
)

// identitySpellings are the caller-sent spellings of the user headers
// that CGI, PSGI and WSGI all map to HTTP_X_AUTH_USER and its kin.
var identitySpellings = []string{
	"X-Auth-User", "x-auth-user", "X_Auth_User", "X-Auth_User", "x_AUTH-user",
	"X-Auth-Roles", "X_Auth_Roles", "x-auth_roles",
	"X-Auth-Subject", "X_Auth_Subject", "X-AUTH_SUBJECT",
}

// forgeIdentity adds every spelling of the user headers, with forged
// values, to a request.
func forgeIdentity(req *http.Request) {
	for _, name := range identitySpellings {
		// Set as written: http.Header.Add would canonicalize the name.
		req.Header[name] = append(req.Header[name], "root@forged")
	}
}

// fold folds a header name as CGI does.
func fold(name string) string { return strings.ReplaceAll(strings.ToLower(name), "_", "-") }

// send sends req and reads the answer.
func send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// TestUpstreamGetsNoForgedHeaders: a provider webservice's upstream gets
// the user headers only from oidcctl, under one spelling each, and
// forwarding headers only as serve saw the connection, whatever spelling
// the caller used.
func TestUpstreamGetsNoForgedHeaders(t *testing.T) {
	h := start(t)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	h.addWebservice(provider("tickets", "/GetTicket/:TicketID", up.url, "GET"))
	req, _ := http.NewRequest("GET", h.base+"/ws/tickets/GetTicket/1", nil)
	req.Header.Set("Authorization", "Bearer "+h.serviceToken("openid"))
	forgeIdentity(req)
	for _, name := range []string{"X-Forwarded-For", "X_Forwarded_For", "X-Forwarded-Host", "X-Forwarded_Proto", "X-Forwarded-Prefix",
		"X-Real-IP", "X_Real_IP", "Forwarded", "X_Request_Id"} {
		req.Header[name] = []string{"6.6.6.6"}
	}
	r := send(t, req)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	reqs, _ := up.got()
	got := reqs[len(reqs)-1].Header
	want := map[string]string{
		"x-auth-user": oidctest.ServiceClientID, "x-auth-roles": testRoles, "x-auth-subject": oidctest.ServiceClientID,
		"x-forwarded-for": "127.0.0.1", "x-forwarded-host": strings.TrimPrefix(h.base, "http://"), "x-forwarded-proto": "http",
		"x-request-id": r.header.Get("X-Request-Id"),
	}
	seen := map[string]int{}
	for name, vs := range got {
		f := fold(name)
		if strings.Contains(strings.Join(vs, ","), "forged") || strings.Contains(strings.Join(vs, ","), "6.6.6.6") {
			t.Errorf("the upstream got the caller's %s: %q", name, vs)
		}
		if _, ours := want[f]; ours || f == "x-real-ip" || f == "forwarded" || strings.HasPrefix(f, "x-forwarded-") {
			seen[f]++
			if w, ok := want[f]; !ok || !slices.Equal(vs, []string{w}) {
				t.Errorf("upstream got %s: %q, want %q", name, vs, w)
			}
		}
	}
	for f := range want {
		if seen[f] != 1 {
			t.Errorf("upstream got %s under %d spellings, want 1", f, seen[f])
		}
	}
}

// TestTwoAuthorizationHeaders: which of two Authorization headers counts
// would depend on who reads them, so serve reads neither: 400
// invalid_request (RFC 6750 §3.1), on forward-auth and provider routes,
// whichever comes first.
func TestTwoAuthorizationHeaders(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.ForwardAuthDebug.Mode = "all" })
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	h.addWebservice(provider("tickets", "/x", up.url, "GET"))
	good := h.serviceToken("openid")
	for _, path := range []string{"/auth", "/ws/tickets/x"} {
		for _, order := range [][]string{{"Bearer " + good, "Bearer forged"}, {"Bearer forged", "Bearer " + good}, {"Bearer " + good, "Bearer " + good}} {
			req, _ := http.NewRequest("GET", h.base+path, nil)
			req.Header["Authorization"] = order
			r := send(t, req)
			if r.status != 400 || r.json(t)["error"] != "invalid_request" ||
				!strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer error="invalid_request", error_description="`) {
				t.Fatalf("%s with %d headers: %d %v %s", path, len(order), r.status, r.header, r.body)
			}
			if r.header.Get("X-Auth-User") != "" {
				t.Fatalf("%s: a user in the answer", path)
			}
		}
	}
	if reqs, _ := up.got(); len(reqs) != 0 {
		t.Fatalf("the upstream was called %d times", len(reqs))
	}
	for _, e := range h.entries("") {
		if e.Status != 400 || !strings.Contains(e.Reason, "more than one Authorization header") {
			t.Errorf("debugger: %d %q", e.Status, e.Reason)
		}
	}
	// One header still works.
	if r := h.do("GET", "/auth", good, nil); r.status != 200 {
		t.Fatalf("one header: %d %s", r.status, r.body)
	}
}

// TestControlCharactersInClaims: a token whose sub holds a terminal
// escape sequence is refused (401, the reason in the debugger) and
// creates no user, on a profile that creates users from tokens; the same
// token with a clean sub is accepted and creates its user.
func TestControlCharactersInClaims(t *testing.T) {
	h := startWith(t, func(h *harness) {
		p := core.NewProfile("auto")
		p.DiscoveryURL, p.ClientID = h.op.DiscoveryURL, oidctest.ServiceClientID
		p.RoleMap = core.RoleMap{"roles": {"api": "api"}}
		p.UserMap = core.UserMap{"email": core.UserEmail}
		must(t, core.Registry{Store: h.store}.AddProfile(context.Background(), p))
	}, func(c *serveConfig) { c.DefaultProfile = "auto" })
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	ws := provider("tickets", "/x", up.url, "GET")
	ws.Profile = "auto"
	h.addWebservice(ws)
	ctx := context.Background()
	before, err := h.store.Users(ctx)
	must(t, err)

	const evil = "evil\x1b]0;pwned\x07x"
	for _, path := range []string{"/auth", "/ws/tickets/x"} {
		tok := h.signed(map[string]any{"sub": evil, "roles": []string{"api"}, "email": "evil@example.test"})
		r := h.do("GET", path, tok, nil)
		if r.status != 401 || r.json(t)["error"] != "invalid_token" || r.header.Get("X-Auth-User") != "" {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	if reqs, _ := up.got(); len(reqs) != 0 {
		t.Fatal("the upstream was called")
	}
	after, err := h.store.Users(ctx)
	must(t, err)
	if len(after) != len(before) {
		t.Fatalf("users %v, before %v", after, before)
	}
	es := h.entries("tickets")
	if len(es) != 1 || !strings.HasPrefix(es[0].Reason, "control_characters: ") || strings.Contains(es[0].Reason, "\x1b") {
		t.Fatalf("debugger: %+v", es)
	}

	// The control: the same claims with a clean sub.
	if r := h.do("GET", "/ws/tickets/x", h.signed(map[string]any{"sub": "clean", "roles": []string{"api"}, "email": "c@example.test"}), nil); r.status != 200 {
		t.Fatalf("clean sub: %d %s", r.status, r.body)
	}
	if _, err := h.store.User(ctx, "clean"); err != nil {
		t.Fatalf("clean user: %v", err)
	}
}

// TestRefusalsTellTheCallerNothing: 401, 403 and 502 answers carry the
// RFC 6750 code and a generic description; the profile's name, its key
// set URL, key ids, audience restriction and the upstream's address are
// in the debugger and the log only.
func TestRefusalsTellTheCallerNothing(t *testing.T) {
	const name, aud = "secret-profile-name", "secret-audience"
	h := startWith(t, func(h *harness) {
		p := core.NewProfile(name)
		p.DiscoveryURL, p.ClientID = h.op.DiscoveryURL, oidctest.ServiceClientID
		p.Restrictions.Audiences = []string{aud}
		must(t, core.Registry{Store: h.store}.AddProfile(context.Background(), p))
	}, func(c *serveConfig) { c.DefaultProfile = name; c.ForwardAuthDebug.Mode = "all" })
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	ws := provider("tickets", "/x", up.url, "GET")
	ws.Profile = name
	h.addWebservice(ws)
	downAddr := freeAddr(t)
	h.addWebservice(provider("down", "/x", "http://"+downAddr+"/secret-upstream-path", "GET"))

	good := h.signed(nil)
	// A header that names a kid the provider does not publish.
	parts := strings.SplitN(good, ".", 2)
	unknownKID := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"secret-kid-42","typ":"JWT"}`)) + "." + parts[1]
	secrets := []string{name, aud, "secret-kid-42", h.op.KeyID(), h.op.Issuer, strings.TrimPrefix(h.op.Issuer, "http://"), "/keys",
		up.url, strings.TrimPrefix(up.url, "http://"), downAddr, "secret-upstream-path", "connection refused", oidctest.ServiceClientID}
	for _, tt := range []struct {
		what, path, token string
		status            int
	}{
		{"audience restriction", "/auth", good, 401},
		{"audience restriction, provider", "/ws/tickets/x", good, 401},
		{"unknown kid", "/auth", unknownKID, 401},
		{"bad signature", "/ws/tickets/x", tamper(good), 401},
		{"upstream down", "/ws/down/x", h.serviceToken("openid"), 502},
	} {
		r := h.do("GET", tt.path, tt.token, nil)
		if r.status != tt.status {
			t.Fatalf("%s: %d %s", tt.what, r.status, r.body)
		}
		all := r.body + "\n" + r.header.Get("WWW-Authenticate")
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("%s: the answer tells the caller %q:\n%s", tt.what, s, all)
			}
		}
		if m := r.json(t); m["error_description"] == "" || m["request_id"] != r.header.Get("X-Request-Id") || m["reason"] != nil {
			t.Errorf("%s: body %v", tt.what, m)
		}
	}
	// The detail is in the debugger and the log.
	var reasons []string
	for _, e := range h.entries("") {
		reasons = append(reasons, e.Reason)
	}
	joined := strings.Join(reasons, "\n")
	for _, s := range []string{name, aud, "secret-kid-42", "/keys", downAddr, "connection refused"} {
		if !strings.Contains(joined, s) {
			t.Errorf("the debugger lacks %q:\n%s", s, joined)
		}
	}
	if logs := h.logs.String(); !strings.Contains(logs, `"reason":"audience_mismatch"`) || !strings.Contains(logs, aud) {
		t.Errorf("the log lacks the refusal's detail:\n%s", logs)
	}
}

// TestUnknownProfileLooksLikeABadToken: /auth?profile=X for a profile
// that does not exist answers what a bad token gets from one that does,
// so profile names cannot be probed; without a token, what a missing
// token gets.
func TestUnknownProfileLooksLikeABadToken(t *testing.T) {
	h := start(t)
	good := h.serviceToken("openid")
	for _, token := range []string{"", tamper(good), "not-a-jwt"} {
		known := h.do("GET", "/auth?profile=op", token, nil)
		unknown := h.do("GET", "/auth?profile=no-such-profile", token, nil)
		if known.status != 401 || unknown.status != known.status ||
			unknown.header.Get("WWW-Authenticate") != known.header.Get("WWW-Authenticate") {
			t.Fatalf("token %.10q: known %d %q, unknown %d %q", token, known.status, known.header.Get("WWW-Authenticate"),
				unknown.status, unknown.header.Get("WWW-Authenticate"))
		}
		k, u := known.json(t), unknown.json(t)
		delete(k, "request_id")
		delete(u, "request_id")
		if !equalMaps(k, u) {
			t.Fatalf("token %.10q: known %v, unknown %v", token, k, u)
		}
	}
	if !strings.Contains(h.logs.String(), `profile \"no-such-profile\" does not exist`) {
		t.Errorf("the log does not name the unknown profile:\n%s", h.logs.String())
	}
}

func equalMaps(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestChallengeKeepsNonASCII: a Scope restriction in another script
// reaches WWW-Authenticate percent-encoded (RFC 6750 allows only
// printable ASCII there), not as question marks.
func TestChallengeKeepsNonASCII(t *testing.T) {
	h := startWith(t, func(h *harness) {
		p := core.NewProfile("uni")
		p.DiscoveryURL, p.ClientID = h.op.DiscoveryURL, oidctest.ServiceClientID
		p.Restrictions.Scopes = []string{"lesen:Jürgen"}
		must(t, core.Registry{Store: h.store}.AddProfile(context.Background(), p))
	})
	r := h.do("GET", "/auth?profile=uni", h.serviceToken("openid"), nil)
	www := r.header.Get("WWW-Authenticate")
	if r.status != 403 || !strings.Contains(www, `scope="lesen:J%C3%BCrgen"`) || strings.Contains(www, "?") {
		t.Fatalf("%d %q", r.status, www)
	}
	for _, c := range www {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("WWW-Authenticate %q holds %q", www, c)
		}
	}
}
