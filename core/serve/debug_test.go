package serve_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/dpop"
	"oidcctl/core/oidctest"
	"oidcctl/core/serve/debuglog"
)

func TestDebuggerRedacts(t *testing.T) {
	h := start(t)
	tok := h.serviceToken("openid")
	const (
		password     = "hunter2-very-secret"
		refreshToken = "rt-opaque-0123456789abcdef"
		clientSecret = "cs-opaque-0123456789abcdef"
		sessionID    = "sess-0123456789abcdef"
	)
	// An upstream that echoes what it should not: the caller's token, a
	// refresh token, a cookie.
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session="+sessionID+"; Path=/; HttpOnly")
		w.Write([]byte(`{"echo":"` + r.Header.Get("Authorization") + `","tokens":{"refresh_token":"` + refreshToken + `","expires_in":300},"list":[1,{"id_token":"x"}],"ok":true}`))
	})
	h.addWebservice(provider("login", "/Session", up.url, "POST"))
	body := `{"UserLogin":"agent","Password":"` + password + `","Nested":{"client_secret":"` + clientSecret + `"},"Keep":"this"}`
	r := h.do("POST", "/ws/login/Session?access_token="+url.QueryEscape(tok)+"&page=2", tok, strings.NewReader(body),
		"Content-Type", "application/json", "Cookie", "session="+sessionID+"; theme=dark", "X-Api-Key", "key-0123456789")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}

	// The requester side: a form body with a client secret, the token
	// attached by oidcctl.
	ep := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte("access_token=" + r.Header.Get("Authorization")[7:] + "&state=fine"))
	})
	h.addWebservice(requester("out", "billing", ep.url, "/token", "POST"))
	r = h.do("POST", "/invoke/out", "", strings.NewReader("grant_type=password&password="+password+"&client_secret="+clientSecret+"&scope=openid"),
		"Content-Type", "application/x-www-form-urlencoded")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	st, err := h.store.TokenState(context.Background(), "billing")
	must(t, err)
	attached := st.Tokens.AccessToken.Reveal()

	in := h.entries("login")
	if len(in) != 1 {
		t.Fatalf("%d entries", len(in))
	}
	e := in[0]
	assertNoSecret(t, e, tok, password, refreshToken, clientSecret, sessionID, "key-0123456789")
	for _, want := range []string{`"UserLogin":"agent"`, `"Password":"[REDACTED]"`, `"Keep":"this"`, `"client_secret":"[REDACTED]"`} {
		if !strings.Contains(string(e.RequestBody), want) {
			t.Errorf("request body lacks %s: %s", want, e.RequestBody)
		}
	}
	for _, want := range []string{`"refresh_token":"[REDACTED]"`, `"expires_in":300`, `{"id_token":"[REDACTED]"}`, `"ok":true`} {
		if !strings.Contains(string(e.ResponseBody), want) {
			t.Errorf("response body lacks %s: %s", want, e.ResponseBody)
		}
	}
	if e.RequestHeader.Get("Cookie") != "session=[REDACTED]; theme=[REDACTED]" || e.ResponseHeader.Get("Set-Cookie") != "session=[REDACTED]; Path=/; HttpOnly" {
		t.Errorf("cookies: %q / %q", e.RequestHeader.Get("Cookie"), e.ResponseHeader.Get("Set-Cookie"))
	}
	if !strings.Contains(e.Path, "access_token=[REDACTED]&page=2") || e.User != "sid1" || e.Verdict != "accepted" || e.Method != "POST" {
		t.Errorf("entry: %+v", e)
	}

	out := h.entries("out")
	if len(out) != 1 {
		t.Fatalf("%d entries", len(out))
	}
	o := out[0]
	assertNoSecret(t, o, attached, password, clientSecret)
	if o.Direction != core.DirectionOutgoing || o.Path != ep.url+"/token" || o.RequestHeader.Get("Authorization") != "Bearer [REDACTED]" {
		t.Errorf("outgoing entry: %+v", o)
	}
	if string(o.RequestBody) != "grant_type=password&password=[REDACTED]&client_secret=[REDACTED]&scope=openid" ||
		string(o.ResponseBody) != "access_token=[REDACTED]&state=fine" {
		t.Errorf("outgoing bodies: %s / %s", o.RequestBody, o.ResponseBody)
	}
}

func TestDebuggerLimits(t *testing.T) {
	h := start(t)
	tok := h.serviceToken("openid")
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat("r", 300))) })
	quiet := provider("quiet", "/", up.url, "POST")
	quiet.Debug.Enabled = false
	h.addWebservice(quiet)
	small := provider("small", "/", up.url, "POST")
	small.Debug.MaxBody, small.Debug.MaxEntries = 100, 3
	h.addWebservice(small)
	for range 10 {
		for _, ws := range []string{"quiet", "small"} {
			if r := h.do("POST", "/ws/"+ws+"/", tok, strings.NewReader(strings.Repeat("q", 300))); r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
		}
	}
	if es := h.entries("quiet"); len(es) != 0 {
		t.Fatalf("the debugger recorded %d calls of a webservice that switched it off", len(es))
	}
	// The retention holds at every write: never more than 3 entries.
	es := h.entries("small")
	if len(es) != 3 {
		t.Fatalf("%d entries after 10 calls, want the 3 the webservice keeps", len(es))
	}
	if e := es[0]; len(e.RequestBody) != 100 || len(e.ResponseBody) != 100 || !e.BodiesTruncated {
		t.Fatalf("bodies %d/%d bytes, truncated %v; want 100/100, true", len(e.RequestBody), len(e.ResponseBody), e.BodiesTruncated)
	}

	// By age: the write of the next call takes the old ones away.
	newest := es[0].ID
	h.clock.Add(core.DefaultDebugMaxAge + time.Hour)
	defer h.clock.Add(-core.DefaultDebugMaxAge - time.Hour)
	h.do("POST", "/ws/small/", tok, nil)
	es = h.entries("small")
	if len(es) != 1 || es[0].ID <= newest {
		t.Fatalf("after the max age: %+v", es)
	}
}

// The recorder prunes as it writes: forward-auth's limit holds however
// many calls come.
func TestDebuggerPrunesAsItWrites(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.ForwardAuthDebug.Mode = "all"; c.ForwardAuthDebug.MaxEntries = 20 })
	for i := range 120 {
		h.do("GET", "/auth", "bad", nil)
		if i%10 == 9 {
			if n := len(h.entries("")); n != min(i+1, 20) {
				t.Fatalf("after %d calls: %d entries, want %d", i+1, n, min(i+1, 20))
			}
		}
	}
	if es := h.entries(""); es[0].Verdict != "refused" || es[0].RequestHeader.Get("Authorization") != "Bearer "+debuglog.Redacted {
		t.Fatalf("%+v", es[0])
	}
}

// The debugger records at most DebugRate calls a second of a webservice;
// the others are counted.
func TestDebuggerRate(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.DebugRate = 2; c.ForwardAuthDebug.Mode = "all" })
	for range 20 {
		h.do("GET", "/auth", "bad", nil)
	}
	es := h.entries("")
	if len(es) < 8 || len(es) > 10 {
		t.Fatalf("%d entries of 20 calls at 2/s with bursts of 8", len(es))
	}
	want := fmt.Sprintf(`oidcctl_debug_skipped_total{webservice="forward-auth"} %d`, 20-len(es))
	if m := h.do("GET", "/metrics", "", nil).body; !strings.Contains(m, want) {
		t.Fatalf("metrics lack %s", want)
	}
}

// Every secret serve holds is redacted wherever it appears in a recorded
// call: the tokens of its accounts (obtained by this process, or by
// another one and read from the store), and the client secrets of its
// profiles, here echoed by an upstream in a text body, a JSON value under
// a harmless key, an XML element and a header (issue #9).
func TestDebuggerRedactsTheSecretsServeHolds(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	tok := h.serviceToken("openid")
	// The provider hands out opaque tokens (no JWT the pattern would
	// catch anyway).
	const (
		at1 = "opaque-at-1-0123456789abcdef"
		rt1 = "opaque-rt-1-0123456789abcdef"
		at2 = "opaque-at-2-fedcba9876543210"
	)
	h.op.SetTokenMiddleware(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"` + at1 + `","token_type":"Bearer","expires_in":3600,"refresh_token":"` + rt1 + `"}`))
		})
	})
	if _, err := h.tokens.Refresh(ctx, "billing"); err != nil {
		t.Fatal(err)
	}
	h.op.SetTokenMiddleware(nil)

	var echo atomic.Value
	echo.Store([]string{at1, rt1, oidctest.ServiceClientSecret})
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		vs := echo.Load().([]string)
		w.Header().Set("X-Echo", vs[0])
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		switch r.URL.Query().Get("ct") {
		case "application/json":
			w.Write([]byte(`{"sessions":[{"value":"` + strings.Join(vs, `"},{"value":"`) + `"}]}`))
		case "application/xml":
			w.Write([]byte("<Sessions><Value>" + strings.Join(vs, "</Value><Value>") + "</Value></Sessions>"))
		default:
			w.Write([]byte("known values: " + strings.Join(vs, ", ")))
		}
	})
	h.addWebservice(provider("echo", "/", up.url, "GET"))
	for _, ct := range []string{"text/plain", "application/json", "application/xml"} {
		if r := h.do("GET", "/ws/echo/?ct="+url.QueryEscape(ct), tok, nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	es := h.entries("echo")
	if len(es) != 3 {
		t.Fatalf("%d entries", len(es))
	}
	for _, e := range es {
		assertNoSecret(t, e, at1, rt1, oidctest.ServiceClientSecret)
		if n := strings.Count(string(e.ResponseBody), debuglog.Redacted); n != 3 || e.ResponseHeader.Get("X-Echo") != debuglog.Redacted {
			t.Errorf("%s: %d redactions, X-Echo %q: %s", e.ResponseHeader.Get("Content-Type"), n, e.ResponseHeader.Get("X-Echo"), e.ResponseBody)
		}
	}

	// Another process renews the tokens: serve reads them from the store
	// (every ReloadInterval, and at a reload) and redacts them too, and
	// the ones they replaced still.
	now := time.Now()
	if _, ok, err := h.store.AcquireLease(ctx, "billing", "other-process", now, now.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	must(t, h.store.SaveTokens(ctx, "billing", "other-process", core.TokenSet{AccessToken: core.NewSecret(at2), TokenType: "Bearer", Expiry: now.Add(time.Hour)}))
	must(t, h.srv.Reload(ctx))
	echo.Store([]string{at2, at1, rt1})
	if r := h.do("GET", "/ws/echo/?ct=text/plain", tok, nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	es = h.entries("echo")
	assertNoSecret(t, es[0], at2, at1, rt1)
	if got := string(es[0].ResponseBody); got != "known values: [REDACTED], [REDACTED], [REDACTED]" {
		t.Errorf("after the renewal elsewhere: %s", got)
	}
}

// A SOAP call through a provider webservice (the manual's
// GenericInterface): the password and session id in the XML bodies and
// the secrets in the query are redacted in the stored entry (issue #9).
func TestDebuggerRedactsSOAP(t *testing.T) {
	h := start(t)
	tok := h.serviceToken("openid")
	const (
		password  = "soap-password-0123"
		sessionID = "c29hcC1zZXNzaW9uLTAxMjM0NTY3ODk"
	)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write([]byte(`<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
			`<SessionCreateResponse xmlns="http://www.otrs.org/TicketConnector/"><SessionID>` + sessionID + `</SessionID></SessionCreateResponse>` +
			`</soap:Body></soap:Envelope>`))
	})
	h.addWebservice(provider("soap", "/", up.url, "POST"))
	body := `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tic="http://www.otrs.org/TicketConnector/">` +
		`<soap:Body><tic:SessionCreate><tic:UserLogin>agent</tic:UserLogin><tic:Password>` + password + `</tic:Password></tic:SessionCreate></soap:Body></soap:Envelope>`
	r := h.do("POST", "/ws/soap/?SessionID="+sessionID+"&CODE=auth-code-0123&Api_Key=api-key-0123&Access_Token=at-0123456789&Page=2", tok,
		strings.NewReader(body), "Content-Type", "text/xml; charset=utf-8")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	es := h.entries("soap")
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	assertNoSecret(t, e, password, sessionID, "auth-code-0123", "api-key-0123", "at-0123456789")
	for what, want := range map[string]string{
		"request body":  "<tic:UserLogin>agent</tic:UserLogin><tic:Password>[REDACTED]</tic:Password>",
		"response body": "<SessionID>[REDACTED]</SessionID>",
		"path":          "?SessionID=[REDACTED]&CODE=[REDACTED]&Api_Key=[REDACTED]&Access_Token=[REDACTED]&Page=2",
	} {
		got := map[string]string{"request body": string(e.RequestBody), "response body": string(e.ResponseBody), "path": e.Path}[what]
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %s: %s", what, want, got)
		}
	}
}

// A token request passing through a provider webservice (a gateway in
// front of a token endpoint) with a client assertion (RFC 7523), a PKCE
// verifier and a DPoP proof, answered by an upstream that echoes what it
// got: the debugger's entry holds none of them, in the request or in the
// echo.
func TestDebuggerRedactsAssertionsVerifiersAndProofs(t *testing.T) {
	h := start(t)
	tok := h.serviceToken("openid")
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Seen-DPoP", r.Header.Get("DPoP"))
		fmt.Fprintf(w, "got %s with proof %s", b, r.Header.Get("DPoP"))
	})
	h.addWebservice(provider("gateway", "/oauth/token", up.url, "POST"))
	k := dpopKey(t)
	u := h.base + "/ws/gateway/oauth/token"
	assertion := h.proof(dpopKey(t), "POST", u, "", dpop.ProofOptions{}) // a signed JWT, as an assertion is
	proof := h.proof(k, "POST", u, "", dpop.ProofOptions{})
	verifier := "pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {"auth-code-0123456789"}, "code_verifier": {verifier},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
	}
	r := h.do("POST", "/ws/gateway/oauth/token", tok, strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "DPoP", proof)
	if r.status != 200 || !strings.Contains(r.body, verifier) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	es := h.entries("gateway")
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	assertNoSecret(t, es[0], assertion, proof, verifier, "auth-code-0123456789")
	if len(es[0].RequestBody) == 0 || len(es[0].ResponseBody) == 0 || es[0].RequestHeader.Get("DPoP") == "" {
		t.Fatalf("the entry recorded too little to tell: %+v", es[0])
	}
}
