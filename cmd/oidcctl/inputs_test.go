package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// runCtx runs oidcctl in-process with ctx and stdin, and returns its result
// on a channel.
func (c *cli) runCtx(ctx context.Context, stdin io.Reader, args ...string) <-chan result {
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := run(ctx, args, env{
			stdin:  stdin,
			stdout: &out,
			stderr: &errOut,
			getenv: func(k string) string { return c.env[k] },
		})
		done <- result{code, out.String(), errOut.String()}
	}()
	return done
}

// within waits for a run's result; a run still going after d has failed.
func within(t *testing.T, d time.Duration, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(d):
		t.Fatalf("oidcctl still running after %v", d)
		return result{}
	}
}

// TestInputsAreBounded: every file and standard input is read up to 1 MiB;
// more is refused at once with an error naming the bound, instead of
// growing until the OOM killer comes (/dev/zero as a map file).
func TestInputsAreBounded(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a",
		"--role-map-file", c.file("roles.yaml", "roles:\n  admin: Admin\n"))
	big := strings.Repeat("x", 1<<20+1)
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"role map /dev/zero", "", []string{"profile", "edit", "kc", "--role-map-file", "/dev/zero"}},
		{"user map /dev/zero", "", []string{"profile", "edit", "kc", "--user-map-file", "/dev/zero"}},
		{"role map on stdin", big, []string{"profile", "edit", "kc", "--role-map-file", "-"}},
		{"secret file /dev/zero", "", []string{"profile", "edit", "kc", "--client-secret-file", "/dev/zero"}},
		{"secret line on stdin", big, []string{"profile", "edit", "kc", "--client-secret-file", "-"}},
		{"config import /dev/zero", "", []string{"config", "import", "/dev/zero"}},
		{"config import stdin", big, []string{"config", "import", "-"}},
		{"token inspect stdin", big, []string{"token", "inspect", "-"}},
		{"import-user role map", "", []string{"import-user", "--profile", "kc", "--grant-type", "client_credentials", "--scope", "openid", "--role-map", "@/dev/zero"}},
		{"import-user password", "", []string{"import-user", "--profile", "kc", "--username", "u", "--password-file", "/dev/zero"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := within(t, 20*time.Second, c.runCtx(context.Background(), strings.NewReader(tt.stdin), tt.args...))
			if r.code != exitUsage || !strings.Contains(r.stderr, "larger than 1 MiB") {
				t.Fatalf("exit %d (want %d), stderr %q", r.code, exitUsage, r.stderr)
			}
		})
	}
	if show := c.ok("profile", "show", "kc", "-o", "json"); !strings.Contains(show, `"Admin"`) {
		t.Fatalf("a refused input changed the profile:\n%s", show)
	}
}

// TestEmptyMapFileRefused: an empty role or user map file is an error, not
// "clear the map"; an empty flag value still clears it on purpose.
func TestEmptyMapFileRefused(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a",
		"--role-map-file", c.file("roles.yaml", "roles:\n  admin: Admin\n"),
		"--user-map-file", c.file("users.json", `{"email":"Email"}`))
	maps := func() (roleMap, userMap any) {
		var p map[string]any
		if err := json.Unmarshal([]byte(c.ok("profile", "show", "kc", "-o", "json")), &p); err != nil {
			t.Fatal(err)
		}
		return p["role_map"], p["user_map"]
	}
	for _, tt := range []struct {
		name, stdin string
		args        []string
	}{
		{"empty role map file", "", []string{"--role-map-file", c.file("empty", "")}},
		{"blank role map file", "", []string{"--role-map-file", c.file("blank", "\n  \n# nothing yet\n")}},
		{"empty role map on stdin", "", []string{"--role-map-file", "-"}},
		{"empty user map file", "", []string{"--user-map-file", c.file("empty", "")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.stdin, append([]string{"profile", "edit", "kc"}, tt.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "is empty") || !strings.Contains(r.stderr, "''") {
				t.Fatalf("exit %d (want %d), stderr %q", r.code, exitUsage, r.stderr)
			}
			if rm, um := maps(); len(rm.(map[string]any)) == 0 || len(um.(map[string]any)) == 0 {
				t.Fatalf("the maps were cleared: role map %v, user map %v", rm, um)
			}
		})
	}
	if r := c.run("", "import-user", "--profile", "kc", "--grant-type", "client_credentials", "--scope", "openid", "--role-map", "@"+c.file("empty", "")); r.code != exitUsage || !strings.Contains(r.stderr, "is empty") {
		t.Fatalf("import-user --role-map @empty: %+v", r)
	}
	// Clearing on purpose still works.
	c.ok("profile", "edit", "kc", "--role-map-file", "")
	if rm, _ := maps(); rm != nil && len(rm.(map[string]any)) > 0 {
		t.Fatalf("--role-map-file '' left %v", rm)
	}
}

// TestStopsOnSignalWhileReading: a command waiting for standard input (a
// pipe nobody writes to) ends as soon as its context ends, which is what
// SIGINT and SIGTERM do in main.
func TestStopsOnSignalWhileReading(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	for _, args := range [][]string{
		{"profile", "edit", "kc", "--role-map-file", "-"},
		{"profile", "edit", "kc", "--client-secret-file", "-"},
		{"config", "import", "-"},
		{"token", "inspect", "-"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			stdin := &startedReader{r: pr, started: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			done := c.runCtx(ctx, stdin, args...)
			select {
			case r := <-done:
				t.Fatalf("ended before reading: %+v", r)
			case <-stdin.started:
			}
			cancel()
			r := within(t, 5*time.Second, done)
			if r.code == exitOK || !strings.Contains(r.stderr, "stopped while reading") {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

// startedReader closes started on the first Read, so that a test knows the
// command is waiting for input.
type startedReader struct {
	r       io.Reader
	once    sync.Once
	started chan struct{}
}

func (s *startedReader) Read(p []byte) (int, error) {
	s.once.Do(func() { close(s.started) })
	return s.r.Read(p)
}

// TestControlCharactersRefused: a name or identifier with a control
// character (here ESC, which repaints a terminal it is printed on) is a
// usage error, and nothing is stored.
func TestControlCharactersRefused(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	const esc = "x\x1b[2Jy"
	for _, args := range [][]string{
		{"profile", "add", "p" + esc, "--discovery-url", exampleDiscoveryURL, "--client-id", "a"},
		{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", esc},
		{"profile", "edit", "kc", "--uid-claim", esc},
		{"profile", "edit", "kc", "--restrict-user-login", esc},
		{"profile", "edit", "kc", "--restrict-audience", esc},
		{"profile", "edit", "kc", "--role-map-file", c.file("roles.yaml", "roles:\n  admin: \"Ad\\emin\"\n")},
		{"account", "add", "a" + esc, "--profile", "kc"},
		{"account", "add", "a2", "--profile", "kc", "--grant-type", "password", "--username", esc, "--password-file", c.file("pw", "pw")},
		{"user", "add", "al" + esc},
		{"user", "add", "bob", "--role", "reader\x07"},
		{"user", "add", "carol", "--email", "c\x1b@example.test"},
		{"webservice", "add", "ws" + esc, "--provider", "--profile", "kc", "--route", "/t", "--method", "GET", "--upstream", "http://127.0.0.1:1/x"},
		{"webservice", "add", "ws", "--provider", "--profile", "kc", "--route", "/t" + esc, "--method", "GET", "--upstream", "http://127.0.0.1:1/x"},
		{"import-user", "--profile", "kc", "--grant-type", "client_credentials", "--scope", "openid", "--uid", esc},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			r := c.run("", args...)
			if r.code != exitUsage {
				t.Fatalf("%q: exit %d (want %d), stderr %q", args, r.code, exitUsage, r.stderr)
			}
			if strings.Contains(r.stderr, "\x1b") || strings.Contains(r.stderr, "\x07") {
				t.Fatalf("%q: the error repeats the control character: %q", args, r.stderr)
			}
		})
	}
	if out := c.ok("user", "list", "-o", "json"); strings.Contains(out, "carol") || strings.Contains(out, "bob") {
		t.Fatalf("a refused user was stored: %s", out)
	}
	if out := c.ok("webservice", "list", "-o", "json"); strings.Contains(out, `"ws`) {
		t.Fatalf("a refused webservice was stored: %s", out)
	}
}

// TestNamesDifferingOnlyInCaseRefused: "BASE" beside "base" is a usage
// error that names the existing one.
func TestNamesDifferingOnlyInCaseRefused(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "base", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	c.ok("account", "add", "billing", "--profile", "base")
	c.ok("user", "add", "alice")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"profile", "add", "BASE", "--discovery-url", exampleDiscoveryURL, "--client-id", "a"}, `differs only in case from the existing profile "base"`},
		{[]string{"account", "add", "Billing", "--profile", "base"}, `differs only in case from the existing account "billing"`},
		{[]string{"user", "add", "Alice"}, `differs only in case from the existing user "alice"`},
	} {
		r := c.run("", tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d (want %d), stderr %q", tt.args, r.code, exitUsage, r.stderr)
		}
	}
	// config import checks before it writes anything.
	for _, doc := range []string{
		"version: 1\nprofiles:\n  - name: fresh\n    discovery_url: " + exampleDiscoveryURL + "\n    client_id: y\n  - name: BASE\n    discovery_url: " + exampleDiscoveryURL + "\n    client_id: y\n",
		"version: 1\nprofiles:\n  - name: fresh\n    discovery_url: " + exampleDiscoveryURL + "\n    client_id: y\n  - name: Fresh\n    discovery_url: " + exampleDiscoveryURL + "\n    client_id: y\n",
	} {
		r := c.run("", "config", "import", c.file("case.yaml", doc))
		if r.code != exitUsage || !strings.Contains(r.stderr, "differ") || !strings.Contains(r.stderr, "only in case") {
			t.Errorf("config import: exit %d, stderr %q", r.code, r.stderr)
		}
	}
	if out := c.ok("profile", "list", "-o", "json"); strings.Contains(out, "BASE") || strings.Contains(out, "fresh") {
		t.Fatalf("a refused name was stored: %s", out)
	}
}
