package core

import (
	"context"
	"time"
)

// TokenSet is the current tokens of one functional account, as the
// provider last answered.
type TokenSet struct {
	AccessToken  Secret
	TokenType    string // as the provider said, usually "Bearer"
	RefreshToken Secret
	IDToken      Secret
	// Expiry is when the access token expires: from expires_in, or the
	// JWT's exp when the provider gave no expires_in. Zero when unknown.
	Expiry time.Time
	// RefreshExpiry is when the refresh token expires, from
	// refresh_expires_in; zero when the provider did not say.
	RefreshExpiry time.Time
	Scope         string // granted scope, space-separated
	ObtainedAt    time.Time
}

// Token returns the token of the given type: the access token or the id
// token.
func (t TokenSet) Token(kind TokenType) Secret {
	if kind == TokenID {
		return t.IDToken
	}
	return t.AccessToken
}

// ValidFor reports whether the token of the given type is present and
// does not expire within margin of now.
func (t TokenSet) ValidFor(kind TokenType, now time.Time, margin time.Duration) bool {
	if !t.Token(kind).IsSet() {
		return false
	}
	return t.Expiry.IsZero() || now.Add(margin).Before(t.Expiry)
}

// TokenState is what the token store keeps for one account: its tokens and
// how getting them went.
type TokenState struct {
	Account   string
	Profile   string
	GrantType GrantType
	Tokens    TokenSet // zero when none were obtained yet
	// LastSuccess is when tokens were last obtained or refreshed.
	LastSuccess time.Time
	// LastError is the last failure, cleared by the next success.
	LastError   string
	LastErrorAt time.Time
	Failures    int       // failures since the last success
	NextAttempt time.Time // no automatic attempt before this; zero when none is held back
	// NeedsAuthorization is set when only a person can get new tokens: an
	// authorization_code account whose refresh token is gone or refused.
	NeedsAuthorization bool
	// LeaseOwner holds the right to refresh until LeaseUntil.
	LeaseOwner string
	LeaseUntil time.Time
	// Damaged, when not nil, says why stored tokens of the account could
	// not be opened (a damaged ciphertext, or one sealed with another key
	// or for another account). Those tokens are left unset in Tokens; the
	// ones that opened are there. Storing new tokens replaces the damaged
	// ones. One damaged account never hides the others.
	Damaged error
}

// Failure is a failed attempt to obtain or refresh tokens.
type Failure struct {
	Err                string
	At                 time.Time
	NextAttempt        time.Time
	NeedsAuthorization bool
}

// TokenStore keeps the token state of every account. A refresh is done by
// at most one process at a time: the one holding the account's lease.
type TokenStore interface {
	// TokenState returns the state of one account (zero tokens when none
	// were obtained yet); *NotFoundError when the account does not exist.
	// Stored tokens that cannot be opened are reported in Damaged, not as
	// an error.
	TokenState(ctx context.Context, account string) (TokenState, error)
	// TokenStates returns the state of every account, ordered by name; an
	// account whose tokens cannot be opened is in it with Damaged set.
	TokenStates(ctx context.Context) ([]TokenState, error)
	// EachTokenState calls fn with the state of every account, ordered by
	// name, as TokenStates gives them, but reading them as it goes rather
	// than all at once: a list of 100,000 accounts need not be held. An
	// error of fn stops it and is returned as it is.
	EachTokenState(ctx context.Context, fn func(TokenState) error) error
	// DueTokenStates returns, ordered by name, the state of every account
	// that a refresh run at now may have to renew because its tokens run
	// out before before: the accounts with neither an access nor a refresh
	// token stored, and those whose access or refresh token expires before
	// before; never those that need authorization or whose NextAttempt is
	// after now. It reads only those accounts (an index finds them), so
	// that a run that finds nothing due does not read every account.
	DueTokenStates(ctx context.Context, now, before time.Time) ([]TokenState, error)
	// NextTokenWake returns the earliest time after now and before before
	// of the NextAttempt of an account that failed (LastError set) and does
	// not need authorization, or of the LeaseUntil of a lease held by
	// another owner than owner; zero when there is none.
	NextTokenWake(ctx context.Context, owner string, now, before time.Time) (time.Time, error)
	// AcquireLease gives owner the refresh lease of an account until until,
	// unless another owner holds a lease that has not expired at now. It
	// returns the state read in the same transaction, and whether the lease
	// was taken.
	AcquireLease(ctx context.Context, account, owner string, now, until time.Time) (TokenState, bool, error)
	// SaveTokens stores a new token set, clears the error and releases
	// owner's lease, in one transaction, so that a rotated refresh token
	// is kept before the new access token is handed to anyone. A set
	// without a refresh token keeps the stored one, unless that one cannot
	// be opened: then it is dropped.
	SaveTokens(ctx context.Context, account, owner string, set TokenSet) error
	// RecordFailure keeps a failure and releases owner's lease. The stored
	// tokens stay as they are.
	RecordFailure(ctx context.Context, account, owner string, f Failure) error
	// ReleaseLease gives up owner's lease, if it still holds it.
	ReleaseLease(ctx context.Context, account, owner string) error
	// ClearTokens forgets the tokens of an account (after revoking them).
	ClearTokens(ctx context.Context, account string) error
}

// SettingStore keeps settings that every process on a database shares,
// such as the refresh schedule.
type SettingStore interface {
	// Setting returns a setting's value; ok is false when it is not set.
	Setting(ctx context.Context, key string) (value string, ok bool, err error)
	// SetSetting stores a setting; an empty value removes it.
	SetSetting(ctx context.Context, key, value string) error
}

// Token states, as Status says them.
const (
	StateNeedsAuthorization = "needs authorization"
	StateDamaged            = "damaged"
	StateFailing            = "failing"
	StateNone               = "none"
	StateExpired            = "expired"
	StateValid              = "valid"
)

// Status says in a word or two how an account's tokens stand at now: one
// of the State constants. The command line and the console both show it.
func (st TokenState) Status(now time.Time) string {
	switch {
	case st.NeedsAuthorization:
		return StateNeedsAuthorization
	case st.Damaged != nil:
		return StateDamaged
	case st.LastError != "":
		return StateFailing
	case !st.Tokens.AccessToken.IsSet():
		return StateNone
	case !st.Tokens.Expiry.IsZero() && !now.Before(st.Tokens.Expiry):
		return StateExpired
	}
	return StateValid
}
