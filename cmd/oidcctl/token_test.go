package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// addProvider adds profiles for the provider's service and web clients.
func addProvider(c *cli, op *oidctest.Provider) {
	c.ok("profile", "add", "service", "--discovery-url", op.DiscoveryURL, "--client-id", oidctest.ServiceClientID,
		"--client-secret-file", c.file("service-secret", oidctest.ServiceClientSecret))
	c.ok("profile", "add", "web", "--discovery-url", op.DiscoveryURL, "--client-id", oidctest.WebClientID,
		"--client-secret-file", c.file("web-secret", oidctest.WebClientSecret))
}

func TestTokenCommands(t *testing.T) {
	op := oidctest.Start(t, oidctest.WithAccessTokenLifetime(3*time.Hour))
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service", "--resource", "https://api.example")
	c.ok("account", "add", "svc", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")

	tok := strings.TrimSpace(c.ok("token", "get", "billing"))
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token get printed %q, want a JWT", tok)
	}
	if again := strings.TrimSpace(c.ok("token", "get", "billing")); again != tok {
		t.Fatal("a valid token was not reused")
	}
	reqs := op.TokenRequests()
	if len(reqs) != 1 || reqs[0].Get("resource") != "https://api.example" {
		t.Fatalf("token requests: %v", reqs)
	}
	var got tokenJSON
	if err := json.Unmarshal([]byte(c.ok("token", "get", "svc", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Token == "" || got.TokenType != "access_token" || got.ExpiresInSeconds <= 0 || !strings.Contains(got.Scope, "offline_access") {
		t.Fatalf("token get -o json: %+v", got)
	}
	list := c.ok("token", "list")
	for _, want := range []string{"billing", "svc", "valid"} {
		if !strings.Contains(list, want) {
			t.Errorf("token list lacks %q:\n%s", want, list)
		}
	}
	// Three hours, or a second less once the clock has moved on.
	if !regexp.MustCompile(`in (2h59m|3h0m)`).MatchString(list) {
		t.Errorf("token list shows no expiry in about 3h:\n%s", list)
	}
	if strings.Contains(list, tok) || strings.Contains(c.ok("token", "list", "-o", "json"), tok) {
		t.Fatal("token list shows a token")
	}
	c.ok("token", "list", "--check")

	c.ok("token", "refresh", "svc")
	if n := countGrants(op, "refresh_token"); n != 1 {
		t.Fatalf("%d refreshes after token refresh, want 1", n)
	}
	out := c.ok("token", "refresh", "--due")
	if !strings.Contains(out, "fresh") {
		t.Fatalf("refresh --due with fresh tokens:\n%s", out)
	}
	if n := countGrants(op, "refresh_token"); n != 1 {
		t.Fatalf("refresh --due refreshed a fresh token (%d refreshes)", n)
	}

	out = c.ok("token", "revoke", "svc")
	if !strings.Contains(out, "revoked (2 tokens at the provider)") {
		t.Fatalf("token revoke: %s", out)
	}
	var states []tokenState
	json.Unmarshal([]byte(c.ok("token", "list", "-o", "json")), &states)
	for _, st := range states {
		if st.Account == "svc" && (st.HasAccessToken || st.HasRefreshToken) {
			t.Fatalf("tokens kept after revoke: %+v", st)
		}
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "get"}, exitUsage, "needs an account name"},
		{[]string{"token", "get", "nope"}, exitFailure, `account "nope" does not exist`},
		{[]string{"token", "refresh"}, exitUsage, "an account name or --due"},
		{[]string{"token", "refresh", "svc", "--due"}, exitUsage, "an account name or --due"},
		{[]string{"token", "list", "--warn", "soon"}, exitUsage, "--warn"},
		{[]string{"account", "authorize", "billing"}, exitUsage, "needs no login"},
		{[]string{"account", "authorize", "svc", "--device", "--no-browser"}, exitUsage, "exclude each other"},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
	}
}

func TestTokenListCheck(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "bot", "--profile", "web", "--grant-type", "authorization_code", "--scope", "openid offline_access")
	r := c.run("", "token", "list", "--check")
	if r.code != exitFailure || !strings.Contains(r.stderr, "never authorized: run oidcctl account authorize bot") {
		t.Fatalf("check with an unauthorized account: exit %d, %q", r.code, r.stderr)
	}
	r = c.run("", "token", "get", "bot")
	if r.code != exitFailure || !strings.Contains(r.stderr, "oidcctl account authorize bot") {
		t.Fatalf("token get of an unauthorized account: exit %d, %q", r.code, r.stderr)
	}
}

// lockedBuffer is a bytes.Buffer that a command writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// interactive runs oidcctl with a standard input the test writes to and
// returns a function that waits for its end.
func (c *cli) interactive(stdin io.Reader, stderr *lockedBuffer, args ...string) func() result {
	var out bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(context.Background(), args, env{stdin: stdin, stdout: &out, stderr: stderr,
			getenv: func(k string) string { return c.env[k] }})
	}()
	return func() result {
		select {
		case code := <-done:
			return result{code, out.String(), stderr.String()}
		case <-time.After(time.Minute):
			c.t.Fatalf("oidcctl %v did not end:\n%s", args, stderr.String())
			return result{}
		}
	}
}

// waitFor waits until re matches the output and returns the first group.
func waitFor(t *testing.T, buf *lockedBuffer, re *regexp.Regexp) string {
	t.Helper()
	var m []string
	testkit.Eventually(t, 30*time.Second, re.String()+" in the output", func() bool {
		m = re.FindStringSubmatch(buf.String())
		return m != nil
	})
	return m[1]
}

func TestAuthorizeRemotePastedURL(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "bot", "--profile", "web", "--grant-type", "authorization_code", "--scope", "openid offline_access")
	c.env["SSH_CONNECTION"] = "192.0.2.1 50000 198.51.100.7 22"
	stdin, typed := io.Pipe()
	var stderr lockedBuffer
	wait := c.interactive(stdin, &stderr, "account", "authorize", "bot", "--no-browser")

	authURL := waitFor(t, &stderr, regexp.MustCompile(`(?m)^  (http://\S+/auth\?\S*)$`))
	port := waitFor(t, &stderr, regexp.MustCompile(`ssh -L (\d+):127\.0\.0\.1:\d+ 198\.51\.100\.7`))
	if !strings.Contains(stderr.String(), "127.0.0.1:"+port+"/callback") {
		t.Fatalf("the ssh line's port is not the callback's:\n%s", stderr.String())
	}
	// The admin logs in in a browser elsewhere; it ends on the callback URL,
	// which does not load there, and pastes it.
	final, err := op.Authorize(context.Background(), authURL, op.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(typed, final.String()+"\n")
	r := wait()
	if r.code != 0 || !strings.Contains(r.stdout, "access token and refresh token stored") {
		t.Fatalf("authorize: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if tok := strings.TrimSpace(c.ok("token", "get", "bot")); strings.Count(tok, ".") != 2 {
		t.Fatalf("token after authorize: %q", tok)
	}
	c.ok("token", "list", "--check")
}

func TestAuthorizeDevice(t *testing.T) {
	op := oidctest.Start(t, oidctest.WithDevicePollInterval(time.Second))
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "bot", "--profile", "web", "--grant-type", "authorization_code", "--scope", "openid offline_access")
	c.env["SSH_CONNECTION"] = "192.0.2.1 50000 198.51.100.7 22" // over SSH the device flow is chosen
	var stderr lockedBuffer
	wait := c.interactive(strings.NewReader(""), &stderr, "account", "authorize", "bot")
	code := waitFor(t, &stderr, regexp.MustCompile(`enter the code\s+(\S+)`))
	if err := op.ApproveDevice(code, op.Username()); err != nil {
		t.Fatal(err)
	}
	if r := wait(); r.code != 0 || !strings.Contains(r.stdout, "authorized") {
		t.Fatalf("authorize --device: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func countGrants(op *oidctest.Provider, grantType string) int {
	n := 0
	for _, r := range op.TokenRequests() {
		if r.Get("grant_type") == grantType {
			n++
		}
	}
	return n
}
