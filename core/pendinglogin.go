package core

import (
	"context"
	"time"
)

// PendingLoginTTL is how long a login through serve (an https redirect
// URI) waits for the browser's return: its state is refused after it.
const PendingLoginTTL = 10 * time.Minute

// LoginExchangeTimeout bounds serve's exchange of a login's code and the
// storing of its tokens. A login still LoginExchanging after its exchange
// deadline (PendingLogin.ExchangeDeadline) belongs to a serve that stopped
// during the exchange: it counts as failed (ErrExchangeStopped).
const LoginExchangeTimeout = time.Minute

// ReasonExchangeStopped is the Reason of a login whose serve stopped
// during the exchange of its code.
const ReasonExchangeStopped = "serve stopped during the exchange; start the login again"

// LoginStatus is where a pending login stands.
type LoginStatus string

// The states of a pending login. A login moves from LoginPending to
// LoginExchanging exactly once (the first return of the browser with its
// state takes it), then to LoginDone or LoginFailed; a login that is
// abandoned or expires goes from LoginPending to LoginFailed.
const (
	LoginPending    LoginStatus = "pending"
	LoginExchanging LoginStatus = "exchanging"
	LoginDone       LoginStatus = "done"
	LoginFailed     LoginStatus = "failed"
)

// Finished reports whether the login has ended, well or not.
func (s LoginStatus) Finished() bool { return s == LoginDone || s == LoginFailed }

// PendingLogin is an authorization code login whose browser returns to
// `oidcctl serve` (an https redirect URI) rather than to the process that
// started it: the authorization request's state, PKCE verifier and nonce,
// kept in the store so that any serve on the database can complete it,
// and its outcome, which the process that started it waits for.
type PendingLogin struct {
	// State is the state sent, the login's key.
	State string
	// Account is the functional account that logs in.
	Account string
	// RedirectURI is the redirect_uri sent.
	RedirectURI string
	// Verifier is the PKCE code_verifier (RFC 7636); sealed at rest.
	Verifier Secret
	// Nonce is the nonce sent, "" when none was.
	Nonce string
	// Scopes are the scopes requested.
	Scopes []string
	// CreatedAt and ExpiresAt bound the login; after ExpiresAt the state
	// is refused.
	CreatedAt time.Time
	ExpiresAt time.Time
	// Status is where the login stands; Reason says why it failed.
	Status LoginStatus
	Reason string
	// FinishedAt is when it ended (zero while it has not). While the
	// login is LoginExchanging it holds the exchange's deadline instead:
	// the time by which serve has finished or stopped the exchange.
	FinishedAt time.Time
}

// ExchangeDeadline is the time by which serve ends the exchange of a
// LoginExchanging login: the deadline serve recorded when it took the
// login, or, when none was recorded (a serve of an older version), the
// latest deadline any exchange can have, since no browser's return is
// taken after ExpiresAt.
func (l PendingLogin) ExchangeDeadline() time.Time {
	if !l.FinishedAt.IsZero() {
		return l.FinishedAt
	}
	return l.ExpiresAt.Add(LoginExchangeTimeout)
}

// ExchangeStopped reports whether l is LoginExchanging past its exchange
// deadline at now: the serve that took it stopped during the exchange,
// and the login will not end on its own.
func (l PendingLogin) ExchangeStopped(now time.Time) bool {
	return l.Status == LoginExchanging && now.After(l.ExchangeDeadline())
}

// PendingLoginStore keeps pending logins. Removing an account removes its
// logins.
type PendingLoginStore interface {
	// CreatePendingLogin stores a new login; *ExistsError (Kind "login")
	// when its state is taken, *NotFoundError (Kind "account") when its
	// account does not exist.
	CreatePendingLogin(ctx context.Context, l PendingLogin) error
	// PendingLogin returns one login; *NotFoundError (Kind "login") when
	// there is none with that state.
	PendingLogin(ctx context.Context, state string) (PendingLogin, error)
	// UpdatePendingLogin reads a login, lets fn change it and writes its
	// Status, Reason and FinishedAt back, all in one transaction (so that
	// of two processes that move a login out of LoginPending, one sees
	// the other's change). When fn returns an error nothing is written
	// and that error is returned.
	UpdatePendingLogin(ctx context.Context, state string, fn func(*PendingLogin) error) (PendingLogin, error)
	// PendingLoginStates returns the states of the logins that have not
	// expired at at, whatever their status: what serve checks a browser's
	// state against, in one read, while a flood of unknown states comes.
	PendingLoginStates(ctx context.Context, at time.Time) ([]string, error)
	// DeletePendingLogins removes the logins that expired before before,
	// and returns how many.
	DeletePendingLogins(ctx context.Context, before time.Time) (int, error)
}
