package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oidcctl/core/crypt"
	"oidcctl/db"
)

// cli runs oidcctl in-process on one database.
type cli struct {
	t   *testing.T
	dir string
	env map[string]string
	now func() time.Time // the commands' clock; time.Now when nil
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	return &cli{t: t, dir: dir, env: map[string]string{"OIDCCTL_DB": filepath.Join(dir, "data", "oidcctl.db"),
		// Never the host's own /etc/oidcctl/oidcctl.conf.
		"OIDCCTL_CONFIG": filepath.Join(dir, "no-host.conf")}}
}

// openSQLite opens the SQLite file path with the key beside it, as a
// serve process on it would, for a test to write what such a process
// writes; the caller closes it.
func openSQLite(t *testing.T, path string) *db.DB {
	t.Helper()
	key, err := crypt.LoadKey(filepath.Join(filepath.Dir(path), crypt.KeyFileName), false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, env{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return c.env[k] },
		now:    c.now,
	})
	return result{code, out.String(), errOut.String()}
}

// ok runs a command that must succeed and returns its standard output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != 0 {
		c.t.Fatalf("oidcctl %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (c *cli) file(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

const exampleDiscoveryURL = "https://idp.example/realms/master/.well-known/openid-configuration"

func TestTour(t *testing.T) {
	c := newCLI(t)
	if out := c.ok(); !strings.Contains(out, "No profile yet") || !strings.Contains(out, "oidcctl profile add") {
		t.Fatalf("empty database shows:\n%s", out)
	}
	secret := c.file("secret", "tour-client-secret\n")
	c.ok("profile", "add", "keycloak", "--discovery-url", exampleDiscoveryURL, "--client-id", "someapi",
		"--client-secret-file", secret, "--uid-claim", "sub", "--scope", "openid",
		"--role-map-file", c.file("roles.yaml", "realm_access:\n  roles:\n    admin: Admin\n"),
		"--user-map-file", c.file("users.json", `{"email":"Email"}`), "--restrict-audience", "api billing")

	var profiles []map[string]any
	if err := json.Unmarshal([]byte(c.ok("profile", "list", "-o", "json")), &profiles); err != nil {
		t.Fatal(err)
	}
	if len(profiles) != 1 || profiles[0]["name"] != "keycloak" || profiles[0]["client_id"] != "someapi" {
		t.Fatalf("profile list -o json: %v", profiles)
	}
	if secret := profiles[0]["client_secret"].(map[string]any); secret["set"] != true || secret["value"] != nil {
		t.Fatalf("client_secret in json: %v", secret)
	}
	if rm := profiles[0]["role_map"].(map[string]any); rm["realm_access.roles"] == nil {
		t.Fatalf("role map: %v", rm)
	}

	c.ok("profile", "edit", "keycloak", "--leeway", "5s")
	show := c.ok("profile", "show", "keycloak")
	for _, want := range []string{"leeway:               5s", "client id:            someapi", "restrict audience:    api billing", "client secret:        set"} {
		if !strings.Contains(show, want) {
			t.Errorf("profile show lacks %q:\n%s", want, show)
		}
	}

	c.ok("account", "add", "billing", "--profile", "keycloak", "--grant-type", "client_credentials",
		"--scope", "openid offline_access", "--resource", "https://api.example", "--resource-param-name", "resource",
		"--token-type", "access_token")
	var accounts []map[string]any
	if err := json.Unmarshal([]byte(c.ok("account", "list", "-o", "json")), &accounts); err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 1 || accounts[0]["profile"] != "keycloak" || len(accounts[0]["scopes"].([]any)) != 2 {
		t.Fatalf("account list -o json: %v", accounts)
	}
	if out := c.ok("account", "list"); !strings.Contains(out, "billing") || !strings.Contains(out, "client_credentials") {
		t.Fatalf("account list:\n%s", out)
	}

	r := c.run("", "profile", "rm", "keycloak")
	if r.code != exitFailure || !strings.Contains(r.stderr, "used by account billing") {
		t.Fatalf("profile rm in use: %+v", r)
	}
	c.ok("account", "rm", "billing", "--yes")
	c.ok("profile", "rm", "keycloak")
	if out := c.ok("profile", "list"); !strings.Contains(out, "No profiles yet") {
		t.Fatalf("after rm: %s", out)
	}
}

func TestEditChangesOnlyGivenFlags(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--scope", "email profile",
		"--client-secret-file", c.file("s", "x"), "--leeway", "3s", "--flavour", "keycloak")
	before := c.ok("profile", "show", "kc", "-o", "json")
	c.ok("profile", "edit", "kc", "--client-id", "b")
	after := c.ok("profile", "show", "kc", "-o", "json")
	var b, a map[string]any
	json.Unmarshal([]byte(before), &b)
	json.Unmarshal([]byte(after), &a)
	if a["client_id"] != "b" {
		t.Fatalf("client id not changed: %v", a["client_id"])
	}
	delete(a, "client_id")
	delete(b, "client_id")
	delete(a, "updated_at")
	delete(b, "updated_at")
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if string(aj) != string(bj) {
		t.Fatalf("edit changed more than the client id:\nbefore %s\nafter  %s", bj, aj)
	}
}

func TestSecretsFromStdinAndNeverPrinted(t *testing.T) {
	c := newCLI(t)
	const clientSecret, password, keyPassword = "stdin-client-secret", "account-password-xyz", "key-password-abc"
	r := c.run(clientSecret+"\n", "profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-secret-file", "-")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	c.ok("profile", "edit", "kc", "--client-cert", c.file("c.pem", ""), "--client-key", c.file("k.pem", ""),
		"--client-key-password-file", c.file("kp", keyPassword))
	c.ok("account", "add", "svc", "--profile", "kc", "--grant-type", "password", "--username", "svc",
		"--password-file", c.file("pw", password), "--scope", "openid")
	var all strings.Builder
	for _, args := range [][]string{
		{}, {"profile", "list"}, {"profile", "list", "-o", "json"}, {"profile", "show", "kc"}, {"profile", "show", "kc", "-o", "json"},
		{"account", "list"}, {"account", "list", "-o", "json"}, {"account", "show", "svc"}, {"account", "show", "svc", "-o", "json"},
		{"config", "export"}, {"config", "export", "-o", "json"}, {"--log-level", "debug", "profile", "show", "kc"},
	} {
		r := c.run("", args...)
		if r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		all.WriteString(r.stdout + r.stderr)
	}
	for _, s := range []string{clientSecret, password, keyPassword} {
		if strings.Contains(all.String(), s) {
			t.Errorf("secret %q printed", s)
		}
	}
	if !strings.Contains(all.String(), `"set": true`) {
		t.Error("json output does not say the secrets are set")
	}
	// The database file and its write-ahead log hold them only sealed.
	for _, name := range []string{"oidcctl.db", "oidcctl.db-wal"} {
		raw, err := os.ReadFile(filepath.Join(c.dir, "data", name))
		if err != nil && name == "oidcctl.db" {
			t.Fatal(err)
		}
		for _, s := range []string{clientSecret, password, keyPassword} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds secret %q in plaintext", name, s)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	c := newCLI(t)
	secret := c.file("secret", "x")
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-secret-file", secret)
	c.ok("account", "add", "acc", "--profile", "kc")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nonsense"}, exitUsage, `unknown command "nonsense" for "oidcctl"`},
		{[]string{"-o", "xml", "profile", "list"}, exitUsage, "want table or json"},
		{[]string{"--log-level", "loud", "profile", "list"}, exitUsage, "--log-level"},
		{[]string{"profile", "add"}, exitUsage, "needs a profile name"},
		{[]string{"profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a"}, exitFailure, `profile "kc" already exists`},
		{[]string{"profile", "add", "p2", "--client-id", "a"}, exitUsage, "discovery URL is required"},
		{[]string{"profile", "add", "p2", "--discovery-url", "http://idp.example/x", "--client-id", "a"}, exitUsage, "plain http"},
		{[]string{"profile", "add", "p2", "--discovery-url", "file:///etc/passwd", "--client-id", "a"}, exitUsage, "must be an http(s) URL"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL}, exitUsage, "client id is required"},
		{[]string{"profile", "add", "bad name", "--discovery-url", exampleDiscoveryURL, "--client-id", "a"}, exitUsage, "name"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-secret", "x"}, exitUsage, "not taken on the command line"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-secret-file", "/nonexistent"}, exitFailure, "/nonexistent"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--flavour", "okta"}, exitUsage, "unknown flavour"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--leeway", "soon"}, exitUsage, "--leeway"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--rand-length", "4"}, exitUsage, "rand length"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--token-auth-method", "client_secret_jwt"}, exitUsage, "token auth method"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--role-map-file", c.file("bad.json", "{")}, exitUsage, "not valid JSON or YAML"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--user-map-file", c.file("um.json", `{"email":"Phone"}`)}, exitUsage, "user map"},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-cert", "c.pem"}, exitUsage, "needs both a certificate and a key"},
		{[]string{"profile", "add", "p2", "--prefill-from", "nope", "--client-id", "a"}, exitFailure, `profile "nope" does not exist`},
		{[]string{"profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--no-such-flag"}, exitUsage, "unknown flag"},
		{[]string{"profile", "edit", "kc"}, exitUsage, "nothing to change"},
		{[]string{"profile", "edit", "nope", "--client-id", "b"}, exitFailure, `profile "nope" does not exist`},
		{[]string{"profile", "edit", "kc", "--discovery-url", "ftp://x"}, exitUsage, "discovery URL"},
		{[]string{"profile", "show", "nope"}, exitFailure, "does not exist"},
		{[]string{"profile", "rm", "kc"}, exitFailure, "used by account acc"},
		{[]string{"profile", "rm", "nope"}, exitFailure, "does not exist"},
		{[]string{"account", "add", "a2"}, exitUsage, "--profile is required"},
		{[]string{"account", "add", "a2", "--profile", "nope"}, exitFailure, `profile "nope" does not exist`},
		{[]string{"account", "add", "acc", "--profile", "kc"}, exitFailure, `account "acc" already exists`},
		{[]string{"account", "add", "a2", "--profile", "kc", "--grant-type", "implicit"}, exitUsage, "unknown grant type"},
		{[]string{"account", "add", "a2", "--profile", "kc", "--grant-type", "password"}, exitUsage, "username is required"},
		{[]string{"account", "add", "a2", "--profile", "kc", "--grant-type", "password", "--username", "u", "--password", "pw"}, exitUsage, "not taken on the command line"},
		{[]string{"account", "add", "a2", "--profile", "kc", "--resource", "not-absolute"}, exitUsage, "RFC 8707"},
		{[]string{"account", "add", "a2", "--profile", "kc", "--token-type", "refresh_token"}, exitUsage, "unknown token type"},
		{[]string{"account", "add", "a2", "--profile", "kc", "--token-type", "id_token"}, exitUsage, "needs the openid scope"},
		{[]string{"account", "add", "a2", "--profile", "kc", "--password-prompt"}, exitUsage, "needs a terminal"},
		{[]string{"account", "edit", "acc"}, exitUsage, "nothing to change"},
		{[]string{"account", "edit", "acc", "--profile", "nope"}, exitFailure, `profile "nope" does not exist`},
		{[]string{"account", "show", "nope"}, exitFailure, "does not exist"},
		{[]string{"account", "rm", "nope"}, exitFailure, "does not exist"},
		{[]string{"account", "list", "--profile", "nope"}, exitFailure, "does not exist"},
		{[]string{"config", "import"}, exitUsage, "needs a file"},
		{[]string{"config", "import", c.file("bad.yaml", "version: 7\n")}, exitUsage, "version 7"},
		{[]string{"config", "import", c.file("typo.yaml", "version: 1\nprofiles:\n  - name: x\n    client_idd: y\n")}, exitUsage, "client_idd"},
		{[]string{"config", "import", c.file("invalid.yaml", "version: 1\nprofiles:\n  - name: x\n    discovery_url: ftp://x\n    client_id: y\naccounts:\n  - name: z\n    profile: missing\n")}, exitUsage, `profile "missing" is neither in the file nor stored`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := c.run("", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.want)
			}
		})
	}
	// Nothing of the refused commands was stored.
	out := c.ok("profile", "list", "-o", "json")
	var profiles []map[string]any
	json.Unmarshal([]byte(out), &profiles)
	if len(profiles) != 1 {
		t.Fatalf("refused commands stored something: %s", out)
	}
}

func TestConfigExportImport(t *testing.T) {
	src := newCLI(t)
	src.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-secret-file", src.file("s", "export-secret"),
		"--role-map-file", src.file("r.json", `{"roles":{"admin":"Admin"}}`), "--restrict-scope", "api.read", "--discovery-ttl", "1h")
	src.ok("account", "add", "svc", "--profile", "kc", "--grant-type", "password", "--username", "svc",
		"--password-file", src.file("pw", "export-password"), "--scope", "openid offline_access", "--resource", "https://a.example https://b.example")

	plain := src.ok("config", "export")
	if strings.Contains(plain, "export-secret") || strings.Contains(plain, "export-password") {
		t.Fatalf("export without --with-secrets holds secrets:\n%s", plain)
	}
	full := src.ok("config", "export", "--with-secrets")
	if !strings.Contains(full, "export-secret") || !strings.Contains(full, "export-password") {
		t.Fatalf("export --with-secrets lacks secrets:\n%s", full)
	}

	dst := newCLI(t)
	if out := dst.ok("config", "import", dst.file("c.yaml", full), "--dry-run"); !strings.Contains(out, "Would create 2,") {
		t.Fatalf("dry run: %s", out)
	}
	if out := dst.ok("profile", "list"); !strings.Contains(out, "No profiles") {
		t.Fatalf("dry run wrote: %s", out)
	}
	dst.ok("config", "import", dst.file("c.yaml", full))
	if got := dst.ok("config", "export", "--with-secrets"); got != full {
		t.Fatalf("round trip differs:\n--- exported\n%s\n--- after import\n%s", full, got)
	}
	// A document without secrets changes nothing and keeps the secrets.
	if out := dst.ok("config", "import", dst.file("p.yaml", plain)); !strings.Contains(out, "= profile kc\n= account svc\n") || !strings.Contains(out, "; 2 unchanged.") {
		t.Fatalf("re-import without secrets: %s", out)
	}
	if got := dst.ok("config", "export", "--with-secrets"); got != full {
		t.Fatalf("import without secrets lost them:\n%s", got)
	}
	// An edit in the file updates.
	changed := strings.Replace(plain, "discovery_ttl_seconds: 3600", "discovery_ttl_seconds: 7200", 1)
	if out := dst.ok("config", "import", "-o", "json", dst.file("c2.yaml", changed)); !strings.Contains(out, `"update"`) {
		t.Fatalf("import of a change: %s", out)
	}
	if out := dst.ok("profile", "show", "kc"); !strings.Contains(out, "discovery TTL:        2h") {
		t.Fatalf("change not imported: %s", out)
	}
}

func TestConfigExampleImports(t *testing.T) {
	c := newCLI(t)
	example := c.file("example.yaml", c.ok("config", "example"))
	out := c.ok("config", "import", example)
	if !strings.Contains(out, "Created 8, updated 0, removed 0; 0 unchanged.") {
		t.Fatalf("import of the example:\n%s", out)
	}
	if out := c.ok("profile", "show", "keycloak"); !strings.Contains(out, "realm_access.roles: ticket-admin→admin") {
		t.Fatalf("example role map not imported:\n%s", out)
	}
}
