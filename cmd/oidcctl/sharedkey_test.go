package main

import (
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oidcctl/core/crypt"
	"oidcctl/core/oidctest"
	"oidcctl/db/pgtest"
	"oidcctl/internal/testkit"
)

// TestServeOnAnotherHostNeedsTheSameKey: serve runs on a PostgreSQL
// database whose profiles hold sealed secrets. A second serve, as on
// another host, with a key of its own refuses to start (exit 1) and says
// why: the key it tried, its id and the id of the key the secrets were
// sealed with; one without any key file is told to restore it, and no key
// is made in its place. Neither disturbs the running serve, and a second
// serve given the same key file starts.
func TestServeOnAnotherHostNeedsTheSameKey(t *testing.T) {
	op := oidctest.Start(t)
	c, _ := pgCLI(t, pgtest.URL(t), op)
	goodKey := filepath.Join(c.dir, "xdg", "oidcctl", "oidcctl.key")
	good, err := crypt.LoadKey(goodKey, false)
	if err != nil {
		t.Fatal(err)
	}
	c.ok("account", "add", "billing", "--profile", "service")
	tok := strings.TrimSpace(c.ok("token", "get", "billing"))
	c.ok("user", "add", oidctest.ServiceClientID, "--email", "sid1@example.test", "--role", "api")

	hc := &http.Client{Timeout: 5 * time.Second}
	srv := c.startServe(hc, "--auth-profile", "service", "--no-scheduler")
	addr := strings.TrimPrefix(srv.base, "http://")

	// Host B: the same database, a key of its own.
	hostB := &cli{t: t, dir: t.TempDir(), env: maps.Clone(c.env)}
	otherKey := filepath.Join(hostB.dir, "oidcctl.key")
	other, err := crypt.LoadKey(otherKey, true)
	if err != nil {
		t.Fatal(err)
	}
	hostB.env["OIDCCTL_KEY_FILE"] = otherKey
	// A password in the connection string (the test server trusts
	// local connections and does not ask for it) must not be shown.
	const password = "pw-of-host-b-0042"
	if !strings.HasPrefix(c.env["OIDCCTL_DB"], "postgres://postgres@") {
		t.Fatalf("connection string %q", c.env["OIDCCTL_DB"])
	}
	hostB.env["OIDCCTL_DB"] = strings.Replace(c.env["OIDCCTL_DB"], "postgres@", "postgres:"+password+"@", 1)
	r := hostB.run("", "serve", "--listen", freeAddr(t), "--auth-profile", "service", "--no-scheduler")
	if r.code != exitFailure || strings.Contains(r.stderr, password) {
		t.Fatalf("serve with another key: exit %d, want %d\n%s", r.code, exitFailure, r.stderr)
	}
	for _, want := range []string{otherKey, "id " + other.ID(), "sealed with key id " + good.ID(), "OIDCCTL_KEY_FILE"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("serve with another key says %q, without %q", r.stderr, want)
		}
	}

	// Host C: no key file at all, where one would be made.
	hostC := &cli{t: t, dir: t.TempDir(), env: maps.Clone(hostB.env)}
	delete(hostC.env, "OIDCCTL_KEY_FILE")
	hostC.env["XDG_DATA_HOME"] = filepath.Join(hostC.dir, "xdg")
	missing := filepath.Join(hostC.dir, "xdg", "oidcctl", "oidcctl.key")
	r = hostC.run("", "serve", "--listen", freeAddr(t), "--auth-profile", "service", "--no-scheduler")
	if r.code != exitFailure || !strings.Contains(r.stderr, missing+" does not exist") || !strings.Contains(r.stderr, "sealed with key id "+good.ID()) ||
		!strings.Contains(r.stderr, "no new key was created") {
		t.Fatalf("serve without a key file: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := crypt.LoadKey(missing, false); err == nil {
		t.Fatal("a key was made for the host without one")
	}
	if strings.Contains(r.stderr, password) {
		t.Fatalf("the connection string's password in: %s", r.stderr)
	}

	// Host D: the same key file (as LoadCredential= gives it) starts.
	hostD := &cli{t: t, dir: t.TempDir(), env: maps.Clone(c.env)}
	hostD.env["XDG_DATA_HOME"] = filepath.Join(hostD.dir, "xdg")
	hostD.env["CREDENTIALS_DIRECTORY"] = filepath.Dir(goodKey)
	srvD := hostD.startServe(hc, "--auth-profile", "service", "--no-scheduler")
	addrD := strings.TrimPrefix(srvD.base, "http://")
	for _, a := range []string{addr, addrD} {
		testkit.Eventually(t, 15*time.Second, "forward-auth on "+a, func() bool {
			req, _ := http.NewRequest("GET", "http://"+a+"/auth", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := hc.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
	}
	srv.end(t)
	srvD.end(t)
}
