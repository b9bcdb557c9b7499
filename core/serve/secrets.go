package serve

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"oidcctl/core"
	"oidcctl/core/serve/debuglog"
	"oidcctl/core/tokens"
)

// maxRetiredSecrets bounds how many replaced secrets the debugger still
// redacts: a refreshed access token stays valid until it expires, and a
// call may still carry it.
const maxRetiredSecrets = 256

// secretBook keeps the set of secrets this server holds, which the
// debugger takes out of every entry by value: the client secrets and TLS
// key passwords of the profiles, the passwords of the accounts, and the
// access, refresh and id tokens of the accounts. It is brought up to date
// when the configuration is reloaded, when this process obtains or
// refreshes tokens (before anybody can use them), when it hands tokens
// out, and every ReloadInterval from the token store, where another
// process may have refreshed them. Values that are replaced stay in the
// set for a while (the last maxRetiredSecrets of them).
type secretBook struct {
	mu      sync.Mutex
	config  []string            // of profiles and accounts
	tokens  map[string][]string // by account
	retired []string            // oldest first
	set     atomic.Pointer[debuglog.Secrets]
}

// Secrets returns the current set; it is what the recorder asks.
func (b *secretBook) Secrets() *debuglog.Secrets { return b.set.Load() }

// setConfig takes the secrets of the profiles and accounts.
func (b *secretBook) setConfig(profiles map[string]core.Profile, accounts map[string]core.Account) {
	var vs []string
	for _, p := range profiles {
		vs = append(vs, p.ClientSecret.Reveal(), p.TLS.ClientKeyPassword.Reveal())
	}
	for _, a := range accounts {
		vs = append(vs, a.Password.Reveal())
	}
	vs = normalize(vs)
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Equal(vs, b.config) {
		return
	}
	b.retire(b.config, vs)
	b.config = vs
	b.rebuild()
}

// setTokens takes the tokens of one account.
func (b *secretBook) setTokens(account string, set core.TokenSet) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.setTokensLocked(account, set) {
		b.rebuild()
	}
}

// setTokensLocked sets the tokens of one account and reports whether
// they changed; b.mu is held.
func (b *secretBook) setTokensLocked(account string, set core.TokenSet) bool {
	vs := normalize([]string{set.AccessToken.Reveal(), set.RefreshToken.Reveal(), set.IDToken.Reveal()})
	old := b.tokens[account]
	if slices.Equal(vs, old) {
		return false
	}
	if b.tokens == nil {
		b.tokens = make(map[string][]string)
	}
	b.retire(old, vs)
	b.tokens[account] = vs
	return true
}

// addTokens takes new tokens of an account without dropping those it
// holds: the new ones are not stored yet, and may never be. The next
// setTokens retires what is no longer current.
func (b *secretBook) addTokens(account string, set core.TokenSet) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.tokens[account]
	vs := normalize(append(slices.Clone(old), set.AccessToken.Reveal(), set.RefreshToken.Reveal(), set.IDToken.Reveal()))
	if slices.Equal(vs, old) {
		return
	}
	if b.tokens == nil {
		b.tokens = make(map[string][]string)
	}
	b.tokens[account] = vs
	b.rebuild()
}

// setAllTokens takes the tokens of every account from the token store;
// the tokens of accounts that are gone are retired.
func (b *secretBook) setAllTokens(states []core.TokenState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	changed := false
	seen := make(map[string]bool, len(states))
	for _, st := range states {
		seen[st.Account] = true
		changed = b.setTokensLocked(st.Account, st.Tokens) || changed
	}
	for account, old := range b.tokens {
		if !seen[account] {
			b.retire(old, nil)
			delete(b.tokens, account)
			changed = true
		}
	}
	if changed {
		b.rebuild()
	}
}

// retire keeps the values of old that are not in current; b.mu is held.
func (b *secretBook) retire(old, current []string) {
	for _, v := range old {
		if !slices.Contains(current, v) && !slices.Contains(b.retired, v) {
			b.retired = append(b.retired, v)
		}
	}
	if n := len(b.retired) - maxRetiredSecrets; n > 0 {
		b.retired = slices.Delete(b.retired, 0, n)
	}
}

// rebuild makes the set anew; b.mu is held.
func (b *secretBook) rebuild() {
	vs := slices.Clone(b.config)
	for _, t := range b.tokens {
		vs = append(vs, t...)
	}
	vs = append(vs, b.retired...)
	b.set.Store(debuglog.NewSecrets(vs...))
}

// normalize sorts vs and drops empty and repeated values.
func normalize(vs []string) []string {
	vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
	slices.Sort(vs)
	return slices.Compact(vs)
}

// loadTokenSecrets reads the tokens of every account into the book.
func (s *Server) loadTokenSecrets(ctx context.Context) error {
	states, err := s.store.TokenStates(ctx)
	if err != nil {
		return err
	}
	s.secrets.setAllTokens(states)
	return nil
}

// pollTokenSecrets reads the token store every ReloadInterval: the
// console or another server may have refreshed tokens.
func (s *Server) pollTokenSecrets(ctx context.Context) {
	tick := time.NewTicker(orDefault(s.cfg.ReloadInterval, DefaultReloadInterval))
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := s.loadTokenSecrets(ctx)
		if err != nil && !failing && ctx.Err() == nil {
			s.log.Warn("debugger: cannot read the token store; tokens refreshed elsewhere may not be redacted", "err", err)
		}
		failing = err != nil
	}
}

// TokenWatch hears of the tokens the token manager obtains and
// refreshes: it counts the calls for /metrics
// (oidcctl_token_refreshes_total) and puts the new tokens in the
// debugger's secrets before the manager stores or hands them out. Build
// one per Server with NewTokenWatch, give its Observe to the manager
// (tokens.Config.Observe) and the watch to Config.TokenWatch.
type TokenWatch struct {
	book      secretBook
	refreshes *prometheus.CounterVec
}

// NewTokenWatch returns a watch that has seen nothing yet.
func NewTokenWatch() *TokenWatch {
	return &TokenWatch{refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oidcctl_token_refreshes_total",
		Help: "Tokens obtained or refreshed at the provider for functional accounts, by account, grant (refresh or obtain) and result (success or failure).",
	}, []string{"account", "grant", "result"})}
}

// Observe is the token manager's tokens.Config.Observe.
func (w *TokenWatch) Observe(e tokens.Event) {
	w.refreshes.WithLabelValues(e.Account, e.Grant, result(e.Err)).Inc()
	if e.Err == nil {
		w.book.addTokens(e.Account, e.Tokens)
	}
}

func result(err error) string {
	if err != nil {
		return "failure"
	}
	return "success"
}

// secretTokens puts the tokens handed out to requester webservices and
// the token socket in the book: another process may have refreshed them
// since the book last read the store.
type secretTokens struct {
	tokenSource
	book *secretBook
}

func (t secretTokens) Token(ctx context.Context, account string) (core.TokenSet, error) {
	set, err := t.tokenSource.Token(ctx, account)
	if err == nil {
		t.book.setTokens(account, set)
	}
	return set, err
}

func (t secretTokens) RefreshUnless(ctx context.Context, account, refused string) (core.TokenSet, error) {
	set, err := t.tokenSource.RefreshUnless(ctx, account, refused)
	if err == nil {
		t.book.setTokens(account, set)
	}
	return set, err
}
