package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oidcctl/core/oidctest"
	"oidcctl/db/dbtest"
)

// corruptToken flips a bit in the middle of a sealed token in the
// database file, as a disk or a bad copy would.
func corruptToken(t *testing.T, c *cli, account, column string) {
	t.Helper()
	dbtest.CorruptToken(t, filepath.Dir(c.env["OIDCCTL_DB"]), account, column)
}

// TestTokenDamagedRow: one account whose stored tokens were damaged does
// not make token list fail for the others: it is listed as damaged and
// explained on a line of its own; token get obtains new tokens for the
// grants that need no person.
func TestTokenDamagedRow(t *testing.T) {
	op := oidctest.Start(t, oidctest.WithAccessTokenLifetime(3*time.Hour))
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	c.ok("account", "add", "svc", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")
	c.ok("account", "add", "zeta", "--profile", "service")
	old := map[string]string{}
	for _, n := range []string{"billing", "svc", "zeta"} {
		old[n] = strings.TrimSpace(c.ok("token", "get", n))
	}
	corruptToken(t, c, "billing", "access_token")
	corruptToken(t, c, "svc", "access_token")
	corruptToken(t, c, "svc", "refresh_token")

	r := c.run("", "token", "list")
	if r.code != 0 {
		t.Fatalf("token list with a damaged row: exit %d\n%s", r.code, r.stderr)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = l
		}
	}
	for n, state := range map[string]string{"billing": "damaged", "svc": "damaged", "zeta": "valid"} {
		if !strings.Contains(rows[n], " "+state+" ") {
			t.Errorf("token list: %s is not %s:\n%s", n, state, r.stdout)
		}
	}
	for _, want := range []string{
		"oidcctl: billing: the stored access_token cannot be opened",
		"oidcctl: svc: the stored access_token cannot be opened",
		"svc obtains new tokens",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("token list: no line %q on stderr:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "zeta") || strings.Count(r.stderr, "\n") != 2 {
		t.Errorf("token list: want one line per damaged account:\n%s", r.stderr)
	}
	var states []tokenState
	if err := json.Unmarshal([]byte(c.ok("token", "list", "-o", "json")), &states); err != nil || len(states) != 3 {
		t.Fatalf("token list -o json: %v, %d states", err, len(states))
	}
	for _, st := range states {
		if (st.Damaged != "") != (st.Account != "zeta") {
			t.Errorf("-o json: %s damaged %q", st.Account, st.Damaged)
		}
	}
	if r := c.run("", "token", "list", "--check"); r.code != exitFailure || !strings.Contains(r.stderr, "billing: damaged") {
		t.Errorf("token list --check: exit %d\n%s", r.code, r.stderr)
	}

	// client_credentials and password obtain new tokens.
	passwordGrants := countGrants(op, "password")
	for _, n := range []string{"billing", "svc"} {
		r := c.run("", "token", "get", n)
		tok := strings.TrimSpace(r.stdout)
		if r.code != 0 || strings.Count(tok, ".") != 2 || tok == old[n] {
			t.Fatalf("token get %s with damaged tokens: exit %d\n%s", n, r.code, r.stderr)
		}
	}
	if n := countGrants(op, "password") - passwordGrants; n != 1 {
		t.Errorf("%d password grants for svc, want 1", n)
	}
	if again := strings.TrimSpace(c.ok("token", "get", "zeta")); again != old["zeta"] {
		t.Error("the undamaged account's token was replaced")
	}
	r = c.run("", "token", "list", "--check")
	if r.code != 0 || r.stderr != "" || strings.Contains(r.stdout, "damaged") {
		t.Fatalf("after token get: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestTokenRevokeAccessTokenUnsupported: a provider that does not revoke
// its JWT access tokens (unsupported_token_type): token revoke succeeds
// once the refresh token is revoked, says what stays valid, and the
// tokens are gone from the store.
func TestTokenRevokeAccessTokenUnsupported(t *testing.T) {
	op := oidctest.Start(t, oidctest.WithAccessTokenRevocationUnsupported())
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "svc", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")
	c.ok("token", "get", "svc")
	r := c.run("", "token", "revoke", "svc")
	if r.code != 0 || !strings.Contains(r.stdout, "revoked (1 tokens at the provider) and forgotten") ||
		!strings.Contains(r.stderr, "does not revoke the access_token (unsupported_token_type)") {
		t.Fatalf("token revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var states []tokenState
	if err := json.Unmarshal([]byte(c.ok("token", "list", "-o", "json")), &states); err != nil || len(states) != 1 {
		t.Fatal(err)
	}
	if st := states[0]; st.HasAccessToken || st.HasRefreshToken || st.State != "none" {
		t.Fatalf("after revoke: %+v", st)
	}
	reqs := op.RevocationRequests()
	if len(reqs) != 2 || reqs[0].Get("token_type_hint") != "refresh_token" || reqs[1].Get("token_type_hint") != "access_token" {
		t.Fatalf("revocation requests: %d, want the refresh token, then the access token", len(reqs))
	}
}
