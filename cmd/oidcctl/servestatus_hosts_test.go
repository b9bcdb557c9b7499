package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
)

// TestServeStatusListsEveryHost: serve instances on three hosts report to
// one PostgreSQL database; `serve status` on any host lists each with its
// host and pid, its version, when it started and was last seen, and
// whether it runs: the one that stopped reporting a minute ago is gone.
func TestServeStatusListsEveryHost(t *testing.T) {
	conn := pgtest.URL(t)
	c := newCLI(t)
	c.env["OIDCCTL_DB"] = conn
	c.env["XDG_DATA_HOME"] = filepath.Join(c.dir, "xdg")
	c.ok("db", "migrate")
	c.ok("profile", "list") // ties the new database to a key, made here
	key, err := crypt.LoadKey(filepath.Join(c.dir, "xdg", "oidcctl", "oidcctl.key"), false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := postgres.Open(ctx, conn, key)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	for _, s := range []core.ServeStatus{
		{Instance: "api-a.internal:4101", Listen: "10.0.0.1:8085", Version: "v1.4.0", StartedAt: now.Add(-time.Hour), Heartbeat: now.Add(-2 * time.Second)},
		{Instance: "api-b.internal:977", Listen: "10.0.0.2:8085", Version: "v1.4.0", StartedAt: now.Add(-time.Hour), Heartbeat: now.Add(-5 * time.Second)},
		{Instance: "api-c.internal:31337", Listen: "10.0.0.3:8085", Version: "v1.3.9", StartedAt: now.Add(-2 * time.Hour), Heartbeat: now.Add(-time.Minute)},
	} {
		if err := store.PutServeStatus(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var got []serveStatusJSON
	if err := json.Unmarshal([]byte(c.ok("serve", "status", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		pid     int
		running bool
		version string
	}{"api-a.internal": {4101, true, "v1.4.0"}, "api-b.internal": {977, true, "v1.4.0"}, "api-c.internal": {31337, false, "v1.3.9"}}
	if len(got) != len(want) {
		t.Fatalf("serve status lists %d instances, want %d: %+v", len(got), len(want), got)
	}
	for _, s := range got {
		w, ok := want[s.Host]
		if !ok || s.PID != w.pid || s.Running != w.running || s.Version != w.version {
			t.Errorf("instance %+v, want host %s with %+v", s, s.Host, w)
		}
	}
	table := c.ok("serve", "status")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "HOST") || !strings.Contains(lines[0], "PID") || !strings.Contains(lines[0], "LAST SEEN") {
		t.Fatalf("serve status table:\n%s", table)
	}
	for _, row := range []struct{ host, pid, state string }{{"api-a.internal", "4101", "running"}, {"api-b.internal", "977", "running"}, {"api-c.internal", "31337", "gone"}} {
		found := false
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) > 3 && f[0] == row.host && f[1] == row.pid && f[2] == row.state {
				found = true
			}
		}
		if !found {
			t.Errorf("no row %s %s %s in:\n%s", row.host, row.pid, row.state, table)
		}
	}
}

// TestSplitInstance: the instance names serve writes ("host:pid") and
// those of another form.
func TestSplitInstance(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		pid  int
	}{"api-a:42": {"api-a", 42}, "fe80::1:7": {"fe80::1", 7}, "odd": {"odd", 0}, "host:x": {"host:x", 0}} {
		if h, p := splitInstance(in); h != want.host || p != want.pid {
			t.Errorf("splitInstance(%q) = %q, %d, want %q, %d", in, h, p, want.host, want.pid)
		}
	}
}
