package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"oidcctl/core/oidctest"
)

// TestRedirectURICommands: --redirect-uri on profile and account add/edit
// is stored, shown, exported and imported; a non-loopback one is refused
// naming serve; and `account authorize` listens on exactly the account's
// redirect URI and sends it as redirect_uri.
func TestRedirectURICommands(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("profile", "edit", "web", "--redirect-uri", "http://localhost/from-profile")
	if out := c.ok("profile", "show", "web"); !strings.Contains(out, "http://localhost/from-profile") {
		t.Fatalf("profile show lacks the redirect URI:\n%s", out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	uri := "http://127.0.0.1:" + port + "/oidc/done"
	c.ok("account", "add", "bot", "--profile", "web", "--grant-type", "authorization_code", "--scope", "openid", "--redirect-uri", uri)
	if out := c.ok("account", "show", "bot", "-o", "json"); !strings.Contains(out, `"redirect_uri": "`+uri+`"`) {
		t.Fatalf("account show -o json lacks the redirect URI:\n%s", out)
	}

	r := c.run("", "account", "edit", "bot", "--redirect-uri", "http://oidcctl.example.org/callback")
	if r.code == 0 || !strings.Contains(r.stderr, "not on a loopback host") || !strings.Contains(r.stderr, "serve") {
		t.Fatalf("non-loopback redirect URI: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = c.run("", "profile", "edit", "web", "--redirect-uri", "https://oidcctl.example.org/ws/callback")
	if r.code == 0 || !strings.Contains(r.stderr, "serve's own routes") {
		t.Fatalf("https redirect URI on one of serve's routes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The whole login, through the account's redirect URI.
	stdin, typed := io.Pipe()
	defer typed.Close()
	var stderr lockedBuffer
	wait := c.interactive(stdin, &stderr, "account", "authorize", "bot", "--no-browser")
	authURL := waitFor(t, &stderr, regexp.MustCompile(`(?m)^  (http://\S+/auth\?\S*)$`))
	au, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := au.Query().Get("redirect_uri"); got != uri {
		t.Fatalf("redirect_uri = %q, want %q", got, uri)
	}
	final, err := op.Authorize(context.Background(), authURL, op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(final.String(), uri+"?") {
		t.Fatalf("the provider redirected to %s", final)
	}
	resp, err := http.Get(final.String()) // what the browser does
	if err != nil {
		t.Fatalf("nothing listens on %s: %v", uri, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callback answered %d", resp.StatusCode)
	}
	if r := wait(); r.code != 0 || !strings.Contains(r.stdout, "stored") {
		t.Fatalf("authorize: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Export and import carry both.
	doc := c.ok("config", "export")
	if !strings.Contains(doc, "redirect_uri: "+uri) || !strings.Contains(doc, "redirect_uri: http://localhost/from-profile") {
		t.Fatalf("export lacks the redirect URIs:\n%s", doc)
	}
	dst := newCLI(t)
	dst.ok("config", "import", dst.file("c.yaml", doc))
	if got := dst.ok("config", "export"); got != doc {
		t.Fatalf("round trip differs:\n--- exported\n%s\n--- after import\n%s", doc, got)
	}
}
