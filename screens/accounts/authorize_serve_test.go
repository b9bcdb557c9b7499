package accounts_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
	"oidcctl/core/serve"
	"oidcctl/core/validate"
	"oidcctl/screens/accounts"
	"oidcctl/screens/internal/screentest"
)

// TestAuthorizeThroughServe: the console's authorize screen runs a login
// whose redirect URI serve answers: it shows the URL and where the browser
// returns, waits, and reports the account authorized once a serve on the
// same database has completed the login.
func TestAuthorizeThroughServe(t *testing.T) {
	const redirect = "https://oidcctl.example.org/callback"
	prov := oidctest.Start(t, oidctest.WithRedirectURIs(redirect))
	e := screentest.New(t)
	e.Clock.Set(time.Now())
	e.AddProfile(t, screentest.Profile("idp", prov.DiscoveryURL, oidctest.WebClientID, oidctest.WebClientSecret))
	a := core.NewAccount("support", "idp")
	a.GrantType, a.Scopes, a.RedirectURI = core.GrantAuthorizationCode, []string{"openid", "offline_access"}, redirect
	e.AddAccount(t, a)

	// A serve on the same database, as on another host.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	docs := &discovery.Client{Cache: e.DB, Logger: quiet}
	srv, err := serve.New(context.Background(), serve.Config{
		Store:       e.DB,
		Validator:   validate.New(validate.Config{Discovery: docs, Users: e.DB, Logger: quiet}),
		NoScheduler: true,
		Grants:      &grant.Client{Logger: quiet},
		Logger:      quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	term, _ := e.Open(t, accounts.New(e.Deps), "support")
	term.Type("o")
	f := term.WaitFor("Open this URL in a browser", "returns the browser to", "oidcctl serve completes the login", "Waiting for serve")
	if strings.Contains(f, "ssh -L") || strings.Contains(f, "press p") {
		t.Fatalf("the screen offers the loopback ways for a login through serve:\n%s", f)
	}
	authURL := shownURL(t, term, f, prov.Issuer+"/auth?")
	loc, err := prov.Authorize(context.Background(), authURL, prov.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(hs.URL + loc.Path + "?" + loc.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("serve answered %d", resp.StatusCode)
	}
	term.WaitFor("✓ support is authorized: access token and refresh token stored")
	authorized(t, e)
}
