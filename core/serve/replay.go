package serve

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"oidcctl/core"
	"oidcctl/core/dpop"
)

// replayStoreTimeout bounds the wait for Config.SharedReplay: a database
// that hangs delays a DPoP call by at most this, then the call is judged
// by the memory alone.
const replayStoreTimeout = time.Second

// replayLogEvery is the most often a failure of Config.SharedReplay is
// logged; the metric counts every one.
const replayLogEvery = time.Minute

// replayCheck is serve's dpop.Replay: the process's memory first (a proof
// seen here is refused without asking the database), then, when set, the
// store shared by the instances on one database. A store that fails
// leaves the memory's answer: DPoP calls go on while the database is
// down, refused across instances again once it is back.
type replayCheck struct {
	mem *dpop.ReplayCache

	// Set by useShared before serving, read-only then.
	store  core.ReplayStore
	log    *slog.Logger
	errors prometheus.Counter

	mu       sync.Mutex
	lastLog  time.Time // when a failure was last logged
	unlogged int       // failures since then
}

// UseProof implements dpop.Replay.
func (r *replayCheck) UseProof(ctx context.Context, jkt, jti string, until, now time.Time) bool {
	id := dpop.ProofID(jkt, jti)
	if !r.mem.UseID(id, until, now) {
		return false
	}
	if r.store == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, replayStoreTimeout)
	defer cancel()
	fresh, err := r.store.SeeProofID(ctx, id[:], until, now)
	if err != nil {
		r.failed(err, now)
		return true
	}
	return fresh
}

// failed counts a failure of the store and logs it, with the number of
// failures not logged before, at most once every replayLogEvery.
func (r *replayCheck) failed(err error, now time.Time) {
	r.errors.Inc()
	r.mu.Lock()
	r.unlogged++
	if !r.lastLog.IsZero() && now.Sub(r.lastLog) < replayLogEvery {
		r.mu.Unlock()
		return
	}
	n := r.unlogged
	r.lastLog, r.unlogged = now, 0
	r.mu.Unlock()
	r.log.Warn("DPoP: the database cannot be asked whether a proof was used at another serve instance; judged by this instance's memory alone",
		"err", err, "failures", n)
}

// useShared makes the guard's verifiers ask store too (Config.SharedReplay).
func (g *dpopGuard) useShared(store core.ReplayStore, log *slog.Logger, failures prometheus.Counter) {
	g.replay.store, g.replay.log, g.replay.errors = store, log, failures
}
