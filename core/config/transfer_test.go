package config_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/core/memstore"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setup fills a store with one of everything an administrator sets.
func setup(t *testing.T) core.Registry {
	t.Helper()
	ctx := context.Background()
	reg := core.Registry{Store: memstore.New()}
	must(t, reg.SetSetting(ctx, "refresh.schedule", "*/10 * * * *"))
	p := core.NewProfile("kc")
	p.DiscoveryURL, p.ClientID = "https://idp.example/realms/m/.well-known/openid-configuration", "api"
	p.ClientSecret = core.NewSecret("client-secret-value")
	p.Misc.Leeway = 1500 * time.Millisecond
	p.RoleMap = core.RoleMap{"realm_access.roles": {"admin": "Admin"}}
	must(t, reg.AddProfile(ctx, p))
	a := core.NewAccount("svc", "kc")
	a.GrantType, a.Username, a.Password, a.Scopes = core.GrantPassword, "svc", core.NewSecret("password-value"), []string{"openid"}
	must(t, reg.AddAccount(ctx, a))
	cc := core.NewAccount("billing", "kc")
	cc.Scopes = []string{"openid"}
	must(t, reg.AddAccount(ctx, cc))
	w := core.NewWebservice("echo", core.Requester)
	w.Account, w.Endpoint, w.Path, w.Method = "billing", "https://echo.example", "/rest", "POST"
	w.Debug.MaxAge = 90 * time.Second
	must(t, reg.CreateWebservice(ctx, w))
	must(t, reg.CreateUser(ctx, core.User{Login: "alice", Email: "alice@example.test", Roles: []string{"a", "b"}, Profile: "kc"}))
	return reg
}

func export(t *testing.T, reg core.Registry, withSecrets bool) string {
	t.Helper()
	doc, err := config.Export(context.Background(), reg, withSecrets)
	must(t, err)
	b, err := yaml.Marshal(doc)
	must(t, err)
	return string(b)
}

func importText(t *testing.T, reg core.Registry, text string, opt config.Options) []config.Change {
	t.Helper()
	doc, err := config.Parse([]byte(text))
	must(t, err)
	changes, err := config.Import(context.Background(), reg, doc, opt)
	must(t, err)
	return changes
}

// Export covers settings, profiles, accounts, webservices and users, with
// durations as _seconds numbers; importing it into an empty store and
// exporting again gives the same text, with and without secrets.
func TestExportImportRoundTrip(t *testing.T) {
	src := setup(t)
	for _, withSecrets := range []bool{false, true} {
		text := export(t, src, withSecrets)
		for _, want := range []string{"version: 2", "refresh.schedule: '*/10 * * * *'", "discovery_ttl_seconds: 1800",
			"leeway_seconds: 1.5", "max_age_seconds: 90", "- name: echo", "- login: alice", "roles: [a, b]"} {
			if !strings.Contains(text, want) {
				t.Errorf("export (secrets %v) lacks %q:\n%s", withSecrets, want, text)
			}
		}
		if strings.Contains(text, "secret-value") != withSecrets || strings.Contains(text, "password-value") != withSecrets {
			t.Errorf("export (secrets %v) and the secrets:\n%s", withSecrets, text)
		}
		dst := core.Registry{Store: memstore.New()}
		importText(t, dst, text, config.Options{})
		if again := export(t, dst, withSecrets); again != text {
			t.Errorf("round trip (secrets %v) differs:\n--- first\n%s\n--- second\n%s", withSecrets, text, again)
		}
	}
}

// A version 1 file (durations as "30m", no secrets, a password-grant
// account without its password) still imports: the account is stored
// marked as needing its password, the durations are right.
func TestImportVersion1(t *testing.T) {
	const v1 = `version: 1
profiles:
  - name: kc
    discovery_url: https://idp.example/.well-known/openid-configuration
    discovery_ttl: 1h
    client_id: api
    misc:
      rand_ttl: 5m
      leeway: 3s
accounts:
  - name: svc
    profile: kc
    grant_type: password
    username: svc
    scopes: [openid]
`
	reg := core.Registry{Store: memstore.New()}
	changes := importText(t, reg, v1, config.Options{})
	if len(changes) != 2 || changes[1].Action != config.ActionCreate || !changes[1].NeedsSecret {
		t.Fatalf("changes: %+v", changes)
	}
	p, err := reg.Profile(context.Background(), "kc")
	must(t, err)
	if p.DiscoveryTTL != time.Hour || p.Misc.RandTTL != 5*time.Minute || p.Misc.Leeway != 3*time.Second {
		t.Errorf("durations: %v %v %v", p.DiscoveryTTL, p.Misc.RandTTL, p.Misc.Leeway)
	}
	a, err := reg.Account(context.Background(), "svc")
	must(t, err)
	if !slices.Equal(a.MissingSecrets, []string{core.SecretPassword}) || a.Password.IsSet() {
		t.Fatalf("account: missing %v, password %v", a.MissingSecrets, a.Password)
	}
	if text := export(t, reg, false); !strings.Contains(text, "discovery_ttl_seconds: 3600") || !strings.Contains(text, "password:\n        required: true") {
		t.Errorf("export after a version 1 import:\n%s", text)
	}
	// A version 2 file with a version 1 field is refused, naming the new one.
	_, err = config.Parse([]byte("version: 2\nprofiles:\n  - name: kc\n    discovery_ttl: 1h\naccounts: []\n"))
	if err == nil || !strings.Contains(err.Error(), "discovery_ttl_seconds") {
		t.Errorf("version 2 with discovery_ttl: %v", err)
	}
}

// Every form a secret takes in a file: plaintext, {required: true},
// {file}, {env}, {credential}; references are read at import, relative
// files from Dir; two forms at once are refused.
func TestSecretForms(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	must(t, os.Mkdir(creds, 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "cs"), []byte("from-file\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(creds, "kp"), []byte("from-credential"), 0o600))
	env := map[string]string{"PW": "from-env", "CREDENTIALS_DIRECTORY": creds}
	doc := `version: 2
profiles:
  - name: a
    discovery_url: https://idp.example/.well-known/openid-configuration
    client_id: x
    client_secret: {file: cs}
    tls:
      client_cert: /c.pem
      client_key: /k.pem
      client_key_password: {credential: kp}
  - name: b
    discovery_url: https://idp.example/.well-known/openid-configuration
    client_id: x
    client_secret: {required: true}
  - name: c
    discovery_url: https://idp.example/.well-known/openid-configuration
    client_id: x
    client_secret: plain
accounts:
  - name: svc
    profile: a
    grant_type: password
    username: svc
    password: {env: PW}
    scopes: [openid]
`
	reg := core.Registry{Store: memstore.New()}
	changes := importText(t, reg, doc, config.Options{Getenv: func(k string) string { return env[k] }, Dir: dir})
	ctx := context.Background()
	a, _ := reg.Profile(ctx, "a")
	b, _ := reg.Profile(ctx, "b")
	c, _ := reg.Profile(ctx, "c")
	svc, _ := reg.Account(ctx, "svc")
	if a.ClientSecret.Reveal() != "from-file" || a.TLS.ClientKeyPassword.Reveal() != "from-credential" || a.NeedsSecret() {
		t.Errorf("profile a: %q %q %v", a.ClientSecret.Reveal(), a.TLS.ClientKeyPassword.Reveal(), a.MissingSecrets)
	}
	if b.ClientSecret.IsSet() || !slices.Equal(b.MissingSecrets, []string{core.SecretClientSecret}) {
		t.Errorf("profile b: %v %v", b.ClientSecret, b.MissingSecrets)
	}
	if c.ClientSecret.Reveal() != "plain" || svc.Password.Reveal() != "from-env" || svc.NeedsSecret() {
		t.Errorf("profile c %q, account %q", c.ClientSecret.Reveal(), svc.Password.Reveal())
	}
	js, _ := json.Marshal(changes)
	for _, secret := range []string{"from-file", "from-credential", "from-env", "plain"} {
		if strings.Contains(string(js), secret) {
			t.Errorf("the changes show the secret %q: %s", secret, js)
		}
	}
	if !strings.Contains(string(js), `"field":"client_secret","from":"","to":"missing"`) {
		t.Errorf("the changes do not say that b's secret is missing: %s", js)
	}

	// A reference that cannot be read refuses the whole file.
	for _, bad := range []struct{ secret, want string }{
		{"{env: NOPE}", "NOPE is not set"},
		{"{file: nope}", "no such file"},
		{"{credential: ../x}", "a file name, not a path"},
		{"{file: cs, env: PW}", "a secret is one of"},
	} {
		text := strings.Replace(doc, "{env: PW}", bad.secret, 1)
		parsed, err := config.Parse([]byte(text))
		if err == nil {
			_, err = config.Import(ctx, core.Registry{Store: memstore.New()}, parsed, config.Options{Getenv: func(k string) string { return env[k] }, Dir: dir})
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("password %s: %v, want %q", bad.secret, err, bad.want)
		}
		if bad.secret != "{file: cs, env: PW}" && !errors.Is(err, core.ErrInvalid) {
			t.Errorf("password %s: %v is not ErrInvalid", bad.secret, err)
		}
	}
	// Without CREDENTIALS_DIRECTORY a credential is refused, saying why.
	_, err := config.Import(ctx, core.Registry{Store: memstore.New()}, mustParse(t, doc), config.Options{Getenv: func(k string) string { return map[string]string{"PW": "x"}[k] }, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "$CREDENTIALS_DIRECTORY is not set") {
		t.Errorf("credential without the directory: %v", err)
	}
}

func mustParse(t *testing.T, text string) config.Document {
	t.Helper()
	doc, err := config.Parse([]byte(text))
	must(t, err)
	return doc
}

// A dry run shows the diff (secrets as set or missing) and writes
// nothing; --prune removes what the file lacks, users and webservices
// before the accounts and profiles they use.
func TestImportDiffDryRunAndPrune(t *testing.T) {
	ctx := context.Background()
	reg := setup(t)
	text := export(t, reg, false)
	// The file: another client id and leeway, no user, no webservice, no
	// billing account.
	text = strings.Replace(text, "client_id: api", "client_id: api2", 1)
	text = strings.Replace(text, "leeway_seconds: 1.5", "leeway_seconds: 2", 1)
	text = text[:strings.Index(text, "webservices:")]
	text = strings.Replace(text, "    - name: billing\n      profile: kc\n      grant_type: client_credentials\n      scopes: [openid]\n      resource_param: resource\n      token_type: access_token\n", "", 1)
	before := export(t, reg, true)

	changes := importText(t, reg, text, config.Options{DryRun: true, Prune: true})
	if after := export(t, reg, true); after != before {
		t.Fatalf("the dry run wrote:\n%s", after)
	}
	got := map[string]config.Change{}
	for _, c := range changes {
		got[c.Kind+" "+c.Name] = c
	}
	want := map[string]string{
		"setting refresh.schedule": config.ActionUnchanged, "profile kc": config.ActionUpdate, "account svc": config.ActionUnchanged,
		"account billing": config.ActionDelete, "webservice echo": config.ActionDelete, "user alice": config.ActionDelete,
	}
	if len(got) != len(want) {
		t.Errorf("changes: %+v", changes)
	}
	for k, action := range want {
		if got[k].Action != action {
			t.Errorf("%s: %q, want %q", k, got[k].Action, action)
		}
	}
	if f := got["profile kc"].Fields; !slices.Equal(f, []config.FieldChange{
		{Field: "client_id", From: "api", To: "api2"}, {Field: "misc.leeway_seconds", From: "1.5", To: "2"},
	}) {
		t.Errorf("profile diff: %+v", f)
	}

	// Without --prune nothing goes.
	importText(t, reg, text, config.Options{})
	if _, err := reg.Webservice(ctx, "echo"); err != nil {
		t.Fatalf("without prune: %v", err)
	}
	importText(t, reg, text, config.Options{Prune: true})
	if _, err := reg.Account(ctx, "billing"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("billing after prune: %v", err)
	}
	if users, _ := reg.Users(ctx); len(users) != 0 {
		t.Errorf("users after prune: %v", users)
	}
	p, _ := reg.Profile(ctx, "kc")
	if p.ClientID != "api2" || p.ClientSecret.Reveal() != "client-secret-value" {
		t.Errorf("profile after import: %q, secret kept %v", p.ClientID, p.ClientSecret.Reveal() == "client-secret-value")
	}
	// A secret given later is kept by the next import of the file, which
	// leaves it out; and a changed secret shows as changed, not its value.
	changes = importText(t, reg, strings.Replace(text, "client_secret:\n        required: true", "client_secret: other-value", 1), config.Options{DryRun: true})
	if c := changes[1]; c.Name != "kc" || !slices.Equal(c.Fields, []config.FieldChange{{Field: "client_secret", From: "set", To: "set (new value)"}}) {
		t.Errorf("a changed secret: %+v", c)
	}

	// Prune refuses a file whose account uses a profile the file lacks.
	_, err := config.Import(ctx, reg, mustParse(t, "version: 2\nprofiles: []\naccounts:\n  - name: svc\n    profile: kc\n    grant_type: client_credentials\n"), config.Options{Prune: true})
	if err == nil || !strings.Contains(err.Error(), `profile "kc" is not in the file`) || !errors.Is(err, core.ErrInvalid) {
		t.Errorf("prune of a used profile: %v", err)
	}
}

// Seconds are whole numbers where they can be, and read back.
func TestSecondsForm(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0", time.Second: "1", 1500 * time.Millisecond: "1.5", 30 * time.Minute: "1800"} {
		js, err := json.Marshal(config.Seconds(d))
		must(t, err)
		y, err := yaml.Marshal(config.Seconds(d))
		must(t, err)
		if string(js) != want || strings.TrimSpace(string(y)) != want {
			t.Errorf("%v: JSON %s, YAML %s; want %s", d, js, y, want)
		}
		var back config.Seconds
		must(t, json.Unmarshal(js, &back))
		if back.Duration() != d {
			t.Errorf("%v read back as %v", d, back.Duration())
		}
	}
	var s config.Seconds
	if err := yaml.Unmarshal([]byte("30m"), &s); err == nil {
		t.Errorf(`"30m" read as seconds: %v`, s.Duration())
	}
}
