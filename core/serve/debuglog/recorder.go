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
// the drop) when the queue is full. An entry is written at most
// FlushInterval after it was recorded (sooner when a batch fills up),
// so that a call shows in `oidcctl debug list` well within a second.
//
// Every write prunes, in its own transaction, the log of each webservice
// it wrote to down to that webservice's retention (MaxEntries, MaxAge):
// the limits hold after every write. Every PruneInterval the logs that
// were not written to are pruned by age as well.
//
// Before an entry is written, every secret that Secrets returned when the
// entry was recorded is taken out of it.
//
// Set the fields, then call Run once; Record may be called before Run.
type Recorder struct {
	Store core.DebugStore
	// Settings returns the current debug settings by webservice ("" for
	// forward-auth calls without a webservice); the retention is theirs.
	Settings func() map[string]core.DebugSettings
	// Secrets, when set, returns the secrets serve holds (client
	// secrets, passwords, tokens); it is called by Record, on the request
	// path, and must be cheap (an atomic load).
	Secrets func() *Secrets
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

	once    sync.Once
	queue   chan item
	dropped atomic.Int64
	failing bool
}

// item is an entry with the secrets to take out of it, or a marker that
// Sync waits for.
type item struct {
	entry   core.DebugEntry
	secrets *Secrets
	sync    chan struct{}
}

func (r *Recorder) init() {
	r.once.Do(func() {
		n := r.QueueSize
		if n <= 0 {
			n = DefaultQueueSize
		}
		r.queue = make(chan item, n)
	})
}

// Record queues an entry; it never blocks. It returns false when the
// queue is full and the entry was dropped.
func (r *Recorder) Record(e core.DebugEntry) bool {
	r.init()
	it := item{entry: e}
	if r.Secrets != nil {
		it.secrets = r.Secrets()
	}
	select {
	case r.queue <- it:
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
	// The flush timer runs only while a batch waits: an idle server
	// does not wake up for nothing.
	flush := time.NewTimer(flushEvery)
	flush.Stop()
	defer flush.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	r.Prune(ctx)

	batch := make([]core.DebugEntry, 0, size)
	var waiting []chan struct{}
	add := func(it item) {
		if len(batch) == 0 {
			flush.Reset(flushEvery)
		}
		batch = append(batch, it.secrets.RedactEntry(it.entry))
	}
	write := func(ctx context.Context) {
		flush.Stop()
		if len(batch) > 0 {
			r.write(ctx, batch)
			clear(batch) // the bodies: let them go
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
			add(it)
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
						add(it)
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

// write stores a batch and prunes the logs it wrote to, in one
// transaction; a failure drops it (a debugger must never hold requests
// or memory because the database is unwell) and is logged once until
// writes work again.
func (r *Recorder) write(ctx context.Context, batch []core.DebugEntry) {
	settings := r.settings()
	now := r.now()
	keep := make(map[string]core.DebugRetention)
	for _, e := range batch {
		if _, ok := keep[e.Webservice]; !ok {
			keep[e.Webservice] = r.retention(settings[e.Webservice], now)
		}
	}
	pruned, err := r.Store.AppendDebug(ctx, batch, keep)
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
	if pruned > 0 {
		r.logger().Debug("debugger: pruned", "entries", pruned)
	}
}

// Prune removes, for every webservice, the entries older than its MaxAge
// and beyond its newest MaxEntries.
func (r *Recorder) Prune(ctx context.Context) {
	r.init()
	now := r.now()
	for ws, s := range r.settings() {
		rt := r.retention(s, now)
		n, err := r.Store.PruneDebug(ctx, ws, rt.Before, rt.Keep)
		if err != nil {
			r.logger().Warn("debugger: pruning failed", "webservice", ws, "err", err)
			continue
		}
		if n > 0 {
			r.logger().Debug("debugger: pruned", "webservice", ws, "entries", n)
		}
	}
}

// retention is what is kept of a log with settings s at now; zero limits
// are the defaults.
func (r *Recorder) retention(s core.DebugSettings, now time.Time) core.DebugRetention {
	s = retention(s)
	return core.DebugRetention{Before: now.Add(-s.MaxAge), Keep: s.MaxEntries}
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
