package main

import (
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/db/pgtest"
)

// db copy moves a SQLite setup into PostgreSQL and back: the export, with
// its secrets (which therefore open under the one key), is the same on
// all three; a non-empty destination is refused unless --replace.
func TestDBCopyRoundTrip(t *testing.T) {
	pg := pgtest.URL(t)
	c := newCLI(t)
	first := c.env["OIDCCTL_DB"]
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "someapi",
		"--client-secret-file", c.file("secret", "copied-client-secret\n"))
	c.ok("account", "add", "svc", "--profile", "kc")
	want := c.ok("config", "export", "--with-secrets")
	if !strings.Contains(want, "copied-client-secret") {
		t.Fatalf("export without the secret:\n%s", want)
	}
	// Every host of the PostgreSQL database uses the SQLite file's key.
	c.env["OIDCCTL_KEY_FILE"] = filepath.Join(filepath.Dir(first), "oidcctl.key")
	c.env["XDG_DATA_HOME"] = filepath.Join(c.dir, "xdg")

	r := c.run("", "db", "copy", "--from", first, "--to", pg)
	if r.code != exitOK || !strings.Contains(r.stdout, "profiles") || !strings.Contains(r.stderr, "profiles: 1/1") {
		t.Fatalf("db copy to PostgreSQL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := c.ok("--db", pg, "config", "export", "--with-secrets"); got != want {
		t.Fatalf("export of the PostgreSQL copy:\n%s\nwant\n%s", got, want)
	}
	r = c.run("", "db", "copy", "--from", first, "--to", pg)
	if r.code != exitFailure || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("copy into a non-empty database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c.ok("db", "copy", "--from", first, "--to", pg, "--replace")

	back := filepath.Join(c.dir, "back", "oidcctl.db")
	c.ok("db", "copy", "--from", pg, "--to", back)
	if got := c.ok("--db", back, "config", "export", "--with-secrets"); got != want {
		t.Fatalf("export of the copy back in SQLite:\n%s\nwant\n%s", got, want)
	}
}
