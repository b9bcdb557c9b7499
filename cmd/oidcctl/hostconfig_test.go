package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An administrator with no flags and no environment reaches the database
// and the key that /etc/oidcctl/oidcctl.conf names; a flag or the
// environment still wins; --print-unit hands the service the same key and
// database.
func TestHostConfigFile(t *testing.T) {
	c := newCLI(t)
	srv := filepath.Join(c.dir, "srv")
	if err := os.MkdirAll(srv, 0o700); err != nil {
		t.Fatal(err)
	}
	hostDB, hostKey := filepath.Join(srv, "oidcctl.db"), filepath.Join(c.dir, "etc", "oidcctl.key")
	conf := c.file("oidcctl.conf", "# the service's database\ndb="+hostDB+"\n\nkey-file = "+hostKey+"\n")
	// The "service" creates its database and key where the file says.
	c.env = map[string]string{"OIDCCTL_CONFIG": conf, "HOME": filepath.Join(c.dir, "home"), "OIDCCTL_DB": hostDB, "OIDCCTL_KEY_FILE": hostKey}
	if err := os.MkdirAll(filepath.Dir(hostKey), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hostKey, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("profile", "add", "op", "--discovery-url", exampleDiscoveryURL, "--client-id", "api",
		"--client-secret-file", c.file("secret", "s3cret\n"))

	// The administrator: no flags, no environment but HOME.
	c.env = map[string]string{"OIDCCTL_CONFIG": conf, "HOME": filepath.Join(c.dir, "home")}
	if out := c.ok("profile", "list"); !strings.Contains(out, "op") {
		t.Errorf("profile list through the host file:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "home", ".local", "share", "oidcctl")); !os.IsNotExist(err) {
		t.Errorf("the per-user database was made: %v", err)
	}

	// The environment wins: a database of one's own, with its own key.
	own := filepath.Join(c.dir, "own", "oidcctl.db")
	c.env["OIDCCTL_DB"] = own
	if out := c.ok("profile", "list"); strings.Contains(out, "op") {
		t.Errorf("OIDCCTL_DB was not taken over the host file:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "own", "oidcctl.key")); err != nil {
		t.Errorf("the own database's key is not beside it: %v", err)
	}
	delete(c.env, "OIDCCTL_DB")
	if out := c.ok("--db", own, "profile", "list"); strings.Contains(out, "op") {
		t.Errorf("--db was not taken over the host file:\n%s", out)
	}

	u := c.ok("serve", "--print-unit")
	for _, want := range []string{"\nLoadCredential=oidcctl.key:" + hostKey + "\n",
		"\nExecStart=/usr/local/bin/oidcctl serve --listen 127.0.0.1:8085 --socket /run/oidcctl/token.sock --db " + hostDB + "\n",
		"\nReadWritePaths=" + srv + "\n"} {
		if !strings.Contains(u, want) {
			t.Errorf("--print-unit lacks %q", strings.TrimSpace(want))
		}
	}
}

// A host file that says something oidcctl does not understand is refused
// with its name and line, not ignored.
func TestHostConfigFileErrors(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"db /var/lib/oidcctl/oidcctl.db\n", ":1: want key=value"},
		{"# ok\ndatabase=/var/lib/x.db\n", ":2: unknown setting \"database\""},
		{"key-file=oidcctl.key\n", ":1: key-file=\"oidcctl.key\": want an absolute path"},
	} {
		c := newCLI(t)
		c.env["OIDCCTL_CONFIG"] = c.file("oidcctl.conf", tc.content)
		delete(c.env, "OIDCCTL_DB")
		c.env["HOME"] = c.dir
		r := c.run("", "profile", "list")
		if r.code != 1 || !strings.Contains(r.stderr, "oidcctl.conf"+tc.want) {
			t.Errorf("%q: exit %d, %s", tc.content, r.code, r.stderr)
		}
	}
}

// Without a host file --print-unit prints the unit as shipped.
func TestPrintUnitWithoutHostFile(t *testing.T) {
	c := newCLI(t)
	if u := c.ok("serve", "--print-unit"); !strings.Contains(u, "\nLoadCredential=oidcctl.key:/etc/oidcctl/oidcctl.key\n") ||
		!strings.Contains(u, "\nExecStart=/usr/local/bin/oidcctl serve --listen 127.0.0.1:8085 --socket /run/oidcctl/token.sock\n") || strings.Contains(u, "ReadWritePaths") {
		t.Errorf("unit:\n%s", u)
	}
}
