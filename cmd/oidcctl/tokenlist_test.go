package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
)

var updateTokenList = flag.Bool("update-token-list", false, "rewrite testdata/token-list-* from what token list prints now")

var keyID = regexp.MustCompile(`\(id [0-9a-f]+\)`)

// tokenListNow is the clock of TestTokenListManyAccounts.
var tokenListNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// seedTokenStates adds n accounts in every state token list shows, with
// times around tokenListNow, and two whose stored tokens are damaged.
func seedTokenStates(t *testing.T, c *cli, n int) {
	t.Helper()
	c.ok("user", "list") // creates the database and its key
	ctx := context.Background()
	s := openSQLite(t, c.env["OIDCCTL_DB"])
	defer s.Close()
	reg := core.Registry{Store: s}
	for _, name := range []string{"keycloak", "entra-prod", "no-secret"} {
		p := core.NewProfile(name)
		p.DiscoveryURL, p.ClientID = "https://"+name+".example/.well-known/openid-configuration", "client"
		if name == "no-secret" {
			p.MissingSecrets = []string{core.SecretClientSecret}
		} else {
			p.ClientSecret = core.NewSecret("s")
		}
		must(t, reg.AddProfile(ctx, p))
	}
	now := tokenListNow
	for i := range n {
		name := fmt.Sprintf("acct-%03d", i)
		if i%17 == 0 {
			name = fmt.Sprintf("a-much-longer-account-name-%d", i)
		}
		a := core.NewAccount(name, []string{"keycloak", "entra-prod"}[i%2])
		a.Scopes = []string{"openid", "offline_access"}
		if i%23 == 5 {
			a.Profile = "no-secret"
		}
		kind := i % 9
		switch kind {
		case 2, 3:
			a.GrantType = core.GrantAuthorizationCode
		case 4:
			a.GrantType, a.Username, a.MissingSecrets = core.GrantPassword, "svc", []string{core.SecretPassword}
		}
		must(t, s.CreateAccount(ctx, a))
		set := core.TokenSet{
			AccessToken: core.NewSecret("at-" + name), RefreshToken: core.NewSecret("rt-" + name), TokenType: "Bearer",
			Expiry: now.Add(time.Duration(i*37)*time.Minute + 17*time.Second), RefreshExpiry: now.Add(time.Duration(i) * 11 * time.Hour),
			ObtainedAt: now.Add(-time.Duration(i*13) * time.Second), Scope: "openid offline_access",
		}
		switch kind {
		case 0: // valid
		case 1: // failing, with what a provider may say
			must(t, s.SaveTokens(ctx, name, "", set))
			must(t, s.RecordFailure(ctx, name, "", core.Failure{
				Err: fmt.Sprintf("token endpoint: 503 \x1b[31mService\tUnavailable\u202e\n%s", strings.Repeat("é", i%80)),
				At:  now.Add(-time.Duration(i) * time.Minute), NextAttempt: now.Add(time.Duration(i) * time.Minute)}))
			continue
		case 2: // needs authorization
			must(t, s.RecordFailure(ctx, name, "", core.Failure{Err: "invalid_grant", At: now.Add(-time.Hour), NeedsAuthorization: true}))
			continue
		case 3: // never authorized
			continue
		case 5: // expired
			set.Expiry = now.Add(-time.Duration(i) * time.Hour)
		case 6: // a refresh token whose end is unknown
			set.RefreshExpiry = time.Time{}
		case 7: // no refresh token
			set.RefreshToken, set.RefreshExpiry = core.Secret{}, time.Time{}
		case 8: // an id token too, and its refresh token soon gone
			set.IDToken, set.RefreshExpiry = core.NewSecret("id-"+name), now.Add(3*24*time.Hour)
		}
		must(t, s.SaveTokens(ctx, name, "", set))
	}
	s.Close()
	corruptToken(t, c, "acct-010", "access_token")
	corruptToken(t, c, "acct-033", "refresh_token")
}

// TestTokenListManyAccounts: token list prints, for many accounts in
// every state (failing with control characters and long errors, needing
// authorization or a secret, expired, damaged), the table, the JSON and
// the lines about damaged tokens byte for byte as it did when it kept
// every row (testdata/token-list-*, written by that code with
// -update-token-list and the same clock).
func TestTokenListManyAccounts(t *testing.T) {
	c := newCLI(t)
	c.now = func() time.Time { return tokenListNow }
	seedTokenStates(t, c, 400)
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"token-list-table.txt", []string{"token", "list"}, exitOK},
		{"token-list.json", []string{"token", "list", "-o", "json"}, exitOK},
		{"token-list-check.txt", []string{"token", "list", "--check", "--warn", "5d"}, exitFailure},
	} {
		r := c.run("", tc.args...)
		if r.code != tc.code {
			t.Fatalf("%v: exit %d, want %d\n%s", tc.args, r.code, tc.code, r.stderr)
		}
		// The key file's place and id are the test's own.
		got := r.stdout + "--- standard error ---\n" + r.stderr
		got = keyID.ReplaceAllString(strings.ReplaceAll(got, c.dir, "DIR"), "(id KEY)")
		path := filepath.Join("testdata", tc.golden)
		if *updateTokenList {
			must(t, os.MkdirAll("testdata", 0o755))
			must(t, os.WriteFile(path, []byte(got), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		must(t, err)
		if got != string(want) {
			gl, wl := strings.SplitAfter(got, "\n"), strings.SplitAfter(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%v differs from %s at line %d:\ngot:  %q\nwant: %q", tc.args, path, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%v: %d lines, %s has %d", tc.args, len(gl), path, len(wl))
		}
	}
}
