package postgres_test

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/core"
	"oidcctl/core/serve"
	"oidcctl/core/validate"
	"oidcctl/db/postgres"
)

// reloadWatch is a slog handler that passes on every "configuration
// reloaded" record that serve logs, so that a test waits for the reload
// itself instead of sleeping.
type reloadWatch struct {
	slog.Handler
	reloads chan int64
}

func (h reloadWatch) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "configuration reloaded" {
		var v int64
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "version" {
				v = a.Value.Int64()
			}
			return true
		})
		h.reloads <- v
	}
	return nil
}

func (h reloadWatch) Enabled(context.Context, slog.Level) bool { return true }
func (h reloadWatch) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h reloadWatch) WithGroup(string) slog.Handler            { return h }

// Two stores on one database, as two hosts have: a webservice created
// through one reaches a serve running on the other within a second,
// although that serve polls the configuration version only once an hour.
// LISTEN/NOTIFY brings it; before, the change waited for the poll.
func TestChangeOnOneHostReachesServeOnAnotherWithinASecond(t *testing.T) {
	ctx := t.Context()
	hostA, conn := open(t)
	hostB, err := postgres.Open(ctx, conn, hostA.Key())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hostB.Close() })

	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "cid"
	if err := hostA.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}

	watch := reloadWatch{Handler: slog.DiscardHandler, reloads: make(chan int64, 16)}
	log := slog.New(watch)
	srv, err := serve.New(ctx, serve.Config{
		Store:          hostB,
		Validator:      validate.New(validate.Config{Users: hostB, Logger: log}),
		ReloadInterval: time.Hour,
		NoScheduler:    true,
		Logger:         log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx, ln, nil) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	status := func() int {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/ws/late/x", nil))
		return rec.Code
	}
	if c := status(); c != 404 {
		t.Fatalf("before the change: %d, want 404", c)
	}
	// The listener runs on its own: wait until its connection shows in
	// pg_stat_activity.
	pid := waitListening(t, conn, 0)

	w := core.NewWebservice("late", core.Provider)
	w.Profile, w.Route, w.Upstream, w.Methods = "op", "/x", "http://127.0.0.1:1", []string{"GET"}
	if err := hostA.CreateWebservice(ctx, w); err != nil {
		t.Fatal(err)
	}
	want, err := hostA.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitReload(t, watch.reloads, want)
	if c := status(); c == 404 {
		t.Fatalf("after the reload: /ws/late/x still 404")
	}

	// The listening connection is lost (a PostgreSQL restart, a network
	// cut): the store connects again and listens again, and the next
	// change arrives as fast.
	raw, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	waitListening(t, conn, pid)
	if err := hostA.DeleteWebservice(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	if want, err = hostA.ConfigVersion(ctx); err != nil {
		t.Fatal(err)
	}
	waitReload(t, watch.reloads, want)
	if c := status(); c != 404 {
		t.Fatalf("after the removal: /ws/late/x %d, want 404", c)
	}
}

// waitReload waits for serve to reload version want or a newer one. A
// notification brings it within milliseconds on an idle machine; the bound
// is ten seconds, so that a busy machine under -race does not fail the
// test, and still far below the hour between serve's own polls, which
// is what it tells apart.
func waitReload(t *testing.T, reloads <-chan int64, want int64) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v := <-reloads:
			if v >= want {
				return
			}
		case <-deadline:
			t.Fatalf("serve on the other store did not reload version %d within ten seconds (its own poll is hourly)", want)
		}
	}
}

// waitListening waits (bounded: real time cannot be avoided, the
// listener runs on its own) until a connection of the database is
// listening on the configuration channel, other than the backend not,
// and returns its backend pid.
func waitListening(t *testing.T, conn string, not int32) int32 {
	t.Helper()
	ctx := t.Context()
	raw, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pid int32
		err := raw.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN oidcctl_config' AND pid <> pg_backend_pid() AND pid <> $1
			ORDER BY backend_start DESC LIMIT 1`, not).Scan(&pid)
		if err == nil {
			return pid
		}
		if err != pgx.ErrNoRows {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection listens on oidcctl_config")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
