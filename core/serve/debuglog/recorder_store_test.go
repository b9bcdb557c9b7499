package debuglog_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"oidcctl/core"
	"oidcctl/core/memstore"
	"oidcctl/core/serve/debuglog"
)

// run starts r and stops it when the test ends.
func run(t *testing.T, r *debuglog.Recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func stored(t *testing.T, st core.DebugStore, ws string) []core.DebugEntry {
	t.Helper()
	es, err := st.DebugEntries(context.Background(), core.DebugFilter{Webservice: ws, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A recorded call is in the store within the flush interval of its end
// without anybody calling Sync: the flush timer writes it (on the fake
// clock of a synctest bubble).
func TestRecorderWritesWithinASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		r := &debuglog.Recorder{Store: st}
		run(t, r)
		synctest.Wait()
		r.Record(core.DebugEntry{Time: time.Now(), Direction: core.DirectionForwardAuth, Path: "/auth"})
		time.Sleep(debuglog.DefaultFlushInterval)
		synctest.Wait()
		if n := len(stored(t, st, "")); n != 1 {
			t.Fatalf("%d entries in the store one flush interval (%v) after the call, want 1", n, debuglog.DefaultFlushInterval)
		}
		// Idle, the recorder writes nothing and the next entry is as quick.
		time.Sleep(time.Minute)
		r.Record(core.DebugEntry{Time: time.Now(), Direction: core.DirectionForwardAuth, Path: "/auth"})
		time.Sleep(debuglog.DefaultFlushInterval)
		synctest.Wait()
		if n := len(stored(t, st, "")); n != 2 {
			t.Fatalf("%d entries one flush interval after a call that followed an idle minute, want 2", n)
		}
	})
}

// The retention limits hold after every single write, by count and by
// age, not after some more entries or the next prune tick.
func TestRecorderRetentionHoldsAfterEveryWrite(t *testing.T) {
	st := memstore.New()
	ctx := context.Background()
	w := core.NewWebservice("tickets", core.Provider)
	w.Profile, w.Route, w.Upstream, w.Methods = "op", "/", "http://127.0.0.1:1", []string{"GET"}
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "c"
	if err := st.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebservice(ctx, w); err != nil {
		t.Fatal(err)
	}
	var now atomic.Pointer[time.Time]
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now.Store(&t0)
	clock := func() time.Time { return *now.Load() }
	r := &debuglog.Recorder{Store: st, Now: clock, PruneInterval: 24 * time.Hour,
		Settings: func() map[string]core.DebugSettings {
			return map[string]core.DebugSettings{
				"":        {MaxEntries: 3, MaxAge: time.Hour},
				"tickets": {MaxEntries: 5, MaxAge: time.Hour},
			}
		}}
	run(t, r)
	for i := range 12 {
		r.Record(core.DebugEntry{Time: clock(), Direction: core.DirectionForwardAuth, Path: "/auth", Status: i})
		r.Record(core.DebugEntry{Time: clock(), Webservice: "tickets", Direction: core.DirectionIncoming, Status: i})
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(stored(t, st, "")) - len(stored(t, st, "tickets")); n != min(i+1, 3) {
			t.Fatalf("after write %d: %d forward-auth entries, want %d", i+1, n, min(i+1, 3))
		}
		if es := stored(t, st, "tickets"); len(es) != min(i+1, 5) || es[0].Status != i {
			t.Fatalf("after write %d: %d entries of tickets, newest %d; want %d, newest %d", i+1, len(es), es[0].Status, min(i+1, 5), i)
		}
	}
	// An hour and a bit later, one write takes the older entries of its
	// log away in the same transaction.
	later := t0.Add(time.Hour + time.Second)
	now.Store(&later)
	r.Record(core.DebugEntry{Time: later, Webservice: "tickets", Direction: core.DirectionIncoming, Status: 99})
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if es := stored(t, st, "tickets"); len(es) != 1 || es[0].Status != 99 {
		t.Fatalf("after the max age: %d entries of tickets, want only the new one", len(es))
	}
	// An entry that is already too old when written is never seen.
	old := later.Add(-2 * time.Hour)
	r.Record(core.DebugEntry{Time: old, Webservice: "tickets", Direction: core.DirectionIncoming, Status: 100})
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if es := stored(t, st, "tickets"); len(es) != 1 || es[0].Status != 99 {
		t.Fatalf("an entry older than the max age was kept: %+v", es)
	}
}

// The secrets serve holds when a call is recorded are taken out of its
// entry before it is written, even when they change before the write.
func TestRecorderRedactsSecretsItHolds(t *testing.T) {
	st := memstore.New()
	const token = "opaque-access-token-of-billing-0123"
	var secrets atomic.Pointer[debuglog.Secrets]
	secrets.Store(debuglog.NewSecrets(token))
	r := &debuglog.Recorder{Store: st, FlushInterval: time.Hour, Secrets: secrets.Load}
	run(t, r)
	r.Record(core.DebugEntry{Direction: core.DirectionForwardAuth, Path: "/auth?x=" + token,
		ResponseBody: []byte(`{"echo":"` + token + `"}`), Reason: "refused " + token})
	secrets.Store(debuglog.NewSecrets("another-secret-entirely"))
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	es := stored(t, st, "")
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	for _, v := range []string{e.Path, string(e.ResponseBody), e.Reason} {
		if strings.Contains(v, token) || !strings.Contains(v, debuglog.Redacted) {
			t.Errorf("secret kept: %s", v)
		}
	}
}
