package grant_test

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

// freePort returns a port that was free on host a moment ago.
func freePort(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A browser login listens on exactly the configured redirect URI (host,
// port, path), sends exactly it as redirect_uri in the authorization and
// token requests, and completes against the in-process provider; the
// account's redirect URI wins over the profile's.
func TestAuthorizeLoopbackConfiguredRedirectURI(t *testing.T) {
	t.Parallel()
	v6 := freePort(t, "::1")
	fixed := freePort(t, "127.0.0.1")
	local := freePort(t, "127.0.0.1")
	v6URI := "http://[::1]:" + strconv.Itoa(v6) + "/oidc/return"
	e := setup(t, oidctest.WithRedirectURIs(v6URI))
	for _, tc := range []struct {
		name             string
		profile, account string
		want             string // "" for the default
		wantHost         string
		wantPath         string
	}{
		{name: "default", wantHost: "127.0.0.1", wantPath: "/callback"},
		{name: "fixed port", account: "http://127.0.0.1:" + strconv.Itoa(fixed) + "/callback",
			want: "http://127.0.0.1:" + strconv.Itoa(fixed) + "/callback"},
		{name: "free port, custom path, from the profile", profile: "http://127.0.0.1/my/cb", wantHost: "127.0.0.1", wantPath: "/my/cb"},
		{name: "account over profile", profile: "http://127.0.0.1/profile-cb", account: "http://127.0.0.1:0/account-cb",
			wantHost: "127.0.0.1", wantPath: "/account-cb"},
		{name: "localhost", account: "http://localhost:" + strconv.Itoa(local) + "/cb",
			want: "http://localhost:" + strconv.Itoa(local) + "/cb"},
		{name: "[::1]", account: v6URI, want: v6URI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.op.ResetTokenRequests()
			p := e.native()
			p.RedirectURI = tc.profile
			a := account("support-bot", core.GrantAuthorizationCode, "openid")
			a.RedirectURI = tc.account
			var sent string
			browser := e.op.BrowserFunc(e.op.Username(), oidctest.Password)
			open := func(u string) error {
				au, err := url.Parse(u)
				if err != nil {
					return err
				}
				sent = au.Query().Get("redirect_uri")
				return browser(u)
			}
			set, err := e.c.AuthorizeLoopback(ctxT(t), p, e.doc, a, open, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !set.AccessToken.IsSet() {
				t.Fatal("no access token")
			}
			if tc.want != "" {
				if sent != tc.want {
					t.Errorf("redirect_uri = %q, want exactly %q", sent, tc.want)
				}
			} else {
				u, err := url.Parse(sent)
				if err != nil {
					t.Fatal(err)
				}
				if u.Scheme != "http" || u.Hostname() != tc.wantHost || u.Path != tc.wantPath || u.Port() == "" || u.Port() == "0" {
					t.Errorf("redirect_uri = %q, want http://%s:<bound port>%s", sent, tc.wantHost, tc.wantPath)
				}
			}
			reqs := e.op.TokenRequests()
			if len(reqs) != 1 || reqs[0].Get("redirect_uri") != sent {
				t.Errorf("token requests %v, want one with redirect_uri %q", reqs, sent)
			}
		})
	}
}

// A fixed port that another program holds gives an error naming the port
// before anything is sent to the provider.
func TestAuthorizeLoopbackTakenPort(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	a := account("support-bot", core.GrantAuthorizationCode, "openid")
	a.RedirectURI = "http://127.0.0.1:" + port + "/callback"
	opened := false
	_, err = e.c.AuthorizeLoopback(ctxT(t), e.native(), e.doc, a, func(string) error { opened = true; return nil }, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "port "+port+" on 127.0.0.1 is taken") {
		t.Fatalf("err = %v, want one naming port %s as taken", err, port)
	}
	if opened {
		t.Error("the authorization URL was shown although nothing listens for the answer")
	}
}

// Redirect URIs the loopback server cannot answer are refused, saying
// why, both when stored and when listened on.
func TestRedirectURIRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ uri, want string }{
		{"https://oidcctl.example.org", "needs a path"},
		{"https://oidcctl.example.org/", "needs a path"},
		{"https:///callback", "no host"},
		{"https://oidcctl.example.org/auth/callback", "serve's own routes"},
		{"https://oidcctl.example.org/ws/callback", "serve's own routes"},
		{"https://oidcctl.example.org/healthz", "serve's own routes"},
		{"https://oidcctl.example.org/callback?x=1", "query"},
		{"http://oidcctl.example.org/callback", "not on a loopback host"},
		{"http://10.0.0.1:8400/callback", "not on a loopback host"},
		{"http://0.0.0.0:8400/callback", "not on a loopback host"},
		{"ftp://127.0.0.1/callback", "http URI on a loopback host"},
		{"http://127.0.0.1:8400/callback#x", "fragment"},
		{"http://127.0.0.1:8400/callback?x=1", "query"},
		{"http://127.0.0.1:99999/callback", "port"},
		{"http://user:pw@127.0.0.1:8400/callback", "user name"},
	} {
		if msg := core.CheckRedirectURI(tc.uri); !strings.Contains(msg, tc.want) {
			t.Errorf("CheckRedirectURI(%q) = %q, want it to say %q", tc.uri, msg, tc.want)
		}
		a := core.NewAccount("acc", "op")
		a.Scopes, a.RedirectURI = []string{"openid"}, tc.uri
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "redirect URI") {
			t.Errorf("account with %q: %v, want a redirect URI problem", tc.uri, err)
		}
		p := core.NewProfile("op")
		p.DiscoveryURL, p.ClientID, p.RedirectURI = "https://op.example/.well-known/openid-configuration", "cid", tc.uri
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "redirect URI") {
			t.Errorf("profile with %q: %v, want a redirect URI problem", tc.uri, err)
		}
		if cb, err := grant.ListenRedirect(t.Context(), tc.uri); err == nil {
			cb.Close()
			t.Errorf("ListenRedirect(%q) listened", tc.uri)
		}
	}
	for _, ok := range []string{"", "http://127.0.0.1:8400/callback", "http://localhost/cb", "http://[::1]:0/x/y", "http://127.0.0.1:8400",
		"https://oidcctl.example.org/callback", "https://oidcctl.example.org:8443/oidc/callback"} {
		if msg := core.CheckRedirectURI(ok); msg != "" {
			t.Errorf("CheckRedirectURI(%q) = %q, want it accepted", ok, msg)
		}
	}
	// An https one is served by `oidcctl serve`, never by a loopback
	// callback.
	if cb, err := grant.ListenRedirect(t.Context(), "https://oidcctl.example.org/callback"); !errors.Is(err, grant.ErrServeRedirect) {
		if cb != nil {
			cb.Close()
		}
		t.Errorf("ListenRedirect of an https URI: %v, want ErrServeRedirect", err)
	}
}

// The ssh -L line forwards to the address the callback server listens
// on: [::1] for a [::1] redirect URI, 127.0.0.1 otherwise.
func TestCallbackForwardCommand(t *testing.T) {
	t.Parallel()
	getenv := func(string) string { return "10.0.0.9 5555 10.0.0.1 22" }
	for _, tc := range []struct{ uri, target string }{
		{"", "127.0.0.1"},
		{"http://localhost/cb", "127.0.0.1"},
		{"http://[::1]/cb", "[::1]"},
	} {
		cb, err := grant.ListenRedirect(t.Context(), tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		want := "ssh -L " + strconv.Itoa(cb.Port) + ":" + tc.target + ":" + strconv.Itoa(cb.Port) + " 10.0.0.1"
		if got := cb.ForwardCommand(getenv); got != want {
			t.Errorf("%q: %q, want %q", tc.uri, got, want)
		}
		cb.Close()
	}
}
