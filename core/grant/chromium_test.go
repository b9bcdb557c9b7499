package grant_test

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"oidcctl/core"
	"oidcctl/core/oidctest"
)

// chromiumPath is Debian's Chromium, which `make test-deps` installs.
const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium for the test and returns a context
// for its first tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test drives Debian's Chromium at %s, which is missing (%v): run `make test-deps` (as root) to install it", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // root in a container
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	t.Logf("Chromium started in %s", time.Since(start).Round(time.Millisecond))
	return ctx
}

// TestAuthorizeLoopbackChromium logs in on the provider's HTML login page
// with a real browser, which then lands on the loopback callback.
func TestAuthorizeLoopbackChromium(t *testing.T) {
	t.Parallel()
	bctx := browser(t)
	e := setup(t)
	a := account("support-bot", core.GrantAuthorizationCode, "openid", "offline_access")

	type seen struct {
		strayTitle, title, message, location string
		err                                  error
	}
	done := make(chan seen, 1)
	open := func(authURL string) error {
		go func() {
			var s seen
			u, _ := url.Parse(authURL)
			redirect := u.Query().Get("redirect_uri")
			ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
			defer cancel()
			text := func(dst *string, sel string) func() error {
				return func() (err error) {
					*dst, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID(sel)))
					return err
				}
			}
			for _, step := range []func() error{
				// A stray callback first: refused, and the login goes on.
				func() error {
					return chromedp.Do(ctx, chromedp.Navigate(redirect+"?code=stolen&state=forged"), chromedp.WaitVisible(chromedp.ID("title")))
				},
				text(&s.strayTitle, "title"),
				// The login on the provider's page, which redirects to the callback.
				func() error {
					return chromedp.Do(ctx,
						chromedp.Navigate(authURL),
						chromedp.WaitVisible(chromedp.CSS("#username")),
						chromedp.SendKeys(chromedp.CSS("#username"), e.op.Username()),
						chromedp.SendKeys(chromedp.CSS("#password"), oidctest.Password),
						chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
						chromedp.WaitVisible(chromedp.ID("message")))
				},
				text(&s.title, "title"),
				text(&s.message, "message"),
				func() (err error) {
					s.location, err = chromedp.Run(ctx, chromedp.Location())
					return err
				},
			} {
				if s.err = step(); s.err != nil {
					break
				}
			}
			done <- s
		}()
		return nil
	}

	start := time.Now()
	set, err := e.c.AuthorizeLoopback(ctxT(t), e.web(), e.doc, a, open, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("login through Chromium took %s", time.Since(start).Round(time.Millisecond))
	if !set.AccessToken.IsSet() || !set.RefreshToken.IsSet() || !set.IDToken.IsSet() {
		t.Fatalf("tokens: %+v", set)
	}

	s := <-done
	if s.err != nil {
		t.Fatalf("browser: %v", s.err)
	}
	if s.strayTitle != "Not this login" {
		t.Errorf("stray callback page title %q, want \"Not this login\"", s.strayTitle)
	}
	if s.title != "Login complete" || !strings.Contains(s.message, "You can close this window") {
		t.Errorf("final page: %q / %q", s.title, s.message)
	}
	loc, _ := url.Parse(s.location)
	if loc.Hostname() != "127.0.0.1" || loc.Path != "/callback" || loc.Query().Get("code") == "" {
		t.Errorf("the browser ended at %s, want the loopback callback with a code", s.location)
	}
}

// TestAuthorizeLoopbackChromiumConfiguredRedirect: a real browser logs in
// and lands on exactly the account's configured redirect URI (fixed
// port, another path) on localhost and on [::1], where oidcctl answers.
func TestAuthorizeLoopbackChromiumConfiguredRedirect(t *testing.T) {
	t.Parallel()
	bctx := browser(t)
	local := "http://localhost:" + strconv.Itoa(freePort(t, "127.0.0.1")) + "/oidc/return"
	v6 := "http://[::1]:" + strconv.Itoa(freePort(t, "::1")) + "/done"
	e := setup(t, oidctest.WithRedirectURIs(v6))
	for _, uri := range []string{local, v6} {
		t.Run(uri, func(t *testing.T) {
			a := account("support-bot", core.GrantAuthorizationCode, "openid")
			a.RedirectURI = uri
			var title, location string
			done := make(chan error, 1)
			open := func(authURL string) error {
				go func() {
					ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
					defer cancel()
					err := chromedp.Do(ctx,
						chromedp.Navigate(authURL),
						chromedp.WaitVisible(chromedp.CSS("#username")),
						chromedp.SendKeys(chromedp.CSS("#username"), e.op.Username()),
						chromedp.SendKeys(chromedp.CSS("#password"), oidctest.Password),
						chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
						chromedp.WaitVisible(chromedp.ID("message")))
					if err == nil {
						title, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("title")))
					}
					if err == nil {
						location, err = chromedp.Run(ctx, chromedp.Location())
					}
					done <- err
				}()
				return nil
			}
			set, err := e.c.AuthorizeLoopback(ctxT(t), e.web(), e.doc, a, open, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("browser: %v", err)
			}
			if !set.AccessToken.IsSet() || title != "Login complete" {
				t.Fatalf("access token set %v, final page %q", set.AccessToken.IsSet(), title)
			}
			if !strings.HasPrefix(location, uri+"?") {
				t.Errorf("the browser ended at %s, want %s?…", location, uri)
			}
		})
	}
}
