package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/core/oidctest"
	"oidcctl/db/pgtest"
)

// fillSetup gives c one of everything an administrator sets: a setting, a
// profile with a secret, a password-grant and a client_credentials
// account, a provider and a requester webservice, a user.
func fillSetup(c *cli) {
	c.ok("config", "set", "refresh.interval", "600")
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "api",
		"--client-secret-file", c.file("s", "setup-client-secret"), "--leeway", "1500ms",
		"--role-map-file", c.file("r.json", `{"realm_access.roles":{"admin":"Admin"}}`))
	c.ok("account", "add", "svc", "--profile", "kc", "--grant-type", "password", "--username", "svc",
		"--password-file", c.file("pw", "setup-password"), "--scope", "openid")
	c.ok("account", "add", "billing", "--profile", "kc", "--scope", "openid")
	c.ok("webservice", "add", "tickets", "--provider", "--profile", "kc", "--route", "/GetTicket/:TicketID", "--method", "GET",
		"--upstream", "http://127.0.0.1:8080/x")
	c.ok("webservice", "add", "echo", "--requester", "--account", "billing", "--endpoint", "https://echo.example",
		"--path", "/rest", "--debug-max-age", "90s")
	c.ok("user", "add", "alice", "--email", "alice@example.test", "--role", "b", "--role", "a")
}

// roundTrip checks that export | import into the empty database of dst
// and export again gives the same file byte for byte, with and without
// secrets.
func roundTrip(t *testing.T, src, dst func() *cli) {
	t.Helper()
	s := src()
	fillSetup(s)
	for _, args := range [][]string{{"config", "export"}, {"config", "export", "--with-secrets"}} {
		first := s.ok(args...)
		for _, want := range []string{"version: 2", "refresh.interval: \"600\"", "leeway_seconds: 1.5", "- name: tickets",
			"max_age_seconds: 90", "- login: alice"} {
			if !strings.Contains(first, want) {
				t.Errorf("%s lacks %q:\n%s", strings.Join(args, " "), want, first)
			}
		}
		d := dst()
		if r := d.run(first, "config", "import", "-"); r.code != exitOK {
			t.Fatalf("import of %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		if again := d.ok(args...); again != first {
			t.Errorf("%s | import | %s differs:\n--- first\n%s\n--- again\n%s", strings.Join(args, " "), strings.Join(args, " "), first, again)
		}
	}
}

// The whole setup survives export | import | export byte for byte on
// SQLite.
func TestConfigRoundTripWholeSetup(t *testing.T) {
	roundTrip(t, func() *cli { return newCLI(t) }, func() *cli { return newCLI(t) })

	// config export -o json imports as well: the same setup.
	src := newCLI(t)
	fillSetup(src)
	dst := newCLI(t)
	if r := dst.run(src.ok("config", "export", "-o", "json"), "config", "import", "-"); r.code != exitOK {
		t.Fatalf("import of export -o json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want, got := src.ok("config", "export"), dst.ok("config", "export"); got != want {
		t.Errorf("export -o json | import | export differs:\n--- want\n%s\n--- got\n%s", want, got)
	}
}

// The same from SQLite into PostgreSQL and from PostgreSQL into SQLite.
func TestConfigRoundTripPostgres(t *testing.T) {
	pg := func() *cli {
		c := newCLI(t)
		c.env["OIDCCTL_DB"] = pgtest.URL(t)
		c.env["XDG_DATA_HOME"] = filepath.Join(c.dir, "xdg")
		return c
	}
	t.Run("into", func(t *testing.T) { roundTrip(t, func() *cli { return newCLI(t) }, pg) })
	t.Run("from", func(t *testing.T) { roundTrip(t, pg, func() *cli { return newCLI(t) }) })
}

// An export without secrets imports into a new database: what needs a
// secret is marked, shown in the lists, fails token list --check and
// gets no token; account edit --password-file and profile edit
// --client-secret-file complete it.
func TestConfigImportWithoutSecrets(t *testing.T) {
	src := newCLI(t)
	fillSetup(src)
	plain := src.ok("config", "export")
	if strings.Contains(plain, "setup-client-secret") || strings.Contains(plain, "setup-password") {
		t.Fatalf("export without --with-secrets holds secrets:\n%s", plain)
	}
	c := newCLI(t)
	dry := c.ok("config", "import", "--dry-run", c.file("setup.yaml", plain))
	for _, want := range []string{"+ profile kc  (needs secret)\n    client_secret: missing\n", "+ account svc  (needs secret)\n    password: missing\n",
		"+ webservice echo\n", "+ user alice\n", "Would create 7, update 0, remove 0; 0 unchanged. Dry run: nothing was written."} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run lacks %q:\n%s", want, dry)
		}
	}
	c.ok("config", "import", c.file("setup.yaml", plain))

	if out := c.ok("profile", "list"); !strings.Contains(out, "needs secret") {
		t.Errorf("profile list:\n%s", out)
	}
	if out := c.ok("account", "list"); strings.Count(out, "needs secret") != 2 {
		t.Errorf("account list (svc lacks its password, billing its profile's secret):\n%s", out)
	}
	var accounts []map[string]any
	must(t, json.Unmarshal([]byte(c.ok("account", "list", "-o", "json")), &accounts))
	if len(accounts) != 2 || accounts[1]["state"] != "needs secret" || accounts[1]["password"].(map[string]any)["missing"] != true {
		t.Errorf("account list -o json: %v", accounts)
	}
	r := c.run("", "token", "list", "--check")
	if r.code != exitFailure || !strings.Contains(r.stdout, "needs secret") ||
		!strings.Contains(r.stderr, "svc: needs secret: the password is not set; give it with: oidcctl account edit svc --password-file FILE") {
		t.Fatalf("token list --check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run("", "token", "get", "billing"); r.code == exitOK || !strings.Contains(r.stderr, "oidcctl profile edit kc --client-secret-file FILE") {
		t.Fatalf("token get of an account whose profile lacks its secret: exit %d\n%s", r.code, r.stderr)
	}

	c.ok("account", "edit", "svc", "--password-file", c.file("pw2", "given-later"))
	c.ok("profile", "edit", "kc", "--client-secret-file", c.file("s2", "given-later"))
	if out := c.ok("account", "list"); strings.Contains(out, "needs secret") {
		t.Errorf("account list after the secrets were given:\n%s", out)
	}
	if r := c.run("", "token", "list", "--check"); r.code != exitOK {
		t.Errorf("token list --check after the secrets were given: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The file is still the file: the next import keeps the secrets given.
	if out := c.ok("config", "import", c.file("setup.yaml", plain)); !strings.Contains(out, "Created 0, updated 0, removed 0; 7 unchanged.") {
		t.Errorf("re-import after the secrets were given:\n%s", out)
	}
	if out := c.ok("config", "export"); out != plain {
		t.Errorf("export after the secrets were given differs:\n%s", out)
	}
}

// A file written by an older oidcctl (version 1: durations as "30m", no
// secrets) imports, even with a password-grant account, which is then
// marked as needing its password.
func TestConfigImportVersion1File(t *testing.T) {
	c := newCLI(t)
	const v1 = `version: 1
profiles:
  - name: kc
    discovery_url: https://idp.example/realms/master/.well-known/openid-configuration
    discovery_ttl: 30m
    client_id: api
    scopes: []
    flavour: generic
    misc:
      use_nonce: false
      rand_length: 22
      rand_ttl: 5m
      leeway: 2s
    uid_claim: sub
accounts:
  - name: svc
    profile: kc
    grant_type: password
    username: svc
    scopes: [openid]
    resource_param: resource
    token_type: access_token
`
	c.ok("config", "import", c.file("old.yaml", v1))
	if out := c.ok("profile", "show", "kc"); !strings.Contains(out, "discovery TTL:        30m") {
		t.Errorf("profile from a version 1 file:\n%s", out)
	}
	if out := c.ok("account", "show", "svc"); !strings.Contains(out, "password:        missing (needs secret)") {
		t.Errorf("account from a version 1 file:\n%s", out)
	}
	var p map[string]any
	must(t, json.Unmarshal([]byte(c.ok("profile", "show", "kc", "-o", "json")), &p))
	if p["discovery_ttl_seconds"] != 1800.0 || p["misc"].(map[string]any)["leeway_seconds"] != 2.0 {
		t.Errorf("profile -o json durations: %v", p)
	}
}

// Secret references are read at import: {file} relative to the file,
// {env}, {credential} from $CREDENTIALS_DIRECTORY; their values appear in
// no output.
func TestConfigImportSecretReferences(t *testing.T) {
	c := newCLI(t)
	creds := filepath.Join(c.dir, "creds")
	must(t, os.Mkdir(creds, 0o700))
	must(t, os.WriteFile(filepath.Join(creds, "op"), []byte("secret-from-credential\n"), 0o600))
	c.env["CREDENTIALS_DIRECTORY"] = creds
	c.env["SVC_PASSWORD"] = "secret-from-env"
	sub := filepath.Join(c.dir, "conf")
	must(t, os.Mkdir(sub, 0o700))
	must(t, os.WriteFile(filepath.Join(sub, "kp"), []byte("secret-from-file\n"), 0o600))
	doc := `version: 2
profiles:
  - name: kc
    discovery_url: https://idp.example/realms/master/.well-known/openid-configuration
    client_id: api
    client_secret: {credential: op}
    tls:
      client_cert: /etc/c.pem
      client_key: /etc/k.pem
      client_key_password: {file: kp}
accounts:
  - name: svc
    profile: kc
    grant_type: password
    username: svc
    password: {env: SVC_PASSWORD}
    scopes: [openid]
`
	path := filepath.Join(sub, "setup.yaml")
	must(t, os.WriteFile(path, []byte(doc), 0o600))
	out := c.ok("config", "import", path)
	full := c.ok("config", "export", "--with-secrets")
	for _, s := range []string{"secret-from-credential", "secret-from-env", "secret-from-file"} {
		if strings.Contains(out, s) {
			t.Errorf("import output shows %s:\n%s", s, out)
		}
		if !strings.Contains(full, s) {
			t.Errorf("%s was not imported:\n%s", s, full)
		}
	}
	delete(c.env, "SVC_PASSWORD")
	r := c.run("", "config", "import", "--dry-run", path)
	if r.code != exitUsage || !strings.Contains(r.stderr, "SVC_PASSWORD is not set") {
		t.Errorf("a reference to an unset variable: exit %d\n%s", r.code, r.stderr)
	}
}

// --prune removes what the file does not have; without it nothing goes.
func TestConfigImportPrune(t *testing.T) {
	c := newCLI(t)
	fillSetup(c)
	doc := c.ok("config", "export")
	c.ok("user", "add", "bob", "--role", "x")
	c.ok("account", "add", "extra", "--profile", "kc", "--scope", "openid")
	f := c.file("setup.yaml", doc)
	if out := c.ok("config", "import", f); !strings.Contains(out, "removed 0; 7 unchanged.") {
		t.Errorf("import without --prune:\n%s", out)
	}
	out := c.ok("config", "import", "--prune", "--dry-run", f)
	if !strings.Contains(out, "- account extra\n") || !strings.Contains(out, "- user bob\n") || !strings.Contains(out, "Would create 0, update 0, remove 2; 7 unchanged.") {
		t.Errorf("dry run of --prune:\n%s", out)
	}
	c.ok("config", "import", "--prune", f)
	if got := c.ok("config", "export"); got != doc {
		t.Errorf("after --prune the database is not the file:\n%s", got)
	}
}

// --prune revokes the tokens of the accounts it removes at the provider
// before removing them, as account rm does, and --dry-run says so; when
// they cannot be revoked the account is kept, and --no-revoke removes it
// anyway (and its dry run says the tokens are only forgotten).
func TestConfigImportPruneRevokes(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	doc := c.ok("config", "export")
	f := c.file("setup.yaml", doc)
	for _, name := range []string{"svc", "svc2"} {
		c.ok("account", "add", name, "--profile", "web", "--grant-type", "password", "--username", op.Username(),
			"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")
		c.ok("token", "get", name)
	}
	out := c.ok("config", "import", "--prune", "--dry-run", f)
	if !strings.Contains(out, "- account svc\n    tokens: revoked at the provider, then forgotten\n") {
		t.Errorf("dry run of --prune does not say the tokens are revoked:\n%s", out)
	}
	if n := len(op.RevocationRequests()); n != 0 {
		t.Fatalf("the dry run revoked %d tokens", n)
	}
	out = c.ok("config", "import", "--prune", f)
	if !strings.Contains(out, "removed 2") {
		t.Errorf("import --prune:\n%s", out)
	}
	revoked := op.RevocationRequests()
	if len(revoked) != 4 || revoked[0].Get("token_type_hint") != "refresh_token" || revoked[1].Get("token_type_hint") != "access_token" {
		t.Fatalf("revocation requests of --prune: %v", revoked)
	}
	if got := c.ok("config", "export"); got != doc {
		t.Errorf("after --prune the database is not the file:\n%s", got)
	}

	// The provider is gone: the account and its tokens are kept.
	c.ok("account", "add", "svc3", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")
	c.ok("token", "get", "svc3")
	op.Close()
	r := c.run("", "config", "import", "--prune", f)
	if r.code != exitFailure || !strings.Contains(r.stderr, "account svc3 is kept") || !strings.Contains(r.stderr, "--no-revoke") {
		t.Fatalf("import --prune with the provider down: exit %d\n%s", r.code, r.stderr)
	}
	if out := c.ok("account", "list"); !strings.Contains(out, "svc3") {
		t.Fatalf("account removed although its tokens were not revoked:\n%s", out)
	}
	out = c.ok("config", "import", "--prune", "--no-revoke", "--dry-run", f)
	if !strings.Contains(out, "- account svc3\n    tokens: forgotten without being revoked") {
		t.Errorf("dry run of --prune --no-revoke:\n%s", out)
	}
	c.ok("config", "import", "--prune", "--no-revoke", f)
	if out := c.ok("account", "list"); strings.Contains(out, "svc3") {
		t.Fatalf("--no-revoke kept the account:\n%s", out)
	}
}
