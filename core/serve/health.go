package serve

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"sync"
	"time"

	"oidcctl/core"
)

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is the answer of /readyz.
type readiness struct {
	Ready bool `json:"ready"`
	// Status is "ok", "degraded" (ready, but some parts wait for the
	// database: see Degraded) or "not ready".
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
	// Degraded says, by part, what does not work while the database is
	// unreachable, and what still does.
	Degraded map[string]string `json:"degraded,omitempty"`
}

// Readiness statuses.
const (
	readyOK       = "ok"
	readyDegraded = "degraded"
	readyNot      = "not ready"
)

// dbDown is what serve does while its database is unreachable: what the
// degraded field of /readyz says.
var dbDown = map[string]string{
	"validation":    "tokens are validated with the profiles and keys already loaded, for the users serve has read before; a user it must create or whose roles it must update is refused (500) until the database is back",
	"renewals":      "token renewals wait for the database; the scheduler tries again every 10 s and resumes on its own",
	"tokens":        "requester webservices and the token socket cannot read the token store: their calls fail",
	"configuration": "changes made elsewhere are not seen: the configuration loaded before is served",
	"debugger":      "calls are not recorded until the database is back",
}

// dpopReplayDown is what the degraded field says of DPoP with
// Config.SharedReplay while the database is unreachable.
const dpopReplayDown = "a DPoP proof used at another serve instance is not refused as a replay here (each instance still refuses the proofs used at itself) until the database is back"

// readyz says whether calls can be served: the configuration is loaded,
// and the key set of every profile in use was fetched at least once.
//
// An unreachable database does not make serve unready: serve goes on
// validating tokens with what it has loaded (several instances sharing a
// PostgreSQL server would otherwise all leave the load balancer during a
// restart of the server). It answers 200 with status "degraded", the
// database check saying why and Degraded what waits for the database.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	out := readiness{Ready: true, Status: readyOK, Checks: map[string]string{}}
	fail := func(name, why string) {
		out.Ready = false
		out.Checks[name] = why
	}
	if s.stopping.Load() {
		fail("serve", "stopping")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.ConfigVersion(ctx); err != nil {
		out.Checks["database"] = "unreachable: " + err.Error()
		out.Degraded = dbDown
		if s.cfg.SharedReplay != nil {
			out.Degraded = maps.Clone(dbDown)
			out.Degraded["dpop"] = dpopReplayDown
		}
	} else {
		out.Checks["database"] = "ok"
	}
	for name, why := range s.warm.status() {
		if why == "" {
			out.Checks["jwks:"+name] = "ok"
		} else {
			fail("jwks:"+name, why)
		}
	}
	if p := s.cfg.DefaultProfile; p != "" {
		if _, ok := s.routes().profiles[p]; !ok {
			fail("forward-auth", fmt.Sprintf("the default profile %q does not exist", p))
		}
	}
	status := http.StatusOK
	switch {
	case !out.Ready:
		status, out.Status = http.StatusServiceUnavailable, readyNot
	case out.Degraded != nil:
		out.Status = readyDegraded
	}
	writeJSON(w, status, out)
}

// warmer fetches the discovery document and key set of every profile in
// use (the default forward-auth profile, and those of provider
// webservices) ahead of the first call, and keeps trying those that fail.
type warmer struct {
	s    *Server
	mu   sync.Mutex
	want map[string]core.Profile
	// done holds, by profile, the state the keys were fetched for (name,
	// URL and update time); errs the last failure.
	done map[string]string
	errs map[string]string
	kick chan struct{}
}

// warmRetry is the pause before a failed fetch is tried again.
const warmRetry = 5 * time.Second

func (w *warmer) init() {
	if w.kick == nil {
		w.kick = make(chan struct{}, 1)
		w.done = map[string]string{}
		w.errs = map[string]string{}
	}
}

func stateKey(p core.Profile) string {
	return p.Name + "\x00" + p.DiscoveryURL + "\x00" + p.UpdatedAt.String()
}

// update takes the profiles in use from a new route table.
func (w *warmer) update(t *routeTable) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	w.want = map[string]core.Profile{}
	if p, ok := t.profiles[w.s.cfg.DefaultProfile]; ok {
		w.want[p.Name] = p
	}
	for _, r := range t.webservices {
		if r.Kind != core.Provider {
			continue
		}
		if p, ok := t.profiles[r.Profile]; ok {
			w.want[p.Name] = p
		}
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// status returns, by profile in use, "" when its keys were fetched, else
// why not.
func (w *warmer) status() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.want))
	for name, p := range w.want {
		switch {
		case w.done[name] == stateKey(p):
			out[name] = ""
		case w.errs[name] != "":
			out[name] = "not fetched: " + w.errs[name]
		default:
			out[name] = "not fetched yet"
		}
	}
	return out
}

// pending returns the profiles whose keys are still to be fetched.
func (w *warmer) pending() []core.Profile {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []core.Profile
	for name, p := range w.want {
		if w.done[name] != stateKey(p) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (w *warmer) run(ctx context.Context) {
	w.mu.Lock()
	w.init()
	w.mu.Unlock()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-retry.C:
		}
		failed := false
		for _, p := range w.pending() {
			err := w.fetch(ctx, p)
			w.mu.Lock()
			_, wasFailing := w.errs[p.Name]
			if err != nil {
				w.errs[p.Name] = err.Error()
				failed = true
			} else {
				w.done[p.Name] = stateKey(p)
				delete(w.errs, p.Name)
			}
			w.mu.Unlock()
			switch {
			case ctx.Err() != nil:
			case err != nil && !wasFailing:
				// Once per failing streak: /readyz says it meanwhile.
				w.s.log.Warn("cannot fetch the keys of a profile in use; retrying every few seconds", "profile", p.Name, "err", err)
			case err == nil && wasFailing:
				w.s.log.Info("fetched the keys of a profile in use", "profile", p.Name)
			}
		}
		if failed {
			retry.Reset(warmRetry)
		}
	}
}

func (w *warmer) fetch(ctx context.Context, p core.Profile) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := w.s.docs.Get(ctx, p)
	if err != nil {
		return err
	}
	_, _, err = w.s.keys.Set(ctx, p, d.JWKSURI)
	return err
}
