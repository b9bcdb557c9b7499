package serve

import (
	"context"
	"errors"

	"oidcctl/core"
	"oidcctl/core/tokens"
)

// tokenSource is what requester webservices and the token socket need of
// the token manager.
type tokenSource interface {
	// Token returns a valid token set of the account.
	Token(ctx context.Context, account string) (core.TokenSet, error)
	// RefreshUnless renews the account's tokens unless the token it hands
	// out is no longer the refused one: another call renewed it meanwhile.
	RefreshUnless(ctx context.Context, account, refused string) (core.TokenSet, error)
}

var _ tokenSource = (*tokens.Manager)(nil)

// noTokens stands in when serve runs without a token manager.
type noTokens struct{}

var errNoManager = errors.New("serve runs without a token manager")

func (noTokens) Token(context.Context, string) (core.TokenSet, error) {
	return core.TokenSet{}, errNoManager
}

func (noTokens) RefreshUnless(context.Context, string, string) (core.TokenSet, error) {
	return core.TokenSet{}, errNoManager
}
