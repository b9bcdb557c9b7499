package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/oidctest"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
	"oidcctl/internal/testkit"
)

// pgCLI is a cli on a PostgreSQL database, migrated, with the in-process
// provider's profiles, and the store opened beside it with the same key.
func pgCLI(t *testing.T, conn string, op *oidctest.Provider) (*cli, *postgres.DB) {
	t.Helper()
	c := newCLI(t)
	c.env["OIDCCTL_DB"] = conn
	c.env["XDG_DATA_HOME"] = filepath.Join(c.dir, "xdg")
	c.ok("db", "migrate")
	addProvider(c, op)
	key, err := crypt.LoadKey(filepath.Join(c.dir, "xdg", "oidcctl", "oidcctl.key"), false)
	if err != nil {
		t.Fatal(err)
	}
	store, err := postgres.Open(context.Background(), conn, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return c, store
}

// dueSoon rewrites an account's stored tokens so that 10 of their 70
// minutes are left: due at any run that looks an hour ahead.
func dueSoon(t *testing.T, store core.TokenStore, account string) core.TokenState {
	t.Helper()
	ctx := context.Background()
	st, err := store.TokenState(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	st.Tokens.Expiry = time.Now().Add(10 * time.Minute)
	st.Tokens.ObtainedAt = time.Now().Add(-time.Hour)
	if err := store.SaveTokens(ctx, account, "", st.Tokens); err != nil {
		t.Fatal(err)
	}
	return st
}

type readyzJSON struct {
	Ready    bool              `json:"ready"`
	Status   string            `json:"status"`
	Checks   map[string]string `json:"checks"`
	Degraded map[string]string `json:"degraded"`
}

func readyz(t *testing.T, hc *http.Client, base string) (int, readyzJSON) {
	t.Helper()
	var r readyzJSON
	code, body := httpDo(t, hc, "GET", base+"/readyz", "")
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz: %d %s: %v", code, body, err)
	}
	return code, r
}

// TestServeRidesOutAPostgresRestart: the PostgreSQL server under a
// running serve is stopped and started again. Meanwhile a token validated
// before is still accepted, and so is a new token of a user serve read
// before, /readyz answers 200 "degraded" and says what
// waits for the database, and a renewal that fell due while the server was
// down is done on its own once it is back, with the refresh token sent
// once. The account's renewal falls due during the outage because the
// lease of an instance that died (kill -9) ends then.
//
// Before, /readyz answered 503 (every instance on the database would
// leave the load balancer during a restart), and the failed run was tried
// again only at the next scheduled run.
func TestServeRidesOutAPostgresRestart(t *testing.T) {
	op := oidctest.Start(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
	cluster := pgtest.NewCluster(t)
	c, store := pgCLI(t, cluster.URL(t), op)
	ctx := context.Background()
	c.ok("account", "add", "billing", "--profile", "service")
	c.ok("account", "add", "svc", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "offline_access")
	c.ok("user", "add", oidctest.ServiceClientID, "--email", "sid1@example.test", "--role", "api")
	c.ok("config", "set", "refresh.schedule", "0 0 1 1 *") // a run at the start, then none during the test
	tok := strings.TrimSpace(c.ok("token", "get", "billing"))
	c.ok("token", "get", "svc")
	before := dueSoon(t, store, "svc")
	// An instance died in the middle of renewing svc; its lease ends
	// 8 s from now, after the server is stopped below.
	leaseEnd := time.Now().Add(8 * time.Second)
	if _, ok, err := store.AcquireLease(ctx, "svc", "host-b:4242:dead", time.Now(), leaseEnd); err != nil || !ok {
		t.Fatalf("the dead instance's lease: %v %v", ok, err)
	}
	op.ResetTokenRequests()

	hc := &http.Client{Timeout: 10 * time.Second}
	srv := c.startServe(hc, "--auth-profile", "service", "--reload-interval", "1s")
	base, stderr := srv.base, srv.stderr
	if s, b := httpDo(t, hc, "GET", base+"/auth", tok); s != 200 {
		t.Fatalf("forward-auth before the restart: %d %s", s, b)
	}
	if n := len(op.TokenRequests()); n != 0 {
		t.Fatalf("%d token requests while another instance held the lease", n)
	}

	cluster.Stop(t)
	code, r := readyz(t, hc, base)
	if code != 200 || !r.Ready || r.Status != "degraded" || !strings.HasPrefix(r.Checks["database"], "unreachable: ") ||
		r.Degraded["renewals"] == "" || r.Degraded["validation"] == "" {
		t.Fatalf("/readyz with the database down: %d %+v", code, r)
	}
	if r.Checks["jwks:service"] != "ok" {
		t.Fatalf("/readyz lost the keys with the database: %+v", r.Checks)
	}
	if s, b := httpDo(t, hc, "GET", base+"/auth", tok); s != 200 {
		t.Fatalf("forward-auth of a known token with the database down: %d %s", s, b)
	}
	// A token not seen before, of a user serve knows, signed with a key
	// it has: validated without the database.
	now := time.Now()
	fresh, err := op.SignJWT(map[string]any{"iss": op.Issuer, "sub": oidctest.ServiceClientID, "aud": oidctest.ServiceClientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if s, b := httpDo(t, hc, "GET", base+"/auth", fresh); s != 200 {
		t.Fatalf("forward-auth of a new token of a known user with the database down: %d %s", s, b)
	}
	// The lease ends; the run it wakes fails on the missing server.
	testkit.Eventually(t, 20*time.Second, "a refresh run to fail on the stopped server", func() bool {
		return strings.Contains(stderr.String(), "refresh run failed; trying again soon")
	})
	cluster.Start(t)

	testkit.Eventually(t, 25*time.Second, "svc renewed once the database is back", func() bool {
		st, err := store.TokenState(ctx, "svc")
		return err == nil && st.LastSuccess.After(before.LastSuccess) && st.LeaseOwner == ""
	})
	var refreshes []string
	for _, q := range op.TokenRequests() {
		if q.Get("grant_type") == "refresh_token" {
			refreshes = append(refreshes, q.Get("refresh_token"))
		}
	}
	if len(refreshes) != 1 || refreshes[0] != before.Tokens.RefreshToken.Reveal() {
		t.Fatalf("%d refreshes after the restart, want one with the stored refresh token", len(refreshes))
	}
	testkit.Eventually(t, 10*time.Second, "/readyz ok again", func() bool {
		code, r := readyz(t, hc, base)
		return code == 200 && r.Status == "ok" && r.Checks["database"] == "ok" && r.Degraded == nil
	})
	srv.end(t)
}
