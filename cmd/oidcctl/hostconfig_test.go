package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/assets"
	"oidcctl/core/hostconf"
	"oidcctl/db/pgtest"
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

// On a PostgreSQL host the host-wide file names the database by its
// connection string: the administrator reaches it with no flags and no
// environment, --print-unit hands it to the service in $OIDCCTL_DB
// (specifiers escaped) with no --db and no ReadWritePaths, and a
// connection string with a password is refused without being shown.
func TestHostConfigFilePostgres(t *testing.T) {
	conn := pgtest.URL(t)
	c := newCLI(t)
	hostKey := filepath.Join(c.dir, "etc", "oidcctl.key")
	if err := os.MkdirAll(filepath.Dir(hostKey), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hostKey, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := c.file("oidcctl.conf", "db="+conn+"\nkey-file="+hostKey+"\n")
	c.env = map[string]string{"OIDCCTL_CONFIG": conf, "HOME": filepath.Join(c.dir, "home"), "OIDCCTL_DB": conn, "OIDCCTL_KEY_FILE": hostKey}
	c.ok("profile", "add", "op", "--discovery-url", exampleDiscoveryURL, "--client-id", "api",
		"--client-secret-file", c.file("secret", "s3cret\n"))

	c.env = map[string]string{"OIDCCTL_CONFIG": conf, "HOME": filepath.Join(c.dir, "home")}
	if out := c.ok("profile", "list"); !strings.Contains(out, "op") {
		t.Errorf("profile list through the host file's PostgreSQL database:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "home", ".local")); !os.IsNotExist(err) {
		t.Errorf("a per-user database or key was made: %v", err)
	}

	u := c.ok("serve", "--print-unit")
	env := "\nEnvironment=OIDCCTL_DB=" + strings.ReplaceAll(conn, "%", "%%") + "\n"
	if !strings.Contains(conn, "%") || strings.ContainsAny(conn, " \"\\") {
		env = "\nEnvironment=" + systemdQuote("OIDCCTL_DB="+conn, false) + "\n"
	}
	for _, want := range []string{"\nLoadCredential=oidcctl.key:" + hostKey + "\n", env,
		"\n#Environment=PGPASSFILE=%d/pgpass\n",
		"\nExecStart=/usr/local/bin/oidcctl serve --listen 127.0.0.1:8085 --socket /run/oidcctl/token.sock\n"} {
		if !strings.Contains(u, want) {
			t.Errorf("--print-unit lacks %q:\n%s", strings.TrimSpace(want), u)
		}
	}
	if strings.Contains(u, "ReadWritePaths") {
		t.Errorf("--print-unit gives a PostgreSQL database a directory:\n%s", u)
	}

	withPassword := strings.Replace(conn, "://postgres@", "://postgres:pg-pass-never-shown@", 1)
	if withPassword == conn {
		t.Fatalf("no user in %s", conn)
	}
	c.env["OIDCCTL_CONFIG"] = c.file("password.conf", "db="+withPassword+"\n")
	r := c.run("", "profile", "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "password.conf:1: db=: the connection string holds a password") ||
		strings.Contains(r.stdout+r.stderr, "pg-pass-never-shown") {
		t.Errorf("a host file with a password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// The unit keeps values with spaces, quotes, specifiers and variables as
// they are: one word each, % and (in ExecStart) $ escaped.
func TestUnitQuotesValues(t *testing.T) {
	for _, tc := range []struct {
		host hostconf.File
		want []string
	}{
		{hostconf.File{DB: "/srv/my db/50%$x.db", KeyFile: "/etc/o%idc.key"}, []string{
			"\nLoadCredential=oidcctl.key:/etc/o%%idc.key\n",
			` --db "/srv/my db/50%%$$x.db"` + "\n",
			"\nReadWritePaths=\"/srv/my db\"\n"}},
		{hostconf.File{DB: `host=/run/postgresql dbname='a "b"' user=o`}, []string{
			"\nLoadCredential=oidcctl.key:/etc/oidcctl/oidcctl.key\n",
			`Environment="OIDCCTL_DB=host=/run/postgresql dbname='a \"b\"' user=o"` + "\n"}},
		{hostconf.File{DB: "postgres://o@/x?host=%2Frun%2Fpostgresql"}, []string{
			"\nEnvironment=OIDCCTL_DB=postgres://o@/x?host=%%2Frun%%2Fpostgresql\n"}},
	} {
		u := string(unit(assets.SystemdUnit, tc.host))
		for _, want := range tc.want {
			if !strings.Contains(u, want) {
				t.Errorf("%+v: unit lacks %q", tc.host, want)
			}
		}
	}
}
