package serve

import (
	"context"
	"errors"
	"sync"

	"oidcctl/core"
	"oidcctl/core/tokens"
)

// tokenSource is what requester webservices and the token socket need of
// the token manager.
type tokenSource interface {
	// Token returns a valid token set of the account.
	Token(ctx context.Context, account string) (core.TokenSet, error)
	// RefreshUnless renews the account's tokens unless the stored token
	// (of kind) is no longer refused, that is: another call renewed it
	// meanwhile.
	RefreshUnless(ctx context.Context, account string, kind core.TokenType, refused string) (core.TokenSet, error)
}

// serialTokens runs the token manager's calls for one account one at a
// time in this process. The manager's lease in the store keeps processes
// apart, but it is re-entrant for one owner, so that without this two
// requests of one serve could renew an account at once (and a rotating
// refresh token be used twice). The refresh scheduler runs with another
// owner, so the lease keeps it apart from requests.
type serialTokens struct {
	m     *tokens.Manager
	mu    sync.Mutex
	locks map[string]chan struct{}
}

func newSerialTokens(m *tokens.Manager) *serialTokens {
	return &serialTokens{m: m, locks: map[string]chan struct{}{}}
}

func (s *serialTokens) lock(ctx context.Context, account string) (func(), error) {
	s.mu.Lock()
	l, ok := s.locks[account]
	if !ok {
		l = make(chan struct{}, 1)
		s.locks[account] = l
	}
	s.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *serialTokens) Token(ctx context.Context, account string) (core.TokenSet, error) {
	unlock, err := s.lock(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	defer unlock()
	return s.m.Token(ctx, account)
}

func (s *serialTokens) RefreshUnless(ctx context.Context, account string, kind core.TokenType, refused string) (core.TokenSet, error) {
	unlock, err := s.lock(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	defer unlock()
	if set, err := s.m.Token(ctx, account); err == nil && set.Token(kind).IsSet() && set.Token(kind).Reveal() != refused {
		return set, nil // renewed by the call before us
	}
	return s.m.Refresh(ctx, account)
}

// noTokens stands in when serve runs without a token manager.
type noTokens struct{}

var errNoManager = errors.New("serve runs without a token manager")

func (noTokens) Token(context.Context, string) (core.TokenSet, error) {
	return core.TokenSet{}, errNoManager
}

func (noTokens) RefreshUnless(context.Context, string, core.TokenType, string) (core.TokenSet, error) {
	return core.TokenSet{}, errNoManager
}
