package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// TestAuthorizeThroughServe: an account whose redirect URI is an https one
// logs in through serve. `account authorize` and `serve` are two runs on
// one SQLite file, as on two hosts sharing a database: authorize prints the
// URL and waits, the browser's return reaches serve (as the TLS proxy in
// front of it would pass it on), serve stores the tokens, and authorize
// reports them; `token get` then hands them out.
func TestAuthorizeThroughServe(t *testing.T) {
	const redirect = "https://oidcctl.example.org/callback"
	op := oidctest.Start(t, oidctest.WithRedirectURIs(redirect))
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "bot", "--profile", "web", "--grant-type", "authorization_code", "--scope", "openid offline_access",
		"--redirect-uri", redirect)
	c.ok("config", "set", "refresh.schedule", "0 0 1 1 *")

	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	var serveErr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--reload-interval", "100ms"},
			env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &serveErr, getenv: func(k string) string { return c.env[k] }})
	}()
	t.Cleanup(func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, serveErr.String())
		}
	})
	base := "http://" + addr
	testkit.Eventually(t, 15*time.Second, "serve to answer", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})

	var stderr lockedBuffer
	wait := c.interactive(strings.NewReader(""), &stderr, "account", "authorize", "bot", "--no-browser")
	authURL := waitFor(t, &stderr, regexp.MustCompile(`(?m)^  (http://\S+/auth\?\S*)$`))
	waitFor(t, &stderr, regexp.MustCompile(`(oidcctl serve)`))
	loc, err := op.Authorize(context.Background(), authURL, op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("the provider redirected to %s", loc)
	}
	resp, err := http.Get(base + loc.Path + "?" + loc.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Login complete") {
		t.Fatalf("serve answered %d:\n%s\nserve's log:\n%s", resp.StatusCode, page, serveErr.String())
	}
	if r := wait(); r.code != 0 || !strings.Contains(r.stdout, "authorized") || !strings.Contains(r.stdout, "refresh token") {
		t.Fatalf("authorize: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if tok := strings.TrimSpace(c.ok("token", "get", "bot")); tok == "" {
		t.Fatal("token get printed nothing after the login")
	}

	// The same return again is refused.
	resp, err = http.Get(base + loc.Path + "?" + loc.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("replayed return answered %d", resp.StatusCode)
	}
}
