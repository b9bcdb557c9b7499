package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"oidcctl/core/oidctest"
	"oidcctl/core/tokens"
)

// A refresh schedule that never fires is refused where it is set, with
// the reason and exit 2, and nothing is stored.
func TestConfigSetRefusesScheduleThatNeverFires(t *testing.T) {
	c := newCLI(t)
	for _, tt := range []struct{ key, value, want string }{
		{tokens.SettingSchedule, "0 0 31 2 *", "never fires"},
		{tokens.SettingSchedule, "0 0 30 2 *", "never fires"},
		{tokens.SettingInterval, "99999999999", "at most 31622400 (a year)"},
	} {
		r := c.run("", "config", "set", tt.key, tt.value)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("config set %s %q: exit %d, stderr %q; want %d and %q", tt.key, tt.value, r.code, r.stderr, exitUsage, tt.want)
		}
	}
	if got := strings.TrimSpace(c.ok("config", "get", tokens.SettingSchedule)); got != tokens.DefaultSchedule {
		t.Errorf("schedule after refusals: %q", got)
	}
	c.ok("config", "set", tokens.SettingSchedule, "0 0 29 2 *") // rare, but it fires
}

// config import sets the refresh schedule (version 2 documents hold the
// settings) but, like config set, refuses one that never fires: the file
// is refused whole, exit 2, and the stored schedule stays. A version 1
// document has no settings at all.
func TestConfigImportRefusesScheduleThatNeverFires(t *testing.T) {
	c := newCLI(t)
	for _, doc := range []struct{ body, want string }{
		{"version: 2\nprofiles: []\naccounts: []\nsettings:\n  refresh.schedule: \"0 0 31 2 *\"\n", "never fires"},
		{"version: 1\nprofiles: []\naccounts: []\nsettings:\n  refresh.schedule: \"*/5 * * * *\"\n", "need version 2"},
		{"version: 2\nprofiles: []\naccounts: []\nsettings:\n  refresh.schedul: \"*/5 * * * *\"\n", `unknown setting "refresh.schedul"`},
	} {
		r := c.run("", "config", "import", c.file("c.yaml", doc.body))
		if r.code != exitUsage || !strings.Contains(r.stderr, doc.want) {
			t.Fatalf("import of\n%s: exit %d, stderr %q; want 2 and %q", doc.body, r.code, r.stderr, doc.want)
		}
	}
	if got := strings.TrimSpace(c.ok("config", "get", tokens.SettingSchedule)); got != tokens.DefaultSchedule {
		t.Errorf("schedule after the import: %q", got)
	}
	c.ok("config", "import", c.file("c.yaml", "version: 2\nprofiles: []\naccounts: []\nsettings:\n  refresh.schedule: \"*/5 * * * *\"\n"))
	if got := strings.TrimSpace(c.ok("config", "get", tokens.SettingSchedule)); got != "*/5 * * * *" {
		t.Errorf("schedule after a good import: %q", got)
	}
}

// serve refuses to start with a schedule that never fires (stored by an
// older oidcctl, or by hand): exit 2 with the reason, not a refresh loop.
func TestServeRefusesScheduleThatNeverFires(t *testing.T) {
	c := newCLI(t)
	a := &app{env: env{getenv: func(k string) string { return c.env[k] }}, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if _, err := a.open(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, a.store.SetSetting(ctx, tokens.SettingSchedule, "0 0 31 2 *"))
	a.store.Close()
	// Bounded: a serve that does start would run until cancelled.
	runCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(runCtx, []string{"serve", "--listen", freeAddr(t)},
		env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: a.getenv})
	r := result{code, stdout.String(), stderr.String()}
	if r.code != exitUsage || !strings.Contains(r.stderr, `"0 0 31 2 *" never fires`) || !strings.Contains(r.stderr, "oidcctl config set") {
		t.Fatalf("serve with 31 February: exit %d, stderr %q", r.code, r.stderr)
	}
}

// `token refresh --due` does not renew a token just obtained: with the
// provider's 5-minute tokens and the default hourly schedule, 4m59s left is
// more than half the lifetime, and a new token would not last until the
// next run either.
func TestRefreshDueLeavesANewToken(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	c.ok("token", "get", "billing")
	out := c.ok("token", "refresh", "--due")
	if !strings.Contains(out, "fresh") || strings.Contains(out, "refreshed") {
		t.Errorf("refresh --due just after token get:\n%s", out)
	}
	if n := countGrants(op, "client_credentials"); n != 1 {
		t.Errorf("%d client_credentials requests, want 1: --due renewed a token with 4m59s left", n)
	}
}
