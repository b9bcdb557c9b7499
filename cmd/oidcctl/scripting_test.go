package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"oidcctl/core/buildinfo"
	"oidcctl/core/oidctest"
)

// TestVersion: --version and the version command print the build
// information the toolchain recorded; -o json gives its fields.
func TestVersion(t *testing.T) {
	c := newCLI(t)
	want := "oidcctl " + buildinfo.Read().String() + "\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if out := c.ok(args...); out != want {
			t.Errorf("oidcctl %s = %q, want %q", strings.Join(args, " "), out, want)
		}
	}
	var info buildinfo.Info
	if err := json.Unmarshal([]byte(c.ok("version", "-o", "json")), &info); err != nil {
		t.Fatal(err)
	}
	if info != buildinfo.Read() || info.GoVersion == "" {
		t.Errorf("version -o json = %+v", info)
	}
	if _, err := os.Stat(c.env["OIDCCTL_DB"]); err == nil {
		t.Error("version created the database")
	}
}

// TestUnknownCommand: a mistyped sub-command exits 2 and names the
// command that was probably meant; a parent alone still shows its help.
func TestUnknownCommand(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"profile", "lst"}, `unknown command "lst" for "oidcctl profile"; did you mean "list"`},
		{[]string{"tokn"}, `unknown command "tokn" for "oidcctl"; did you mean "token"?`},
		{[]string{"token", "gte", "billing"}, `unknown command "gte" for "oidcctl token"; did you mean "get"?`},
		{[]string{"webservice", "credential", "ad"}, `did you mean "add"`},
		{[]string{"account", "frobnicate"}, `unknown command "frobnicate" for "oidcctl account" (see oidcctl account --help)`},
		// help takes the same words: a mistyped topic is no success.
		{[]string{"help", "tokn"}, `unknown command "tokn" for "oidcctl"; did you mean "token"?`},
		{[]string{"help", "profile", "lst"}, `unknown command "lst" for "oidcctl profile"; did you mean "list"`},
	} {
		r := c.run("", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("oidcctl %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, tc.want)
		}
	}
	if out := c.ok("profile"); !strings.Contains(out, "Available Commands:") {
		t.Errorf("oidcctl profile:\n%s", out)
	}
	if out := c.ok("help", "profile", "list"); !strings.Contains(out, "oidcctl profile list") {
		t.Errorf("oidcctl help profile list:\n%s", out)
	}
}

// complete asks for the completions of the last word of args, as the
// shell scripts do, and returns the candidates.
func (c *cli) complete(args ...string) []string {
	c.t.Helper()
	out := c.ok(append([]string{"__complete"}, args...)...)
	var got []string
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, ":") {
			break
		}
		name, _, _ := strings.Cut(line, "\t")
		got = append(got, name)
	}
	return got
}

// TestCompletion: names complete from the database, enumerations from
// their values; a missing database is neither created nor complained
// about.
func TestCompletion(t *testing.T) {
	c := newCLI(t)
	if got := c.complete("profile", "show", ""); len(got) != 0 {
		t.Errorf("without a database: %q", got)
	}
	if _, err := os.Stat(c.env["OIDCCTL_DB"]); err == nil {
		t.Fatal("completion created the database")
	}
	secret := c.file("secret", "s\n")
	for _, p := range []string{"keycloak", "entra"} {
		c.ok("profile", "add", p, "--discovery-url", exampleDiscoveryURL, "--client-id", "x", "--client-secret-file", secret)
	}
	c.ok("account", "add", "billing", "--profile", "keycloak", "--grant-type", "client_credentials")
	c.ok("account", "add", "backup", "--profile", "entra", "--grant-type", "client_credentials")
	c.ok("user", "add", "alice", "--email", "a@example.org")
	c.ok("webservice", "add", "tickets", "--provider", "--profile", "keycloak", "--route", "/t", "--method", "GET", "--upstream", "http://127.0.0.1:9/")

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"profile", "show", ""}, []string{"entra", "keycloak"}},
		{[]string{"profile", "test", "k"}, []string{"keycloak"}},
		{[]string{"profile", "add", ""}, nil}, // a new name
		{[]string{"account", "show", "b"}, []string{"backup", "billing"}},
		{[]string{"token", "get", "bi"}, []string{"billing"}},
		{[]string{"account", "authorize", ""}, []string{"backup", "billing"}},
		{[]string{"user", "show", ""}, []string{"alice"}},
		{[]string{"webservice", "show", ""}, []string{"tickets"}},
		{[]string{"webservice", "credential", "add", ""}, []string{"tickets"}},
		{[]string{"token", "get", "billing", ""}, nil}, // one account only
		{[]string{"account", "add", "x", "--profile", ""}, []string{"entra", "keycloak"}},
		{[]string{"token", "inspect", "--account", "ba"}, []string{"backup"}},
		{[]string{"account", "add", "x", "--grant-type", ""}, []string{"client_credentials", "password", "authorization_code"}},
		{[]string{"import-user", "--grant-type", ""}, []string{"password", "client_credentials"}},
		{[]string{"profile", "list", "-o", ""}, []string{"table", "json"}},
		{[]string{"profile", "edit", "keycloak", "--flavour", ""}, []string{"generic", "keycloak", "entra", "google"}},
		{[]string{"account", "edit", "billing", "--token-type", ""}, []string{"access_token", "id_token"}},
		{[]string{"debug", "list", "--verdict", ""}, []string{"accepted", "refused", "error"}},
		{[]string{"profile", "l"}, []string{"list"}},
		{[]string{"config", "set", "refresh."}, []string{"refresh.schedule", "refresh.interval"}},
		{[]string{"config", "set", "refresh.schedule", ""}, nil},
	} {
		got := c.complete(tc.args...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("complete %q = %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out := c.ok("completion", shell); !strings.Contains(out, "__complete") {
			t.Errorf("completion %s does not call back into oidcctl:\n%.300s", shell, out)
		}
	}
}

// TestJQ: --jq filters the JSON output with a jq program: strings bare,
// other values as JSON; it refuses a table and a broken program.
func TestJQ(t *testing.T) {
	c := newCLI(t)
	secret := c.file("secret", "s\n")
	for _, p := range []string{"keycloak", "entra"} {
		c.ok("profile", "add", p, "--discovery-url", exampleDiscoveryURL, "--client-id", "id-"+p, "--client-secret-file", secret)
	}
	if out := c.ok("profile", "list", "--jq", ".[].name"); out != "entra\nkeycloak\n" {
		t.Errorf("--jq .[].name = %q", out)
	}
	if out := c.ok("profile", "list", "-o", "json", "--jq", `map({(.name): .client_id}) | add`); out != "{\n  \"entra\": \"id-entra\",\n  \"keycloak\": \"id-keycloak\"\n}\n" {
		t.Errorf("--jq object = %q", out)
	}
	if out := c.ok("profile", "show", "keycloak", "--jq", ".client_secret.set"); out != "true\n" {
		t.Errorf("--jq bool = %q", out)
	}
	if r := c.run("", "profile", "list", "-o", "table", "--jq", ".[]"); r.code != exitUsage || !strings.Contains(r.stderr, "--jq filters JSON") {
		t.Errorf("--jq with -o table: %+v", r)
	}
	if r := c.run("", "profile", "list", "--jq", ".[ | "); r.code != exitUsage || !strings.Contains(r.stderr, "--jq") {
		t.Errorf("broken program: %+v", r)
	}
	if r := c.run("", "profile", "list", "--jq", ".[0].name | error"); r.code != exitFailure || !strings.Contains(r.stderr, "--jq") {
		t.Errorf("program error: %+v", r)
	}
}

// TestManPages: oidcctl man DIR writes a page per command, with the
// flags of --help.
func TestManPages(t *testing.T) {
	c := newCLI(t)
	dir := filepath.Join(c.dir, "man", "man1")
	c.ok("man", dir)
	for _, page := range []string{"oidcctl.1", "oidcctl-profile.1", "oidcctl-token-get.1", "oidcctl-import-user.1", "oidcctl-version.1"} {
		if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
			t.Errorf("no %s: %v", page, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "oidcctl-profile-add.1"))
	if err != nil {
		t.Fatal(err)
	}
	if page := string(b); !strings.Contains(page, `.TH "OIDCCTL"`) || !strings.Contains(page, "\\fB--discovery-ttl\\fP") {
		t.Errorf("oidcctl-profile-add.1:\n%.600s", page)
	}
	if r := c.run("", "man"); r.code != exitUsage {
		t.Errorf("man without DIR: %+v", r)
	}
}

// TestImportUserVocabulary: import-user takes the manual's flags and the
// spellings the rest of oidcctl uses; --password works and warns.
func TestImportUserVocabulary(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("user", "add", oidctest.UserID, "--role", "agent")
	pw := c.file("pw", oidctest.Password)
	roles := c.file("roles.yaml", "roles:\n  admin: admin\n")
	users := c.file("users.yaml", "email: Email\n")
	base := []string{"import-user", "--profile", "web", "--grant-type", "password", "--username", op.Username(), "--scope", "openid", "--dry-run"}
	with := func(args ...string) []string { return append(slices.Clone(base), args...) }

	// oidcctl's spellings: the user is found by the sub claim.
	out := c.ok(with("--password-file", pw, "--uid-claim", "sub", "--role-map-file", roles, "--user-map-file", users)...)
	if !strings.Contains(out, `User "`+oidctest.UserID+`" exists, unchanged`) {
		t.Fatalf("import-user with --uid-claim, --role-map-file, --user-map-file:\n%s", out)
	}
	// --uid-claim is applied: the id_token has no email claim.
	if r := c.run("", with("--password-file", pw, "--uid-claim", "email", "--role-map-file", roles)...); r.code != exitRefused || !strings.Contains(r.stdout, `no "email" claim`) {
		t.Fatalf("--uid-claim email: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The manual's --password: works, and says who can see it.
	r := c.run("", with("--password", oidctest.Password, "--uid", "sub")...)
	if r.code != exitOK || !strings.Contains(r.stderr, "other local users can see") {
		t.Fatalf("--password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The password from standard input.
	if r := c.run(oidctest.Password+"\n", with("--password-file", "-")...); r.code != exitOK {
		t.Fatalf("--password-file -: exit %d\n%s", r.code, r.stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{with("--password-file", pw, "--uid", "sub", "--uid-claim", "sub"), "--uid and --uid-claim say the same"},
		{with("--password-file", pw, "--role-map", "{}", "--role-map-file", roles), "--role-map and --role-map-file say the same"},
		{with("--password-file", pw, "--role-map-file", c.file("broken.yaml", "{")), "--role-map-file"},
		{with("--password", "x", "--password-file", pw), "give one of --password, --password-file and --password-prompt"},
		{with("--password-prompt"), "--password-prompt needs a terminal"},
	} {
		r := c.run("", tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args[len(base):], r.code, r.stderr, tt.want)
		}
	}
}

// TestEditHelpShowsNoDefaults: an edit changes only the settings whose
// flags are given, so its help shows no defaults; add keeps them.
func TestEditHelpShowsNoDefaults(t *testing.T) {
	c := newCLI(t)
	for _, kind := range []string{"profile", "account", "user", "webservice"} {
		help := c.ok(kind, "edit", "--help")
		flags, _, _ := strings.Cut(help[strings.Index(help, "Flags:"):], "Global Flags:")
		if strings.Contains(flags, "(default") {
			t.Errorf("%s edit --help shows defaults:\n%s", kind, flags)
		}
	}
	if help := c.ok("profile", "add", "--help"); !strings.Contains(help, "(default 2s)") || !strings.Contains(help, "(default 22)") {
		t.Errorf("profile add --help lost its defaults:\n%s", help)
	}
}

// TestDurationFlags: every duration flag reads the one syntax (7d, 36h,
// 30m, 90s, plain seconds) and says it in its help.
func TestDurationFlags(t *testing.T) {
	c := newCLI(t)
	a := &app{env: env{stdout: &strings.Builder{}, stderr: &strings.Builder{}, getenv: func(string) string { return "" }}}
	n := 0
	walk(a.rootCommand(), func(cmd *cobra.Command) {
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			switch {
			case f.Value.Type() == "duration":
				t.Errorf("%s --%s parses with time.ParseDuration, not the documented syntax", cmd.CommandPath(), f.Name)
			case f.Value.Type() == "DURATION":
				n++
				if !strings.Contains(f.Usage, durationSyntax) {
					t.Errorf("%s --%s: help %q does not say the syntax", cmd.CommandPath(), f.Name, f.Usage)
				}
			}
		})
	})
	if n < 10 {
		t.Errorf("only %d duration flags found", n)
	}
	// Days and plain seconds where Go's syntax alone took neither.
	c.ok("serve", "--print-unit", "--shutdown-timeout", "90", "--reload-interval", "1d")
	c.ok("token", "list", "--warn", "1800")
	for _, args := range [][]string{
		{"serve", "--print-unit", "--upstream-timeout", "soon"},
		{"profile", "add", "p", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--leeway", "2 s"},
	} {
		if r := c.run("", args...); r.code != exitUsage || !strings.Contains(r.stderr, "want a duration such as") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// TestJSONNames: one naming scheme in -o json: times in RFC 3339 (UTC,
// whole seconds), durations in seconds with _seconds in the name, the
// words of the tables.
func TestJSONNames(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	c.ok("webservice", "add", "tickets", "--provider", "--profile", "service", "--route", "/t", "--method", "GET", "--upstream", "http://127.0.0.1:9/", "--debug-max-age", "2d")
	c.ok("webservice", "add", "out", "--requester", "--account", "billing", "--endpoint", "http://127.0.0.1:9", "--path", "/r", "--method", "GET")
	c.ok("webservice", "credential", "add", "out", "script")

	object := func(args ...string) map[string]any {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(c.ok(append(args, "-o", "json")...)), &v); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if list, ok := v.([]any); ok {
			v = list[0]
		}
		return v.(map[string]any)
	}
	has := func(what string, m map[string]any, present []string, absent []string) {
		t.Helper()
		for _, k := range present {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q: %v", what, k, m)
			}
		}
		for _, k := range absent {
			if _, ok := m[k]; ok {
				t.Errorf("%s has %q: %v", what, k, m)
			}
		}
	}
	rfc3339 := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	times := func(what string, m map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if s, _ := m[k].(string); !rfc3339.MatchString(s) {
				t.Errorf("%s %s = %v, want RFC 3339 in whole seconds", what, k, m[k])
			}
		}
	}

	get := object("token", "get", "billing")
	has("token get", get, []string{"token_type", "scheme", "expires_at", "expires_in_seconds"}, []string{"type", "expires_in"})
	if get["token_type"] != "access_token" || get["scheme"] != "Bearer" {
		t.Errorf("token get: token_type %v, scheme %v", get["token_type"], get["scheme"])
	}
	times("token get", get, "expires_at")

	list := object("token", "list")
	has("token list", list, []string{"last_refresh", "expires_at"}, []string{"last_success"})
	times("token list", list, "last_refresh", "expires_at")

	keys := object("profile", "keys", "service")
	has("profile keys", keys, []string{"age_seconds", "fetched_at", "last_attempt", "keys"}, []string{"age"})
	if age, _ := keys["age_seconds"].(float64); age < 0 || age > 60 {
		t.Errorf("profile keys age_seconds = %v", keys["age_seconds"])
	}
	times("profile keys", keys, "fetched_at", "last_attempt")

	ws := object("webservice", "show", "tickets")
	times("webservice show", ws, "created_at", "updated_at")
	debug := ws["debug"].(map[string]any)
	has("webservice show debug", debug, []string{"max_age_seconds", "max_body_bytes"}, []string{"max_age", "max_body"})
	if debug["max_age_seconds"] != float64(2*24*3600) {
		t.Errorf("max_age_seconds = %v", debug["max_age_seconds"])
	}
	times("credential list", object("webservice", "credential", "list", "out"), "created_at")
}
