package debuglog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/serve/debuglog"
)

// memStore is a core.DebugStore in memory.
type memStore struct {
	mu      sync.Mutex
	entries []core.DebugEntry
	batches int
	fail    error
	block   chan struct{}
	prunes  map[string]int
}

func (m *memStore) AddDebugEntries(_ context.Context, es []core.DebugEntry) error {
	if m.block != nil {
		<-m.block
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.batches++
	m.entries = append(m.entries, es...)
	return nil
}

func (m *memStore) AppendDebug(ctx context.Context, es []core.DebugEntry, keep map[string]core.DebugRetention) (int, error) {
	if err := m.AddDebugEntries(ctx, es); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.prunes == nil {
		m.prunes = map[string]int{}
	}
	for ws, r := range keep {
		m.prunes[ws] = r.Keep
	}
	return 0, nil
}

func (m *memStore) DebugEntries(context.Context, core.DebugFilter) ([]core.DebugEntry, error) {
	return nil, nil
}
func (m *memStore) DebugEntry(context.Context, int64) (core.DebugEntry, error) {
	return core.DebugEntry{}, nil
}
func (m *memStore) ClearDebug(context.Context, string) (int, error) { return 0, nil }

func (m *memStore) PruneDebug(_ context.Context, ws string, before time.Time, keep int) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.prunes == nil {
		m.prunes = map[string]int{}
	}
	m.prunes[ws] = keep
	return 0, nil
}

func (m *memStore) count() (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries), m.batches
}

func TestRecorderBatchesAndSyncs(t *testing.T) {
	st := &memStore{}
	r := &debuglog.Recorder{Store: st, BatchSize: 10, FlushInterval: time.Hour,
		Settings: func() map[string]core.DebugSettings { return map[string]core.DebugSettings{"a": {MaxEntries: 7}} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for i := range 25 {
		r.Record(core.DebugEntry{Webservice: "a", Status: i})
	}
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, b := st.count(); n != 25 || b != 3 {
		t.Fatalf("%d entries in %d batches, want 25 in 3", n, b)
	}
	st.mu.Lock()
	keep := st.prunes["a"]
	st.mu.Unlock()
	if keep != 7 {
		t.Fatalf("pruned to %d, want 7", keep)
	}
	// What is queued when Run stops is written.
	r.Record(core.DebugEntry{Webservice: "a"})
	cancel()
	<-done
	if n, _ := st.count(); n != 26 {
		t.Fatalf("%d entries after stop, want 26", n)
	}
}

func TestRecorderNeverBlocks(t *testing.T) {
	st := &memStore{block: make(chan struct{})}
	var dropped int
	var mu sync.Mutex
	r := &debuglog.Recorder{Store: st, QueueSize: 5, BatchSize: 1,
		Dropped: func(n int) { mu.Lock(); dropped += n; mu.Unlock() }}
	ctx, cancel := context.WithCancel(context.Background())
	go r.Run(ctx)
	start := time.Now()
	for range 100 {
		r.Record(core.DebugEntry{})
	}
	if time.Since(start) > time.Second {
		t.Fatal("Record waited for the store")
	}
	if r.DroppedTotal() < 90 {
		t.Fatalf("dropped %d of 100 with a queue of 5 and a store that hangs", r.DroppedTotal())
	}
	close(st.block)
	cancel()
}

func TestRecorderStoreFailureLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	st := &memStore{fail: errors.New("disk I/O error")}
	r := &debuglog.Recorder{Store: st, BatchSize: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	for range 5 {
		r.Record(core.DebugEntry{})
		if err := r.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "disk I/O error"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, logs.String())
	}
	if r.DroppedTotal() != 5 {
		t.Fatalf("dropped %d, want 5", r.DroppedTotal())
	}
	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	r.Record(core.DebugEntry{})
	r.Sync(context.Background())
	if !strings.Contains(logs.String(), "writing entries again") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}
