package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/db/pgtest"
)

// --db and OIDCCTL_DB take a PostgreSQL URL or key=value string: db
// migrate, the commands and the console's summary work on it, the
// password appears nowhere, and a second host without the key is refused
// instead of starting with a key of its own.
func TestPostgresDatabase(t *testing.T) {
	const password = "pg-pass-never-shown"
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password) // the test server trusts, and ignores it
	conn := u.String()

	c := newCLI(t)
	c.env["OIDCCTL_DB"] = conn
	c.env["XDG_DATA_HOME"] = filepath.Join(c.dir, "xdg")
	var outputs []string
	keep := func(s string) string { outputs = append(outputs, s); return s }
	r := c.run("", "--log-level", "debug", "db", "migrate")
	outputs = append(outputs, r.stdout, r.stderr)
	if r.code != exitOK || !strings.Contains(r.stdout, "schema up to date") || !strings.Contains(r.stderr, "database migrated") {
		t.Fatalf("db migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// migrate only migrates; the first other command makes the key.
	if _, err := os.Stat(filepath.Join(c.dir, "xdg", "oidcctl", "oidcctl.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("db migrate made a key in the data directory: %v", err)
	}
	keep(c.ok("profile", "add", "keycloak", "--discovery-url", exampleDiscoveryURL, "--client-id", "someapi",
		"--client-secret-file", c.file("secret", "pg-client-secret\n")))
	if _, err := os.Stat(filepath.Join(c.dir, "xdg", "oidcctl", "oidcctl.key")); err != nil {
		t.Fatalf("no key made in the data directory for a new database: %v", err)
	}
	var profiles []map[string]any
	if err := json.Unmarshal([]byte(keep(c.ok("profile", "list", "-o", "json"))), &profiles); err != nil {
		t.Fatal(err)
	}
	if len(profiles) != 1 || profiles[0]["name"] != "keycloak" {
		t.Fatalf("profile list: %v", profiles)
	}
	keep(c.ok())
	// Shell completion reads names from PostgreSQL too.
	if got := c.complete("profile", "show", "k"); len(got) != 1 || got[0] != "keycloak" {
		t.Errorf("completion on PostgreSQL: %q", got)
	}

	// The same database through --db as a key=value string.
	kv := "host=" + u.Query().Get("host") + " user=" + u.User.Username() + " password=" + password + " dbname=" + strings.TrimPrefix(u.Path, "/")
	c2 := newCLI(t)
	c2.env["XDG_DATA_HOME"] = c.env["XDG_DATA_HOME"]
	if out := keep(c2.ok("--db", kv, "profile", "show", "keycloak")); !strings.Contains(out, "someapi") {
		t.Fatalf("profile show through a key=value string: %s", out)
	}

	// Another host, without the key.
	c3 := newCLI(t)
	c3.env["OIDCCTL_DB"] = conn
	c3.env["XDG_DATA_HOME"] = filepath.Join(c3.dir, "xdg")
	r = c3.run("", "profile", "list")
	outputs = append(outputs, r.stdout, r.stderr)
	if r.code != exitFailure || !strings.Contains(r.stderr, "restore that key file") {
		t.Fatalf("a host without the key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(c3.dir, "xdg", "oidcctl", "oidcctl.key")); err == nil {
		t.Fatal("a host without the key made a key of its own")
	}
	for _, out := range outputs {
		if strings.Contains(out, password) || strings.Contains(out, "pg-client-secret") {
			t.Fatalf("a password or secret was printed:\n%s", out)
		}
	}
}
