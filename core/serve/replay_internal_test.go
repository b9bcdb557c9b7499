package serve

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"oidcctl/core/dpop"
	"oidcctl/core/memstore"
)

// downStore is a ReplayStore whose database is down.
type downStore struct{ calls int }

func (d *downStore) SeeProofID(context.Context, []byte, time.Time, time.Time) (bool, error) {
	d.calls++
	return false, errors.New("connection refused")
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestReplayCheckFallsBackAndLogsOnceAMinute: with the shared store down,
// a proof is judged by the memory alone (fresh once, a replay after),
// every failure is counted, and the failures are logged at most once a
// minute, each log line with the number of failures since the last one.
// A proof the memory has seen is refused without asking the store.
func TestReplayCheckFallsBackAndLogsOnceAMinute(t *testing.T) {
	var logs bytes.Buffer
	store := &downStore{}
	failures := prometheus.NewCounter(prometheus.CounterOpts{Name: "f"})
	g := &dpopGuard{replay: &replayCheck{mem: &dpop.ReplayCache{}}}
	g.useShared(store, slog.New(slog.NewTextHandler(&logs, nil)), failures)
	r := g.replay
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	until := t0.Add(2 * time.Minute)
	if !r.UseProof(ctx, "jkt", "a", until, t0) {
		t.Fatal("a new proof with the store down: refused")
	}
	if r.UseProof(ctx, "jkt", "a", until, t0) {
		t.Fatal("a replay with the store down: accepted")
	}
	if store.calls != 1 {
		t.Fatalf("the store was asked %d times, want once (the replay is the memory's)", store.calls)
	}
	for i, at := range []time.Duration{time.Second, 30 * time.Second, 61 * time.Second} {
		if !r.UseProof(ctx, "jkt", string(rune('b'+i)), until, t0.Add(at)) {
			t.Fatalf("proof %d with the store down: refused", i)
		}
	}
	if n := counterValue(t, failures); n != 4 {
		t.Fatalf("%v failures counted, want 4", n)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "failures=1") || !strings.Contains(lines[1], "failures=3") {
		t.Fatalf("logged %d lines, want 2 (failures=1, then failures=3 a minute later):\n%s", len(lines), logs.String())
	}
}

// TestReplayCheckAsksTheStore: a proof the memory has not seen but the
// shared store has (seen at another instance) is refused.
func TestReplayCheckAsksTheStore(t *testing.T) {
	store := memstore.New()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	until := t0.Add(2 * time.Minute)
	id := dpop.ProofID("jkt", "a")
	if _, err := store.SeeProofID(context.Background(), id[:], until, t0); err != nil {
		t.Fatal(err)
	}
	g := &dpopGuard{replay: &replayCheck{mem: &dpop.ReplayCache{}}}
	g.useShared(store, slog.New(slog.DiscardHandler), prometheus.NewCounter(prometheus.CounterOpts{Name: "f"}))
	if g.replay.UseProof(context.Background(), "jkt", "a", until, t0.Add(time.Second)) {
		t.Fatal("a proof seen at another instance: accepted")
	}
	if !g.replay.UseProof(context.Background(), "jkt", "b", until, t0.Add(time.Second)) {
		t.Fatal("a new proof: refused")
	}
}
