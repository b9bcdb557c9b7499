package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"oidcctl/core"
	"oidcctl/core/dpop"
	"oidcctl/core/oidctest"
)

// startDPoP starts serve with three more profiles of the provider:
// dpop-allow, dpop-require and dpop-nonce (require, with nonces).
func startDPoP(t *testing.T) *harness {
	return startWith(t, func(h *harness) {
		reg := core.Registry{Store: h.store}
		base, err := h.store.Profile(context.Background(), "op")
		must(t, err)
		for _, p := range []struct {
			name  string
			mode  core.DPoPMode
			nonce bool
		}{{"dpop-allow", core.DPoPAllow, false}, {"dpop-require", core.DPoPRequire, false}, {"dpop-nonce", core.DPoPRequire, true}} {
			q := base
			q.Name, q.DPoP, q.DPoPNonce = p.name, p.mode, p.nonce
			must(t, reg.AddProfile(context.Background(), q))
		}
	}, func(c *serveConfig) { c.ForwardAuthDebug.Mode = "all" })
}

func dpopKey(t *testing.T) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey()
	must(t, err)
	return k
}

// The original request behind the proxy, as forward-auth hears of it.
const (
	appHost = "app.example.org"
	appURL  = "https://" + appHost + "/api/tickets/7"
)

// forwarded are the headers a proxy (Traefik, Caddy, nginx as the README
// sets it up) sends to forward-auth for GET appURL.
func forwarded(extra ...string) []string {
	return append([]string{"X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https", "X-Forwarded-Host", appHost,
		"X-Forwarded-Uri", "/api/tickets/7?page=2"}, extra...)
}

func (h *harness) proof(k *dpop.Key, method, u, token string, o dpop.ProofOptions) string {
	h.t.Helper()
	o.AccessToken = token
	if o.Now.IsZero() {
		o.Now = h.clock.Now()
	}
	p, err := k.Proof(method, u, o)
	must(h.t, err)
	return p
}

// wantDPoPRefusal checks a 401 with a DPoP challenge of code.
func wantDPoPRefusal(t *testing.T, r response, code string) {
	t.Helper()
	ch := r.header.Get("WWW-Authenticate")
	if r.status != 401 || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="`+code+`"`) {
		t.Fatalf("status %d, WWW-Authenticate %q, want 401 DPoP error=%q\n%s", r.status, ch, code, r.body)
	}
	if r.json(t)["error"] != code {
		t.Fatalf("body %s, want error %s", r.body, code)
	}
}

// TestForwardAuthDPoP: a DPoP-bound token with a proof of the original
// request passes forward-auth; every refusal path of RFC 9449 is refused
// with the DPoP challenge.
func TestForwardAuthDPoP(t *testing.T) {
	h := startDPoP(t)
	k, other := dpopKey(t), dpopKey(t)
	tok := h.signed(map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}})
	now := h.clock.Now()
	call := func(profile, proof string, header ...string) response {
		hdr := append(forwarded(header...), "Authorization", "DPoP "+tok)
		if proof != "" {
			hdr = append(hdr, "DPoP", proof)
		}
		return h.do("GET", "/auth?profile="+profile, "", nil, hdr...)
	}

	good := h.proof(k, "GET", appURL, tok, dpop.ProofOptions{})
	for _, profile := range []string{"dpop-allow", "dpop-require"} {
		p := good
		if profile == "dpop-require" {
			p = h.proof(k, "GET", appURL, tok, dpop.ProofOptions{})
		}
		if r := call(profile, p); r.status != 200 || r.header.Get("X-Auth-User") == "" {
			t.Fatalf("%s: accepted proof: %d %s %v", profile, r.status, r.body, r.header)
		}
	}

	refusals := []struct {
		name   string
		proof  string
		header []string
	}{
		{"wrong htu", h.proof(k, "GET", "https://"+appHost+"/api/tickets/8", tok, dpop.ProofOptions{}), nil},
		{"wrong host", h.proof(k, "GET", "https://evil.example.org/api/tickets/7", tok, dpop.ProofOptions{}), nil},
		{"wrong htm", h.proof(k, "DELETE", appURL, tok, dpop.ProofOptions{}), nil},
		{"method from the proxy", h.proof(k, "GET", appURL, tok, dpop.ProofOptions{}), []string{"X-Original-Method", "x"}}, // X-Forwarded-Method wins: accepted below
		{"replayed jti", good, nil},
		{"iat too old", h.proof(k, "GET", appURL, tok, dpop.ProofOptions{Now: now.Add(-2 * time.Minute)}), nil},
		{"iat in the future", h.proof(k, "GET", appURL, tok, dpop.ProofOptions{Now: now.Add(time.Minute)}), nil},
		{"wrong thumbprint", h.proof(other, "GET", appURL, tok, dpop.ProofOptions{}), nil},
		{"ath mismatch", h.proof(k, "GET", appURL, tok+"x", dpop.ProofOptions{}), nil},
		{"symmetric alg", hs256Proof(t, tok), nil},
		{"missing proof", "", nil},
		{"two proofs", good, []string{"DPoP", good}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			r := call("dpop-allow", tt.proof, tt.header...)
			if tt.name == "method from the proxy" {
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				return
			}
			wantDPoPRefusal(t, r, "invalid_dpop_proof")
		})
	}

	// The debugger says why, and keeps neither token nor proof.
	es := h.entries("")
	reasons := map[string]bool{}
	for _, e := range es {
		reasons[strings.SplitN(e.Reason, ":", 2)[0]] = true
		assertNoSecret(t, e, tok, good)
	}
	m := h.do("GET", "/metrics", "", nil).body
	for _, want := range []string{"dpop_htu", "dpop_htm", "dpop_jti_replay", "dpop_iat_too_old", "dpop_iat_future", "dpop_jkt", "dpop_ath", "dpop_alg", "dpop_missing", "dpop_multiple"} {
		if !reasons[want] {
			t.Errorf("no debugger entry with reason %s (have %v)", want, reasons)
		}
		if !strings.Contains(m, `oidcctl_token_refusals_total{reason="`+want+`"} `) || strings.Contains(m, `oidcctl_token_refusals_total{reason="`+want+`"} 0`) {
			t.Errorf("/metrics does not count %s", want)
		}
	}
}

// TestDPoPBoundTokenAsBearer: a token bound to a key is refused as a
// Bearer token, whatever the profile's DPoP setting.
func TestDPoPBoundTokenAsBearer(t *testing.T) {
	h := startDPoP(t)
	k := dpopKey(t)
	tok := h.signed(map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}})
	for _, profile := range []string{"op", "dpop-allow"} {
		r := h.do("GET", "/auth?profile="+profile, tok, nil, forwarded()...)
		if r.status != 401 || r.json(t)["error"] != "invalid_token" || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("%s: bound token as Bearer: %d %v %s", profile, r.status, r.header, r.body)
		}
	}
	// An unbound token as Bearer still passes where DPoP is allowed or off.
	plain := h.serviceToken("openid")
	for _, profile := range []string{"op", "dpop-allow"} {
		if r := h.do("GET", "/auth?profile="+profile, plain, nil, forwarded()...); r.status != 200 {
			t.Fatalf("%s: plain Bearer token: %d %s", profile, r.status, r.body)
		}
	}
	// A profile that requires DPoP refuses it, with the DPoP challenge.
	wantDPoPRefusal(t, h.do("GET", "/auth?profile=dpop-require", plain, nil, forwarded()...), "invalid_dpop_proof")
	// An unbound token with a proof is not a DPoP token.
	r := h.do("GET", "/auth?profile=dpop-allow", "", nil, append(forwarded(), "Authorization", "DPoP "+plain,
		"DPoP", h.proof(k, "GET", appURL, plain, dpop.ProofOptions{}))...)
	wantDPoPRefusal(t, r, "invalid_dpop_proof")
	// With DPoP off, Authorization: DPoP is not read, as before.
	r = h.do("GET", "/auth?profile=op", "", nil, append(forwarded(), "Authorization", "DPoP "+tok,
		"DPoP", h.proof(k, "GET", appURL, tok, dpop.ProofOptions{}))...)
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("DPoP to a profile with DPoP off: %d %v", r.status, r.header)
	}
	// A refused token sent as DPoP gets the DPoP challenge.
	r = h.do("GET", "/auth?profile=dpop-allow", "", nil, append(forwarded(), "Authorization", "DPoP "+tamper(tok),
		"DPoP", h.proof(k, "GET", appURL, tamper(tok), dpop.ProofOptions{}))...)
	wantDPoPRefusal(t, r, "invalid_token")
}

// TestDPoPNonce: a profile with nonces answers use_dpop_nonce and a
// DPoP-Nonce, and accepts the retry that carries it.
func TestDPoPNonce(t *testing.T) {
	h := startDPoP(t)
	k := dpopKey(t)
	tok := h.signed(map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}})
	send := func(nonce string) response {
		return h.do("GET", "/auth?profile=dpop-nonce", "", nil, append(forwarded(), "Authorization", "DPoP "+tok,
			"DPoP", h.proof(k, "GET", appURL, tok, dpop.ProofOptions{Nonce: nonce}))...)
	}
	r := send("")
	wantDPoPRefusal(t, r, "use_dpop_nonce")
	nonce := r.header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("no DPoP-Nonce in the refusal")
	}
	wantDPoPRefusal(t, send("made-up"), "use_dpop_nonce")
	r = send(nonce)
	if r.status != 200 || r.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("retry with the nonce: %d %v %s", r.status, r.header, r.body)
	}
}

// TestForwardAuthDPoPNeedsProxyHeaders: without the scheme and host of
// the original request, forward-auth cannot check htu and says so.
func TestForwardAuthDPoPNeedsProxyHeaders(t *testing.T) {
	h := startDPoP(t)
	k := dpopKey(t)
	tok := h.signed(map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}})
	r := h.do("GET", "/auth?profile=dpop-allow", "", nil, "X-Original-URI", "/api/tickets/7", "Authorization", "DPoP "+tok,
		"DPoP", h.proof(k, "GET", appURL, tok, dpop.ProofOptions{}))
	wantDPoPRefusal(t, r, "invalid_dpop_proof")
	var found bool
	for _, e := range h.entries("") {
		found = found || strings.Contains(e.Reason, "X-Forwarded-Proto")
	}
	if !found {
		t.Fatal("the debugger does not say which headers are missing")
	}
	// nginx style: an absolute X-Original-URL names it all.
	r = h.do("POST", "/auth?profile=dpop-allow", "", nil, "X-Original-URL", appURL+"?q=1", "X-Original-Method", "PUT",
		"Authorization", "DPoP "+tok, "DPoP", h.proof(k, "PUT", appURL, tok, dpop.ProofOptions{}))
	if r.status != 200 {
		t.Fatalf("X-Original-URL: %d %s", r.status, r.body)
	}
	// A caller's own X-Original-URL, passed on by Traefik or Caddy, does
	// not override what the proxy set: a proof for another URL is refused.
	r = h.do("GET", "/auth?profile=dpop-allow", "", nil, append(forwarded(), "X-Original-URL", "https://"+appHost+"/elsewhere",
		"Authorization", "DPoP "+tok, "DPoP", h.proof(k, "GET", "https://"+appHost+"/elsewhere", tok, dpop.ProofOptions{}))...)
	wantDPoPRefusal(t, r, "invalid_dpop_proof")
}

// TestProviderWebserviceDPoP: a provider webservice checks the proof
// against the request serve received.
func TestProviderWebserviceDPoP(t *testing.T) {
	h := startDPoP(t)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	ws := provider("tickets", "/tickets/:id", up.url, "GET", "POST")
	ws.Profile = "dpop-require"
	h.addWebservice(ws)
	k := dpopKey(t)
	tok := h.signed(map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}})
	u := h.base + "/ws/tickets/tickets/1"
	r := h.do("POST", "/ws/tickets/tickets/1", "", nil, "Authorization", "DPoP "+tok, "DPoP", h.proof(k, "POST", u, tok, dpop.ProofOptions{}))
	if r.status != 200 || r.body != "ok" {
		t.Fatalf("accepted: %d %s", r.status, r.body)
	}
	r = h.do("POST", "/ws/tickets/tickets/2", "", nil, "Authorization", "DPoP "+tok, "DPoP", h.proof(k, "POST", u, tok, dpop.ProofOptions{}))
	wantDPoPRefusal(t, r, "invalid_dpop_proof")
	if got, _ := up.got(); len(got) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(got))
	}
}

// hs256Proof is a proof signed with HMAC, its secret as an oct jwk.
func hs256Proof(t *testing.T, tok string) string {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef")
	sym, err := jwk.Import(secret)
	must(t, err)
	hdr := jws.NewHeaders()
	must(t, hdr.Set(jws.TypeKey, dpop.ProofType))
	must(t, hdr.Set(jws.JWKKey, sym))
	claims, _ := json.Marshal(map[string]any{"jti": "hs", "htm": "GET", "htu": appURL, "iat": time.Now().Unix(), "ath": dpop.TokenHash(tok)})
	s, err := jws.Sign(claims, jws.WithKey(jwa.HS256(), secret, jws.WithProtectedHeaders(hdr)))
	must(t, err)
	return string(s)
}

// TestRequesterWebserviceDPoP: the call of a requester webservice whose
// account uses DPoP carries "Authorization: DPoP" and a fresh proof of
// the account's key for the endpoint's URL (checked by a real Verifier
// at the endpoint), and is sent once more with the endpoint's nonce when
// it asks for one.
func TestRequesterWebserviceDPoP(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	acc, err := core.Registry{Store: h.store}.EditAccount(ctx, "billing", func(a *core.Account) error { a.DPoP = true; return nil })
	must(t, err)
	key, err := dpop.ParseStored(acc.DPoPKey.Reveal())
	must(t, err)
	nonces, err := dpop.NewNonces(time.Minute)
	must(t, err)
	v := dpop.NewVerifier(dpop.Config{Nonces: nonces})
	var url string
	ep := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
		_, err := v.Verify(dpop.Request{Proofs: r.Header.Values("DPoP"), Method: r.Method, URL: url + r.URL.Path,
			AccessToken: tok, BoundTo: key.Thumbprint()})
		var de *dpop.Error
		switch {
		case !ok:
			w.WriteHeader(http.StatusBadRequest)
		case errors.As(err, &de) && de.Code == dpop.CodeUseNonce:
			w.Header().Set("DPoP-Nonce", nonces.Issue(time.Now()))
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
		case err != nil:
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(err.Error()))
		default:
			w.Write([]byte("proof ok"))
		}
	})
	url = ep.url
	h.addWebservice(requester("dpop-echo", "billing", ep.url, "/rest/x", "POST"))
	for i := range 2 {
		r := h.do("POST", "/invoke/dpop-echo", "", strings.NewReader(`{"n":1}`))
		if r.status != 200 || r.body != "proof ok" {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	// The first call met the nonce demand (two requests), the second knew
	// the nonce already.
	if reqs, bodies := ep.got(); len(reqs) != 3 || bodies[1] != `{"n":1}` {
		t.Fatalf("endpoint got %d requests (bodies %q), want 3", len(reqs), bodies)
	}
}

// TestForwardAuthDPoPThroughNginx: the shipped nginx site tells
// forward-auth the scheme, host, method and URI the caller used, so a
// proof for the request passes, one for another path or method does not,
// and a caller's forged X-Original-URL or X-Forwarded-* changes nothing.
func TestForwardAuthDPoPThroughNginx(t *testing.T) {
	h, up, nginx := startNginxDPoP(t, false)
	k := dpopKey(t)
	tok := h.signed(map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}})
	send := func(method, path, proofMethod, proofURL string, extra ...string) response {
		hdr := append([]string{"Authorization", "DPoP " + tok, "DPoP", h.proof(k, proofMethod, proofURL, tok, dpop.ProofOptions{})}, extra...)
		return doWith(t, nginx.client, method, nginx.base+path, "", nil, hdr...)
	}
	if r := send("GET", "/api/tickets/1?x=1", "GET", nginx.base+"/api/tickets/1"); r.status != 200 || r.body != "upstream saw /api/tickets/1" {
		t.Fatalf("accepted through nginx: %d %s", r.status, r.body)
	}
	if r := send("POST", "/api/tickets/1", "POST", nginx.base+"/api/tickets/1"); r.status != 200 {
		t.Fatalf("POST through nginx: %d %s", r.status, r.body)
	}
	for name, r := range map[string]response{
		"other path":   send("GET", "/api/tickets/2", "GET", nginx.base+"/api/tickets/1"),
		"other method": send("DELETE", "/api/tickets/1", "GET", nginx.base+"/api/tickets/1"),
		"forged X-Original-URL": send("GET", "/api/tickets/2", "GET", nginx.base+"/api/tickets/1",
			"X-Original-URL", nginx.base+"/api/tickets/1"),
		"forged X-Forwarded-Host": send("GET", "/api/tickets/1", "GET", "https://evil.example.org/api/tickets/1",
			"X-Forwarded-Host", "evil.example.org"),
		"forged X-Forwarded-Uri": send("GET", "/api/tickets/2", "GET", nginx.base+"/api/tickets/1",
			"X-Forwarded-Uri", "/api/tickets/1"),
	} {
		if ch := r.header.Get("WWW-Authenticate"); r.status != 401 || !strings.Contains(ch, `DPoP error="invalid_dpop_proof"`) {
			t.Errorf("%s: %d %q %s", name, r.status, ch, r.body)
		}
	}
	if got, _ := up.got(); len(got) != 2 {
		t.Fatalf("upstream got %d requests, want 2", len(got))
	}
}

// startNginxDPoP starts serve behind the shipped nginx site, its
// profiles with DPoP allowed (and nonces demanded).
func startNginxDPoP(t *testing.T, nonce bool) (*harness, *upstream, *nginxSite) {
	h := startWith(t, func(h *harness) {
		reg := core.Registry{Store: h.store}
		p := core.NewProfile("keycloak")
		p.DiscoveryURL, p.ClientID, p.DPoP, p.DPoPNonce = h.op.DiscoveryURL, oidctest.ServiceClientID, core.DPoPAllow, nonce
		must(t, reg.AddProfile(context.Background(), p))
		p.Name, p.Restrictions.Scopes = "keycloak-admin", []string{"tickets.write"}
		must(t, reg.AddProfile(context.Background(), p))
	})
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("upstream saw " + r.URL.Path)) })
	return h, up, startNginx(t, h.base, up.url)
}

// TestForwardAuthDPoPNonceThroughNginx: behind the shipped nginx site a
// client learns the nonce from the refusal and gets through with it.
func TestForwardAuthDPoPNonceThroughNginx(t *testing.T) {
	h, _, nginx := startNginxDPoP(t, true)
	k := dpopKey(t)
	tok := h.signed(map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint()}})
	u := nginx.base + "/api/tickets/1"
	send := func(nonce string) response {
		return doWith(t, nginx.client, "GET", u, "", nil, "Authorization", "DPoP "+tok,
			"DPoP", h.proof(k, "GET", u, tok, dpop.ProofOptions{Nonce: nonce}))
	}
	r := send("")
	nonce := r.header.Get("DPoP-Nonce")
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) || nonce == "" {
		t.Fatalf("without a nonce: %d %v", r.status, r.header)
	}
	if r := send(nonce); r.status != 200 || r.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("with the nonce: %d %v %s", r.status, r.header, r.body)
	}
}

// TestTokenSocketDPoPProof: the token socket hands a DPoP account's
// token with a proof for the request the caller names.
func TestTokenSocketDPoPProof(t *testing.T) {
	h := start(t)
	acc, err := core.Registry{Store: h.store}.EditAccount(context.Background(), "billing", func(a *core.Account) error { a.DPoP = true; return nil })
	must(t, err)
	must(t, h.srv.Reload(context.Background()))
	key, err := dpop.ParseStored(acc.DPoPKey.Reveal())
	must(t, err)
	c := unixClient(h.sock)
	const u = "https://api.example.org/x"
	status, body := get(t, c, "http://x/token/billing?dpop_method=post&dpop_url="+u)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if status != 200 || len(lines) != 2 {
		t.Fatalf("%d %q", status, body)
	}
	if _, err := dpop.NewVerifier(dpop.Config{}).Verify(dpop.Request{Proofs: lines[1:], Method: "POST", URL: u,
		AccessToken: lines[0], BoundTo: key.Thumbprint()}); err != nil {
		t.Fatalf("the socket's proof: %v", err)
	}
	var js struct {
		Token     string `json:"token"`
		DPoPProof string `json:"dpop_proof"`
	}
	status, body = get(t, c, "http://x/token/billing?format=json&dpop_method=GET&dpop_url="+u)
	if err := json.Unmarshal([]byte(body), &js); err != nil || status != 200 || js.DPoPProof == "" || js.Token != lines[0] {
		t.Fatalf("json: %d %s", status, body)
	}
	if status, body = get(t, c, "http://x/token/billing?dpop_method=GET"); status != 400 {
		t.Fatalf("no dpop_url: %d %s", status, body)
	}
}
