package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"oidcctl/core/oidctest"
)

// TestAuthorizeRemoteWrongPasteAsksAgain: a pasted line that is not the
// login's redirect is refused and the next one is read, as the console
// does, instead of ending the login.
func TestAuthorizeRemoteWrongPasteAsksAgain(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "bot", "--profile", "web", "--grant-type", "authorization_code", "--scope", "openid offline_access")
	stdin, typed := io.Pipe()
	var stderr lockedBuffer
	wait := c.interactive(stdin, &stderr, "account", "authorize", "bot", "--no-browser")

	authURL := waitFor(t, &stderr, regexp.MustCompile(`(?m)^  (http://\S+/auth\?\S*)$`))
	io.WriteString(typed, "http://127.0.0.1:1/elsewhere?code=x\n")
	waitFor(t, &stderr, regexp.MustCompile(`(the pasted URL is not the redirect)[^\n]*\nPaste the address the browser ends on again:`))
	final, err := op.Authorize(context.Background(), authURL, op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(typed, final.String()+"\n")
	if r := wait(); r.code != 0 || !strings.Contains(r.stdout, "access token and refresh token stored") {
		t.Fatalf("authorize: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
