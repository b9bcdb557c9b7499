package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"oidcctl/core/oidctest"
)

// Without a terminal to ask on, account rm and debug clear need --yes:
// a script must say it means it. Nothing is removed.
func TestRemovingNeedsYesWithoutATerminal(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "op", "--discovery-url", exampleDiscoveryURL, "--client-id", "api")
	c.ok("account", "add", "billing", "--profile", "op")
	for _, args := range [][]string{{"account", "rm", "billing"}, {"debug", "clear"}} {
		r := c.run("y\n", args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "standard input is not a terminal: add --yes") {
			t.Errorf("%s without --yes: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	if out := c.ok("account", "list"); !strings.Contains(out, "billing") {
		t.Fatalf("the account went away:\n%s", out)
	}
}

// On a terminal they ask, and go on only on yes.
func TestRemovingAsksOnATerminal(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "op", "--discovery-url", exampleDiscoveryURL, "--client-id", "api")
	c.ok("account", "add", "billing", "--profile", "op")
	for _, tc := range []struct {
		args   []string
		answer string
		code   int
		ask    string
	}{
		{[]string{"account", "rm", "billing"}, "\r", exitFailure, `Remove account "billing"? [y/N] `},
		{[]string{"account", "rm", "billing"}, "n\r", exitFailure, `Remove account "billing"? [y/N] `},
		{[]string{"debug", "clear"}, "no\r", exitFailure, "Remove the recorded calls of all webservices? [y/N] "},
		{[]string{"debug", "clear"}, "y\r", exitOK, "Remove the recorded calls of all webservices? [y/N] "},
		{[]string{"account", "rm", "billing"}, "yes\r", exitOK, `Remove account "billing"? [y/N] `},
	} {
		code, stderr := runOnTerminal(t, c, tc.answer, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.ask) {
			t.Errorf("%s, answering %q: exit %d, want %d; stderr:\n%s", strings.Join(tc.args, " "), tc.answer, code, tc.code, stderr)
		}
		if tc.code == exitFailure && !strings.Contains(stderr, "cancelled: nothing was changed") {
			t.Errorf("%s, answering %q: %s", strings.Join(tc.args, " "), tc.answer, stderr)
		}
		if out := c.ok("account", "list"); strings.Contains(out, "billing") != (tc.args[0] != "account" || tc.code != exitOK) {
			t.Errorf("after %s, answering %q:\n%s", strings.Join(tc.args, " "), tc.answer, out)
		}
	}
}

// account rm revokes the account's tokens at the provider before it
// removes the account; when they cannot be revoked the account is kept,
// unless --no-revoke.
func TestAccountRemoveRevokesFirst(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "svc", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")
	c.ok("token", "get", "svc")
	c.ok("account", "rm", "svc", "--yes")
	revoked := op.RevocationRequests()
	if len(revoked) != 2 || revoked[0].Get("token_type_hint") != "refresh_token" || revoked[1].Get("token_type_hint") != "access_token" {
		t.Fatalf("revocation requests: %v", revoked)
	}
	if out := c.ok("account", "list"); strings.Contains(out, "svc") {
		t.Fatalf("account kept:\n%s", out)
	}

	// The provider is gone: the account and its tokens are kept.
	c.ok("account", "add", "svc2", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")
	c.ok("token", "get", "svc2")
	op.Close()
	r := c.run("", "account", "rm", "svc2", "--yes")
	if r.code != exitFailure || !strings.Contains(r.stderr, "account svc2 is kept") || !strings.Contains(r.stderr, "--no-revoke") {
		t.Fatalf("account rm with the provider down: exit %d\n%s", r.code, r.stderr)
	}
	if out := c.ok("account", "list"); !strings.Contains(out, "svc2") {
		t.Fatalf("account removed although its tokens were not revoked:\n%s", out)
	}
	c.ok("account", "rm", "svc2", "--yes", "--no-revoke")
	if out := c.ok("account", "list"); strings.Contains(out, "svc2") {
		t.Fatalf("--no-revoke kept the account:\n%s", out)
	}
}

// runOnTerminal runs oidcctl with a pseudo-terminal as standard input,
// types answer once it asks, and returns the exit code and standard error.
func runOnTerminal(t *testing.T, c *cli, answer string, args ...string) (int, string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go io.Copy(io.Discard, ptmx) // the echo
	stderr := &promptWriter{asked: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), args, env{stdin: tty, stdout: io.Discard, stderr: stderr,
			getenv: func(k string) string { return c.env[k] }})
	}()
	select {
	case <-stderr.asked:
		if _, err := ptmx.WriteString(answer); err != nil {
			t.Fatal(err)
		}
	case code := <-done:
		return code, stderr.String()
	case <-time.After(10 * time.Second):
		t.Fatal("oidcctl neither asked nor ended")
	}
	select {
	case code := <-done:
		return code, stderr.String()
	case <-time.After(10 * time.Second):
		t.Fatal("oidcctl did not end after the answer")
	}
	return 0, ""
}

// promptWriter collects standard error and says when a question ends it;
// it is read only after the run has ended.
type promptWriter struct {
	buf   bytes.Buffer
	asked chan struct{}
	once  bool
}

func (w *promptWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if !w.once && strings.HasSuffix(w.buf.String(), "[y/N] ") {
		w.once = true
		close(w.asked)
	}
	return n, err
}

func (w *promptWriter) String() string { return w.buf.String() }
