package debuglog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"oidcctl/core"
)

// Defaults of a Recorder.
const (
	DefaultQueueSize     = 4096
	DefaultBatchSize     = 256
	DefaultFlushInterval = 200 * time.Millisecond
	DefaultPruneInterval = 10 * time.Minute
	// DefaultDrainTimeout bounds the last flush when Run ends.
	DefaultDrainTimeout = 5 * time.Second
)

// Recorder writes debugger entries to the store in batches, from a
// goroutine of its own, so that a request never waits for the database:
// Record only puts the entry in a bounded queue, and drops it (counting
// the drop) when the queue is full. It also prunes each webservice's
// entries to its retention settings: every PruneInterval, and as soon as
// a tenth of a webservice's MaxEntries were written since its last prune.
//
// Set the fields, then call Run once; Record may be called before Run.
type Recorder struct {
	Store core.DebugStore
	// Settings returns the current debug settings by webservice ("" for
	// forward-auth calls without a webservice); Prune uses them.
	Settings func() map[string]core.DebugSettings
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// QueueSize, BatchSize, FlushInterval, PruneInterval: 0 means the
	// defaults above.
	QueueSize     int
	BatchSize     int
	FlushInterval time.Duration
	PruneInterval time.Duration
	// Written and Dropped, when set, are told how many entries were
	// written or dropped (queue full, or the store failed).
	Written func(n int)
	Dropped func(n int)

	once  sync.Once
	queue chan item
	// sincePrune counts entries written per webservice since its prune.
	pruneMu    sync.Mutex
	sincePrune map[string]int
	dropped    atomic.Int64
	failing    bool
}

// item is an entry, or a marker that Sync waits for.
type item struct {
	entry core.DebugEntry
	sync  chan struct{}
}

func (r *Recorder) init() {
	r.once.Do(func() {
		n := r.QueueSize
		if n <= 0 {
			n = DefaultQueueSize
		}
		r.queue = make(chan item, n)
		r.sincePrune = make(map[string]int)
	})
}

// Record queues an entry; it never blocks. It returns false when the
// queue is full and the entry was dropped.
func (r *Recorder) Record(e core.DebugEntry) bool {
	r.init()
	select {
	case r.queue <- item{entry: e}:
		return true
	default:
		r.dropped.Add(1)
		if r.Dropped != nil {
			r.Dropped(1)
		}
		return false
	}
}

// DroppedTotal returns how many entries were dropped since the start.
func (r *Recorder) DroppedTotal() int64 { return r.dropped.Load() }

// Sync waits until every entry recorded before it was written (or
// dropped). Run must be running.
func (r *Recorder) Sync(ctx context.Context) error {
	r.init()
	done := make(chan struct{})
	select {
	case r.queue <- item{sync: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run writes queued entries until ctx ends, then writes what is still
// queued (for at most DefaultDrainTimeout) and returns.
func (r *Recorder) Run(ctx context.Context) {
	r.init()
	flushEvery := r.FlushInterval
	if flushEvery <= 0 {
		flushEvery = DefaultFlushInterval
	}
	pruneEvery := r.PruneInterval
	if pruneEvery <= 0 {
		pruneEvery = DefaultPruneInterval
	}
	size := r.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	r.Prune(ctx)

	batch := make([]core.DebugEntry, 0, size)
	var waiting []chan struct{}
	write := func(ctx context.Context) {
		if len(batch) > 0 {
			r.write(ctx, batch)
			batch = batch[:0]
		}
		for _, w := range waiting {
			close(w)
		}
		waiting = waiting[:0]
	}
	for {
		select {
		case it := <-r.queue:
			if it.sync != nil {
				waiting = append(waiting, it.sync)
				write(ctx)
				continue
			}
			batch = append(batch, it.entry)
			if len(batch) >= size {
				write(ctx)
			}
		case <-flush.C:
			write(ctx)
		case <-prune.C:
			write(ctx)
			r.Prune(ctx)
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultDrainTimeout)
			defer cancel()
		drained:
			for {
				select {
				case it := <-r.queue:
					if it.sync != nil {
						waiting = append(waiting, it.sync)
					} else {
						batch = append(batch, it.entry)
					}
					if len(batch) >= size {
						write(drain)
					}
				default:
					break drained
				}
			}
			write(drain)
			return
		}
	}
}

// write stores a batch; a failure drops it (a debugger must never hold
// requests or memory because the database is unwell) and is logged once
// until writes work again.
func (r *Recorder) write(ctx context.Context, batch []core.DebugEntry) {
	err := r.Store.AddDebugEntries(ctx, batch)
	if err != nil {
		r.dropped.Add(int64(len(batch)))
		if r.Dropped != nil {
			r.Dropped(len(batch))
		}
		if !r.failing {
			r.logger().Error("debugger: cannot write entries; dropping them until the database works again", "entries", len(batch), "err", err)
			r.failing = true
		}
		return
	}
	if r.failing {
		r.logger().Info("debugger: writing entries again")
		r.failing = false
	}
	if r.Written != nil {
		r.Written(len(batch))
	}
	settings := r.settings()
	var due []string
	r.pruneMu.Lock()
	for _, e := range batch {
		r.sincePrune[e.Webservice]++
	}
	for ws, n := range r.sincePrune {
		if n >= max(retention(settings[ws]).MaxEntries/10, 50) {
			due = append(due, ws)
		}
	}
	r.pruneMu.Unlock()
	for _, ws := range due {
		r.pruneOne(ctx, ws, settings[ws])
	}
}

// Prune removes, for every webservice, the entries older than its MaxAge
// and beyond its newest MaxEntries.
func (r *Recorder) Prune(ctx context.Context) {
	r.init()
	for ws, s := range r.settings() {
		r.pruneOne(ctx, ws, s)
	}
}

func (r *Recorder) pruneOne(ctx context.Context, ws string, s core.DebugSettings) {
	s = retention(s)
	n, err := r.Store.PruneDebug(ctx, ws, r.now().Add(-s.MaxAge), s.MaxEntries)
	if err != nil {
		r.logger().Warn("debugger: pruning failed", "webservice", ws, "err", err)
		return
	}
	r.pruneMu.Lock()
	delete(r.sincePrune, ws)
	r.pruneMu.Unlock()
	if n > 0 {
		r.logger().Debug("debugger: pruned", "webservice", ws, "entries", n)
	}
}

// retention fills in the defaults of zero limits.
func retention(s core.DebugSettings) core.DebugSettings {
	if s.MaxAge <= 0 {
		s.MaxAge = core.DefaultDebugMaxAge
	}
	if s.MaxEntries <= 0 {
		s.MaxEntries = core.DefaultDebugMaxEntries
	}
	return s
}

func (r *Recorder) settings() map[string]core.DebugSettings {
	if r.Settings == nil {
		return nil
	}
	return r.Settings()
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Recorder) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}
