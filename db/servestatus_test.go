package db

import (
	"context"
	"testing"
	"time"

	"oidcctl/core"
)

func TestServeStatus(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clk.Set(now)
	before, err := db.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := core.ServeStatus{Instance: "host:1", Listen: "127.0.0.1:8085", Socket: "/run/oidcctl/token.sock", Version: "dev",
		StartedAt: now.Add(-time.Hour), Heartbeat: now, LastRefreshRun: now.Add(-time.Minute), LastRefreshRenewed: 3, LastRefreshFailed: 1}
	old := core.ServeStatus{Instance: "host:0", StartedAt: now.Add(-48 * time.Hour), Heartbeat: now.Add(-25 * time.Hour), Stopped: true}
	recent := core.ServeStatus{Instance: "other:7", StartedAt: now.Add(-time.Hour), Heartbeat: now.Add(-time.Minute)}
	for _, s := range []core.ServeStatus{old, recent, a} {
		if err := db.PutServeStatus(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.ServeStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != a || got[1] != recent {
		t.Fatalf("statuses %+v, want the two of the last day, newest first", got)
	}
	if !got[0].Alive(now) || got[1].Alive(now) {
		t.Fatal("Alive: want the fresh heartbeat alive and the minute-old one gone")
	}
	a.Heartbeat, a.Stopped = now.Add(time.Second), true
	if err := db.PutServeStatus(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ServeStatuses(ctx); !got[0].Stopped || got[0].Alive(now) {
		t.Fatalf("after a clean stop: %+v", got[0])
	}
	if after, _ := db.ConfigVersion(ctx); after != before {
		t.Fatalf("a status write raised the config version from %d to %d", before, after)
	}
}
