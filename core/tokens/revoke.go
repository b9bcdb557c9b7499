package tokens

import (
	"context"
	"errors"
	"fmt"

	"oidcctl/core"
	"oidcctl/core/grant"
)

// Revoked says what Revoke did.
type Revoked struct {
	// AtProvider counts the tokens revoked at the provider.
	AtProvider int
	// Unsupported is set when the provider offers no revocation
	// (RFC 7009): the tokens were only forgotten here.
	Unsupported bool
}

// Revoke revokes an account's refresh token and access token at the
// provider (RFC 7009) and then forgets them. When the provider refuses a
// revocation, the tokens are kept and the error returned.
func (m *Manager) Revoke(ctx context.Context, account string) (Revoked, error) {
	var out Revoked
	acc, err := m.Store.Account(ctx, account)
	if err != nil {
		return out, err
	}
	st, err := m.Store.TokenState(ctx, account)
	if err != nil {
		return out, err
	}
	p, err := m.Store.Profile(ctx, acc.Profile)
	if err != nil {
		return out, err
	}
	d, err := m.Discovery.Get(ctx, p)
	if err != nil {
		return out, err
	}
	for _, t := range []struct {
		tok  core.Secret
		hint string
	}{{st.Tokens.RefreshToken, "refresh_token"}, {st.Tokens.AccessToken, "access_token"}} {
		if !t.tok.IsSet() {
			continue
		}
		err := m.Grants.Revoke(ctx, p, d, t.tok, t.hint)
		if errors.Is(err, grant.ErrUnsupported) {
			out.Unsupported = true
			break
		}
		if err != nil {
			return out, fmt.Errorf("revoke the %s of %s (the tokens are kept): %w", t.hint, account, err)
		}
		out.AtProvider++
	}
	if err := m.Store.ClearTokens(ctx, account); err != nil {
		return out, err
	}
	return out, nil
}
