package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	// NotRevocable names the tokens ("refresh_token", "access_token")
	// that the provider said it does not revoke (unsupported_token_type,
	// RFC 7009 §2.2.1): they were forgotten here and stay valid at the
	// provider until they expire.
	NotRevocable []string
	// AccessExpiry is when the forgotten access token expires; zero when
	// unknown or when there was none.
	AccessExpiry time.Time
	// Damaged is set when stored tokens could not be opened
	// (TokenState.Damaged): those were forgotten without being revoked.
	Damaged bool
}

// Revoke revokes an account's refresh token and then its access token at
// the provider (RFC 7009) and forgets them.
//
// The refresh token goes first: it is the one that lasts, and revoking it
// usually ends its access tokens too. Once it is revoked the tokens are
// forgotten here whatever happens to the access token, so the store never
// shows as valid what can no longer be refreshed. A provider that answers
// unsupported_token_type for a token (as those with JWT access tokens do
// for those) has done all it can: that token is forgotten and reported in
// NotRevocable. When the refresh token (or, without one, the access token)
// cannot be revoked for another reason, the tokens are kept and the error
// returned. When the refresh token was revoked but the access token could
// not be, the tokens are forgotten and the error says so.
func (m *Manager) Revoke(ctx context.Context, account string) (Revoked, error) {
	var out Revoked
	acc, err := m.store.Account(ctx, account)
	if err != nil {
		return out, err
	}
	st, err := m.store.TokenState(ctx, account)
	if err != nil {
		return out, err
	}
	p, err := m.store.Profile(ctx, acc.Profile)
	if err != nil {
		return out, err
	}
	d, err := m.docs.Get(ctx, p)
	if err != nil {
		return out, err
	}
	if st.Tokens.AccessToken.IsSet() {
		out.AccessExpiry = st.Tokens.Expiry
	}
	out.Damaged = st.Damaged != nil
	// gone: a token was revoked or found unrevocable, so what is stored
	// must be forgotten even if a later step fails.
	gone := false
	forget := func() error {
		if err := m.store.ClearTokens(context.WithoutCancel(ctx), account); err != nil {
			return fmt.Errorf("forget the tokens of %s: %w", account, err)
		}
		return nil
	}
	for _, t := range []struct {
		tok  core.Secret
		hint string
	}{{st.Tokens.RefreshToken, "refresh_token"}, {st.Tokens.AccessToken, "access_token"}} {
		if !t.tok.IsSet() {
			continue
		}
		err := m.grants.Revoke(ctx, p, d, t.tok, t.hint)
		switch {
		case err == nil:
			out.AtProvider++
			gone = true
			continue
		case errors.Is(err, grant.ErrUnsupported):
			out.Unsupported = true
		case errors.Is(err, grant.ErrUnsupportedTokenType):
			out.NotRevocable = append(out.NotRevocable, t.hint)
			m.log().Info("the provider does not revoke this kind of token; forgetting it here", "account", account, "token", t.hint)
			gone = true
			continue
		case gone:
			// The refresh token is revoked: keeping the access token would
			// show an account as valid that can no longer be refreshed.
			if ferr := forget(); ferr != nil {
				return out, errors.Join(fmt.Errorf("revoke the %s of %s: %w", t.hint, account, err), ferr)
			}
			return out, fmt.Errorf("the refresh token of %s was revoked and the tokens forgotten, but revoking the %s failed (it stays valid at the provider%s): %w",
				account, t.hint, until(out.AccessExpiry), err)
		default:
			return out, fmt.Errorf("revoke the %s of %s (the tokens are kept): %w", t.hint, account, err)
		}
		break // no revocation endpoint: nothing more to try
	}
	if err := forget(); err != nil {
		return out, err
	}
	return out, nil
}

// until says " until <t>" for a known time, "" otherwise.
func until(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.UTC().Format(time.RFC3339)
}

// Held reports whether st holds a token that the provider could still
// accept: what RemoveAccount revokes before it removes the account.
func Held(st core.TokenState) bool {
	return st.Tokens.AccessToken.IsSet() || st.Tokens.RefreshToken.IsSet()
}

// RemoveAccount removes an account, revoking its tokens at the provider
// first (as Revoke does) when it holds any and revoke is set: the one way
// `oidcctl account rm` and `oidcctl config import --prune` remove an
// account. When the tokens cannot be revoked the account is kept and the
// error says so; without revoke the tokens are only forgotten and stay
// valid at the provider until they expire. The Revoked is zero when
// nothing was revoked.
func (m *Manager) RemoveAccount(ctx context.Context, account string, revoke bool) (Revoked, error) {
	var out Revoked
	if revoke {
		st, err := m.store.TokenState(ctx, account)
		if err != nil {
			return out, fmt.Errorf("remove account %s: %w", account, err)
		}
		if Held(st) {
			if out, err = m.Revoke(ctx, account); err != nil {
				return out, fmt.Errorf("account %s is kept: %w", account, err)
			}
		}
	}
	if err := m.store.DeleteAccount(ctx, account); err != nil {
		return out, err
	}
	return out, nil
}
