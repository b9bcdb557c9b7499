package serve

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"oidcctl/core"
	"oidcctl/core/tokens"
)

// statusReporter writes what this server is doing to the store's
// core.ServeStatusStore, when it has one: at the start, every
// core.ServeHeartbeat, and Stopped at a clean stop, so that the console
// and `oidcctl serve status` can show it.
type statusReporter struct {
	s     *Server
	store core.ServeStatusStore
	mu    sync.Mutex
	st    core.ServeStatus
}

func (s *Server) newStatusReporter(ln, sock net.Listener) *statusReporter {
	st, ok := s.store.(core.ServeStatusStore)
	if !ok {
		return nil
	}
	host, _ := os.Hostname()
	return &statusReporter{s: s, store: st, st: core.ServeStatus{
		Instance:  fmt.Sprintf("%s:%d", host, os.Getpid()),
		Listen:    ln.Addr().String(),
		Socket:    sockAddr(sock),
		Version:   s.cfg.Version,
		StartedAt: s.now(),
	}}
}

// ran notes a run of the refresh scheduler.
func (r *statusReporter) ran(out []tokens.Outcome) {
	if r == nil {
		return
	}
	renewed, failed := 0, 0
	for _, o := range out {
		switch {
		case o.Verdict == tokens.Due && o.Err != nil:
			failed++
		case o.Verdict == tokens.Due:
			renewed++
		}
	}
	r.mu.Lock()
	r.st.LastRefreshRun, r.st.LastRefreshRenewed, r.st.LastRefreshFailed = r.s.now(), renewed, failed
	r.mu.Unlock()
}

// put writes the status now.
func (r *statusReporter) put(ctx context.Context, stopped bool) {
	r.mu.Lock()
	r.st.Heartbeat, r.st.Stopped = r.s.now(), stopped
	st := r.st
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.store.PutServeStatus(ctx, st); err != nil && ctx.Err() == nil {
		r.s.log.Warn("cannot report the serve status", "err", err)
	}
}

// run reports every heartbeat until ctx ends.
func (r *statusReporter) run(ctx context.Context) {
	if r == nil {
		return
	}
	r.put(ctx, false)
	tick := time.NewTicker(core.ServeHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.put(ctx, false)
		}
	}
}

// stopped reports the clean stop.
func (r *statusReporter) stopped(ctx context.Context) {
	if r != nil {
		r.put(context.WithoutCancel(ctx), true)
	}
}
