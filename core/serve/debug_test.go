package serve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
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
	es := h.entries("small")
	if len(es) != 10 {
		t.Fatalf("%d entries before pruning", len(es))
	}
	if e := es[0]; len(e.RequestBody) != 100 || len(e.ResponseBody) != 100 || !e.BodiesTruncated {
		t.Fatalf("bodies %d/%d bytes, truncated %v; want 100/100, true", len(e.RequestBody), len(e.ResponseBody), e.BodiesTruncated)
	}

	// Retention by count, then by age.
	h.srv.Recorder().Prune(context.Background())
	if es = h.entries("small"); len(es) != 3 {
		t.Fatalf("%d entries after pruning to 3", len(es))
	}
	newest := es[0].ID
	h.clock.Add(core.DefaultDebugMaxAge + time.Hour)
	defer h.clock.Add(-core.DefaultDebugMaxAge - time.Hour)
	h.do("POST", "/ws/small/", tok, nil)
	h.srv.Recorder().Prune(context.Background())
	es = h.entries("small")
	if len(es) != 1 || es[0].ID <= newest {
		t.Fatalf("after the max age: %+v", es)
	}
}

// The recorder prunes by itself once a tenth of the entries were written.
func TestDebuggerPrunesAsItWrites(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.ForwardAuthDebug.Mode = "all"; c.ForwardAuthDebug.MaxEntries = 20 })
	for range 120 {
		h.do("GET", "/auth", "bad", nil)
	}
	waitFor(t, "pruning", func() bool { return len(h.entries("")) <= 20+50 })
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
