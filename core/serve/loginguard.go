package serve

import (
	"context"
	"sync"
	"time"

	"oidcctl/core"
)

// Browser returns with states that no login has (a scan, a flood of
// forged returns) each cost serve a read of the database. loginGuard
// bounds that: a token bucket lets unknownStateRate such returns a second
// (bursts of unknownStateBurst) reach the database; beyond it serve
// checks a state against the list of the states of the logins that have
// not expired, read at most once per statesMaxAge (and only when a state
// is not in the list it has), and answers those that are not in it with
// 429 and no read. A real login's return is in the list, so it goes
// through however many forged ones come.
const (
	unknownStateRate  = 5
	unknownStateBurst = 20
	statesMaxAge      = time.Second
)

type loginGuard struct {
	mu      sync.Mutex
	unknown bucket

	loadMu   sync.Mutex // one reader of the states at a time
	states   map[string]bool
	loadedAt time.Time
}

func newLoginGuard() *loginGuard {
	return &loginGuard{unknown: bucket{tokens: unknownStateBurst}}
}

// throttled reports whether unknown states have used the bucket up: a
// state must then be in the list before it costs a read.
func (g *loginGuard) throttled(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refill(now)
	return g.unknown.tokens < 1
}

// charge counts a state that was read and not found.
func (g *loginGuard) charge(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refill(now)
	g.unknown.tokens = max(g.unknown.tokens-1, 0)
}

func (g *loginGuard) refill(now time.Time) {
	b := &g.unknown
	if b.last.IsZero() {
		b.last = now
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(unknownStateBurst, b.tokens+d.Seconds()*unknownStateRate)
		b.last = now
	}
}

// listed reports whether state is the state of a login that has not
// expired, from the list of states, which it reads again when state is
// not in it and the list is older than statesMaxAge.
func (g *loginGuard) listed(ctx context.Context, st core.PendingLoginStore, state string, now time.Time) (bool, error) {
	g.loadMu.Lock()
	defer g.loadMu.Unlock()
	if g.states[state] {
		return true, nil
	}
	if g.states != nil && now.Sub(g.loadedAt) < statesMaxAge {
		return false, nil
	}
	list, err := st.PendingLoginStates(ctx, now)
	if err != nil {
		return false, err
	}
	g.states, g.loadedAt = make(map[string]bool, len(list)), now
	for _, s := range list {
		g.states[s] = true
	}
	return g.states[state], nil
}
