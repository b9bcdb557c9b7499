package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/db/pgtest"
)

// newCopySource is a SQLite setup to copy (profile kc with a client
// secret, account svc) and its export with secrets.
func newCopySource(t *testing.T) (c *cli, file, export string) {
	t.Helper()
	c = newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "someapi",
		"--client-secret-file", c.file("secret", "copied-client-secret\n"))
	c.ok("account", "add", "svc", "--profile", "kc")
	export = c.ok("config", "export", "--with-secrets")
	if !strings.Contains(export, "copied-client-secret") {
		t.Fatalf("export without the secret:\n%s", export)
	}
	return c, c.env["OIDCCTL_DB"], export
}

// db copy moves a SQLite setup into PostgreSQL and back: the export, with
// its secrets (which therefore open under the one key), is the same on
// all three; a non-empty destination is refused unless --replace.
func TestDBCopyRoundTrip(t *testing.T) {
	pg := pgtest.URL(t)
	c, first, want := newCopySource(t)
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

// TestDBMigrateThenCopyIntoPostgres runs the steps of moving a setup to
// PostgreSQL as a user types them (issue #10): `db migrate` on the new
// database, then `db copy` from the SQLite file, whose key lies beside it
// while no OIDCCTL_KEY_FILE is set. migrate must only create the schema,
// making no key and tying the database to none, so that the copy takes the
// SQLite file's key and then opens with it; without that key the copy is
// refused, and no key is made in its place.
func TestDBMigrateThenCopyIntoPostgres(t *testing.T) {
	pg := pgtest.URL(t)
	c, first, want := newCopySource(t)
	sqliteKey := filepath.Join(filepath.Dir(first), "oidcctl.key")
	if _, err := os.Stat(sqliteKey); err != nil {
		t.Fatalf("the SQLite file's key: %v", err)
	}

	// The key is looked for in the XDG data directory, where there is none.
	c.env["XDG_DATA_HOME"] = filepath.Join(c.dir, "xdg")
	defaultKey := filepath.Join(c.dir, "xdg", "oidcctl", "oidcctl.key")
	c.env["OIDCCTL_DB"] = pg
	if out := c.ok("db", "migrate"); !strings.Contains(out, "schema up to date") {
		t.Fatalf("db migrate: %s", out)
	}
	c.ok("db", "migrate") // again: nothing to do
	if _, err := os.Stat(defaultKey); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("db migrate made a key at %s: %v", defaultKey, err)
	}
	r := c.run("", "db", "copy", "--from", first, "--to", pg)
	if r.code != exitOK || !strings.Contains(r.stderr, "profiles: 1/1") {
		t.Fatalf("db copy after db migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The copy opens with the SQLite file's key, secrets and all.
	c.env["OIDCCTL_KEY_FILE"] = sqliteKey
	if got := c.ok("config", "export", "--with-secrets"); got != want {
		t.Fatalf("export of the PostgreSQL copy:\n%s\nwant\n%s", got, want)
	}
	c.ok("db", "migrate")
	// Without it, the copy is refused and no key is made.
	delete(c.env, "OIDCCTL_KEY_FILE")
	r = c.run("", "db", "migrate")
	if r.code != exitFailure || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("db migrate without the key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = c.run("", "profile", "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("profile list without the key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(defaultKey); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a key was made at %s: %v", defaultKey, err)
	}
}
