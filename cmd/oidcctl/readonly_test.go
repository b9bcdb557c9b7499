package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"oidcctl/core/crypt"
	"oidcctl/core/oidctest"
)

// makeReadOnly takes write access to c's database away: its directory
// becomes 0555, the database file and the key 0444 (all readable, so that
// another user may read them). The returned function runs oidcctl in
// another process on that database and returns its exit code, standard
// output and standard error; when the tests run as root, whom modes do not
// stop, it runs as nobody (65534).
func makeReadOnly(t *testing.T, c *cli) func(args ...string) (int, string, string) {
	t.Helper()
	dataDir := filepath.Join(c.dir, "data")
	for p, mode := range map[string]fs.FileMode{filepath.Dir(c.dir): 0o755, c.dir: 0o755,
		filepath.Join(dataDir, crypt.KeyFileName): 0o444, c.env["OIDCCTL_DB"]: 0o444, dataDir: 0o555} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(dataDir, 0o755) })
	return func(args ...string) (int, string, string) {
		t.Helper()
		cmd := helperCommand(t, []string{"OIDCCTL_DB=" + c.env["OIDCCTL_DB"]}, args...)
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
}

// TestReadOnlyDatabaseFetchesDiscovery: on a read-only database the
// commands that fetch a discovery document (and would cache it, as a side
// effect) still work and say nothing about the cache: caching is skipped,
// with a debug log only.
func TestReadOnlyDatabaseFetchesDiscovery(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	tok := strings.TrimSpace(c.ok("token", "get", "billing"))
	c.ok("user", "add", oidctest.ServiceClientID, "--email", "svc@example.test", "--role", "ticket-reader")
	run := makeReadOnly(t, c)

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		// Each fetches the document of a profile whose cached one, if any,
		// the run before did not write: every run tries to cache.
		// (The token is not for the client of web: the inspection works,
		// and refuses it.)
		{[]string{"profile", "test", "service"}, exitOK, "works with this provider"},
		{[]string{"token", "inspect", tok, "--profile", "web"}, exitRefused, "REFUSED (audience_mismatch"},
	} {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			code, out, stderr := run(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d\n%s%s", code, out, stderr)
			}
			if strings.Contains(stderr, "cache") || strings.Contains(stderr, "database is read-only") {
				t.Errorf("the skipped cache write shows: %q", stderr)
			}
			code, _, stderr = run(append(tt.args, "--log-level", "debug")...)
			if code != tt.code || !strings.Contains(stderr, "read-only") || !strings.Contains(stderr, "not cached") {
				t.Errorf("no debug line about the skipped cache write: exit %d, %q", code, stderr)
			}
		})
	}
}
