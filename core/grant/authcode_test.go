package grant_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// get fetches u and returns the status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// callbackURL is the redirect URI with query values.
func callbackURL(redirectURI string, q url.Values) string { return redirectURI + "?" + q.Encode() }

func TestAuthorizeLoopback(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, tc := range []struct {
		name    string
		profile core.Profile
	}{
		{"confidential client", e.web()},
		{"public client (PKCE only)", e.native()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.op.ResetTokenRequests()
			a := account("support-bot", core.GrantAuthorizationCode, "openid", "offline_access")
			a.Resources = []string{"https://api.example/", "https://billing.example/"}
			var authURL *url.URL
			browser := e.op.BrowserFunc(e.op.Username(), oidctest.Password)
			open := func(u string) error {
				authURL, _ = url.Parse(u)
				return browser(u)
			}
			set, err := e.c.AuthorizeLoopback(ctxT(t), tc.profile, e.doc, a, open, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !set.AccessToken.IsSet() || !set.RefreshToken.IsSet() || !set.IDToken.IsSet() {
				t.Fatalf("want access, refresh and id token: %+v", set)
			}
			id, err := jwt.ParseInsecure([]byte(set.IDToken.Reveal()))
			if err != nil {
				t.Fatal(err)
			}
			if sub, _ := id.Subject(); sub != oidctest.UserID {
				t.Errorf("id_token sub = %q, want %q", sub, oidctest.UserID)
			}

			q := authURL.Query()
			redirect, _ := url.Parse(q.Get("redirect_uri"))
			if redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" || redirect.Port() == "" {
				t.Errorf("redirect_uri = %s, want http://127.0.0.1:PORT/callback", redirect)
			}
			if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
				t.Errorf("PKCE: method %q, challenge %q", q.Get("code_challenge_method"), q.Get("code_challenge"))
			}
			if len(q.Get("state")) != core.DefaultRandLength || len(q.Get("nonce")) != core.DefaultRandLength {
				t.Errorf("state %q, nonce %q: want %d characters each", q.Get("state"), q.Get("nonce"), core.DefaultRandLength)
			}
			if !slices.Equal(q["resource"], a.Resources) || q.Get("scope") != "openid offline_access" {
				t.Errorf("authorization request: resource %v, scope %q", q["resource"], q.Get("scope"))
			}
			var nonce string
			_ = id.Get("nonce", &nonce)
			if nonce != q.Get("nonce") {
				t.Errorf("id_token nonce %q, sent %q", nonce, q.Get("nonce"))
			}

			reqs := e.op.TokenRequests()
			if len(reqs) != 1 {
				t.Fatalf("%d token requests", len(reqs))
			}
			tr := reqs[0]
			if tr.Get("grant_type") != "authorization_code" || tr.Get("redirect_uri") != redirect.String() ||
				len(tr.Get("code_verifier")) != 43 || !slices.Equal(tr["resource"], a.Resources) {
				t.Errorf("token request = %v", tr)
			}

			// The server is gone.
			if _, err := http.Get(redirect.String()); err == nil {
				t.Error("the callback server still answers after the login")
			}
		})
	}
}

// startFlow starts a callback server and a flow for the web client.
func startFlow(t *testing.T, e *env) (*grant.Callback, *grant.AuthCodeFlow) {
	t.Helper()
	cb, err := grant.Listen(t.Context(), grant.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cb.Close)
	f, err := e.c.StartAuthCode(e.web(), e.doc, account("support-bot", core.GrantAuthorizationCode, "openid"), cb.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	return cb, f
}

type waitResult struct {
	set core.TokenSet
	err error
}

func waitAsync(ctx context.Context, cb *grant.Callback, f *grant.AuthCodeFlow) chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		set, err := cb.Wait(ctx, f)
		ch <- waitResult{set, err}
	}()
	return ch
}

func TestCallbackWrongStateRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cb, f := startFlow(t, e)
	done := waitAsync(ctxT(t), cb, f)

	for _, q := range []url.Values{
		{"code": {"stolen"}, "state": {"not-the-state"}},
		{"code": {"stolen"}},
		{},
	} {
		status, body := get(t, callbackURL(cb.RedirectURI, q))
		if status != http.StatusBadRequest || !strings.Contains(body, "wrong state") {
			t.Errorf("callback %v: %d %q, want 400 saying wrong state", q, status, body)
		}
	}
	if n := len(e.op.TokenRequests()); n != 0 {
		t.Fatalf("%d token requests after wrong states", n)
	}
	select {
	case r := <-done:
		t.Fatalf("Wait returned after a wrong state: %v", r.err)
	default:
	}

	// The real login still works.
	loc, err := e.op.Authorize(ctxT(t), f.URL, e.op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	status, body := get(t, loc.String())
	if status != http.StatusOK || !strings.Contains(body, "You can close this window") {
		t.Errorf("login page: %d %q", status, body)
	}
	r := <-done
	if r.err != nil || !r.set.AccessToken.IsSet() {
		t.Fatalf("Wait = %v", r.err)
	}
	if !strings.Contains(e.log.String(), "wrong state") {
		t.Error("the refused callbacks were not logged")
	}
}

func TestCallbackProviderError(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cb, f := startFlow(t, e)
	done := waitAsync(ctxT(t), cb, f)

	status, body := get(t, callbackURL(cb.RedirectURI, url.Values{
		"error": {"access_denied"}, "error_description": {"The user said <no>"}, "state": {f.State},
	}))
	if status != http.StatusBadRequest || !strings.Contains(body, "Login failed") ||
		!strings.Contains(body, "The user said &lt;no&gt;") {
		t.Errorf("page: %d %q, want the error, escaped", status, body)
	}
	r := <-done
	var pe *grant.ProviderError
	if !errors.Is(r.err, grant.ErrAccessDenied) || !errors.As(r.err, &pe) || pe.Description != "The user said <no>" {
		t.Fatalf("err = %v, want access_denied with its description", r.err)
	}
	t.Log(r.err)
	if !strings.Contains(r.err.Error(), "access_denied") || !strings.Contains(r.err.Error(), "support-bot") {
		t.Errorf("err = %q", r.err)
	}
	// Served exactly one callback: the server is gone.
	if _, err := http.Get(cb.RedirectURI); err == nil {
		t.Error("the callback server still answers")
	}
}

func TestAuthorizeLoopbackTimeoutAndCancel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := account("support-bot", core.GrantAuthorizationCode, "openid")
	redirects := make(chan string, 1)
	showOnly := func(u string) error {
		pu, _ := url.Parse(u)
		redirects <- pu.Query().Get("redirect_uri")
		return nil
	}

	start := time.Now()
	_, err := e.c.AuthorizeLoopback(ctxT(t), e.web(), e.doc, a, showOnly, 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up after 300ms") {
		t.Fatalf("timeout: err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %s", d)
	}
	if _, err := http.Get(<-redirects); err == nil {
		t.Error("the callback server still answers after the timeout")
	}

	ctx, cancel := context.WithCancel(ctxT(t))
	cancelOnShow := func(u string) error {
		_ = showOnly(u)
		cancel() // Ctrl-C
		return nil
	}
	_, err = e.c.AuthorizeLoopback(ctx, e.web(), e.doc, a, cancelOnShow, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: err = %v", err)
	}
	if _, err := http.Get(<-redirects); err == nil {
		t.Error("the callback server still answers after Ctrl-C")
	}

	_, err = e.c.AuthorizeLoopback(ctxT(t), e.web(), e.doc, a, func(string) error { return errors.New("no browser here") }, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "no browser here") {
		t.Fatalf("open failing: err = %v", err)
	}
}

func TestAuthCodeExpiredState(t *testing.T) {
	t.Parallel()
	e := setup(t)
	now, clk := fixedClock()
	e.c.Now = now
	p := e.web()
	p.Misc.RandTTL = time.Minute
	f, err := e.c.StartAuthCode(p, e.doc, account("support-bot", core.GrantAuthorizationCode, "openid"), "http://127.0.0.1/callback")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Expires.Equal(now().Add(time.Minute)) {
		t.Errorf("Expires = %v, want now + RandTTL", f.Expires)
	}
	loc, err := e.op.Authorize(ctxT(t), f.URL, e.op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute + time.Second)
	_, err = f.ExchangeRedirect(ctxT(t), loc.String())
	if !errors.Is(err, grant.ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	t.Log(err)
	if n := len(e.op.TokenRequests()); n != 0 {
		t.Errorf("the code was sent after the state expired (%d token requests)", n)
	}
}

func TestAuthCodePastedRedirect(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// No server at all: the admin logs in elsewhere and pastes the URL.
	p := e.web()
	p.Misc.RandLength = 40
	p.Misc.UseNonce = true
	f, err := e.c.StartAuthCode(p, e.doc, account("support-bot", core.GrantAuthorizationCode, "offline_access"), "http://127.0.0.1/callback")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.State) != 40 {
		t.Errorf("state %q: want 40 characters", f.State)
	}
	if u, _ := url.Parse(f.URL); len(u.Query().Get("nonce")) != 40 {
		t.Errorf("UseNonce without openid: no nonce of 40 characters in %s", f.URL)
	}
	loc, err := e.op.Authorize(ctxT(t), f.URL, e.op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := f.ExchangeRedirect(ctxT(t), "http://127.0.0.1/elsewhere?"+loc.RawQuery); err == nil || !strings.Contains(err.Error(), "not the redirect") {
		t.Errorf("wrong path: err = %v", err)
	}
	wrong := loc.Query()
	wrong.Set("state", "forged")
	if _, err := f.ExchangeRedirect(ctxT(t), "http://127.0.0.1/callback?"+wrong.Encode()); !errors.Is(err, grant.ErrStateMismatch) {
		t.Errorf("forged state: err = %v", err)
	}

	set, err := f.ExchangeRedirect(ctxT(t), "  "+loc.String()+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if !set.AccessToken.IsSet() || !set.RefreshToken.IsSet() {
		t.Fatalf("tokens: %+v", set)
	}
	if _, err := f.ExchangeRedirect(ctxT(t), loc.String()); !errors.Is(err, grant.ErrFlowUsed) {
		t.Errorf("second use: err = %v, want ErrFlowUsed", err)
	}

	// Just the query works too.
	f2, _ := e.c.StartAuthCode(p, e.doc, account("support-bot", core.GrantAuthorizationCode, "openid"), "http://127.0.0.1/callback")
	loc2, err := e.op.Authorize(ctxT(t), f2.URL, e.op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f2.ExchangeRedirect(ctxT(t), "?"+loc2.RawQuery); err != nil {
		t.Fatalf("query only: %v", err)
	}
}

func TestAuthCodeNonceMismatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	f, err := e.c.StartAuthCode(e.web(), e.doc, account("support-bot", core.GrantAuthorizationCode, "openid"), "http://127.0.0.1/callback")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := e.op.Authorize(ctxT(t), f.URL, e.op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	c := idClaims(e.op, time.Now())
	c["nonce"] = "a-nonce-from-another-login"
	forged, err := e.op.SignJWT(c)
	if err != nil {
		t.Fatal(err)
	}
	rewriteTokenResponse(e.op, func(m map[string]any) { m["id_token"] = forged })
	set, err := f.ExchangeRedirect(ctxT(t), loc.String())
	if !errors.Is(err, grant.ErrIDToken) || !strings.Contains(err.Error(), "id_token nonce mismatch") {
		t.Fatalf("err = %v, want id_token nonce mismatch", err)
	}
	if set.AccessToken.IsSet() || set.RefreshToken.IsSet() {
		t.Error("tokens returned despite the nonce mismatch")
	}
}

func TestListen(t *testing.T) {
	t.Parallel()
	cb, err := grant.Listen(t.Context(), grant.ListenOptions{Host: "localhost", Path: "cb"})
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	u, _ := url.Parse(cb.RedirectURI)
	if u.Hostname() != "localhost" || u.Path != "/cb" || u.Port() == "0" {
		t.Errorf("RedirectURI = %s", cb.RedirectURI)
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		resp, err := http.Get("http://" + host + ":" + u.Port() + "/favicon.ico")
		if err != nil {
			if host == "[::1]" {
				t.Logf("no IPv6 loopback here: %v", err)
				continue
			}
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: other path: %d, want 404", host, resp.StatusCode)
		}
	}
	resp, err := http.Post(cb.RedirectURI, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}

	if _, err := grant.Listen(t.Context(), grant.ListenOptions{Host: "0.0.0.0"}); err == nil {
		t.Error("a non-loopback host was accepted")
	}

	// The server closes with its context.
	ctx, cancel := context.WithCancel(t.Context())
	cb2, err := grant.Listen(ctx, grant.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	testkit.Eventually(t, 5*time.Second, "the server to stop answering after its context ended", func() bool {
		resp, err := http.Get(cb2.RedirectURI)
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
}

// TestWaitNamesWhyTheLoginEnded: when the login's context ends, the server
// closes with it, so Wait sees both at once; the error must still say why
// (the cause), not that the server was closed. Both channels are ready
// before Wait runs, so each round is a fair draw for the select.
func TestWaitNamesWhyTheLoginEnded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := account("support-bot", core.GrantAuthorizationCode, "openid")
	why := errors.New("no browser here")
	for range 32 {
		ctx, cancel := context.WithCancelCause(ctxT(t))
		cb, err := grant.Listen(ctx, grant.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f, err := e.c.StartAuthCode(e.web(), e.doc, a, cb.RedirectURI)
		if err != nil {
			t.Fatal(err)
		}
		cancel(why)
		cb.Close()
		if _, err := cb.Wait(ctx, f); !errors.Is(err, why) {
			t.Fatalf("err = %v, want the cause %q", err, why)
		}
	}
}
