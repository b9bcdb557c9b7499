// Package tokens keeps the token store of the functional accounts filled:
// it hands out valid tokens, obtaining or refreshing them first when
// needed, and renews what is due on a schedule. A refresh is done by one
// process at a time, under a lease in the store, and a rotated refresh
// token is stored before the new access token is handed to anyone.
package tokens

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
)

// Store is what the manager needs of the database.
type Store interface {
	core.ProfileStore
	core.AccountStore
	core.TokenStore
}

// Grants obtains, refreshes and revokes tokens at the provider;
// *grant.Client is the real one.
type Grants interface {
	Obtain(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account) (core.TokenSet, error)
	Refresh(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account, refreshToken core.Secret) (core.TokenSet, error)
	Revoke(ctx context.Context, p core.Profile, d *discovery.Document, token core.Secret, hint string) error
}

// Documents gives a profile's discovery document; *discovery.Client is
// the real one.
type Documents interface {
	Get(ctx context.Context, p core.Profile) (*discovery.Document, error)
}

// Defaults of a Manager.
const (
	// DefaultRenewTimeout is the deadline of one renewal at the provider.
	// It is long on purpose: a refresh abandoned while the provider
	// rotates the refresh token loses the account.
	DefaultRenewTimeout = 5 * time.Minute
	// DefaultLeaseTTL outlives DefaultRenewTimeout by leaseSlack.
	DefaultLeaseTTL   = DefaultRenewTimeout + leaseSlack
	DefaultMargin     = time.Minute
	DefaultRetryBase  = 30 * time.Second
	DefaultRetryLimit = time.Hour
)

// leaseSlack is how much longer than the renewal's deadline a lease lasts
// at least: time to store the result after the provider answered.
const leaseSlack = time.Minute

// ErrNeedsAuthorization is wrapped by errors for accounts that only a
// person can give new tokens: run `oidcctl account authorize`.
var ErrNeedsAuthorization = errors.New("needs authorization")

// Manager hands out tokens and renews them.
type Manager struct {
	Store     Store
	Discovery Documents
	Grants    Grants
	// Owner names this process in leases; NewOwner makes one.
	Owner string
	Now   func() time.Time
	// RenewTimeout is the deadline of one renewal once the lease is
	// taken: the request to the provider and storing its answer. The
	// renewal is detached from the caller's context: a caller that goes
	// away (ctrl-c, an HTTP request that ends) does not abandon a refresh
	// whose rotated refresh token the provider may already have issued;
	// the caller waits for it instead. Zero means DefaultRenewTimeout.
	RenewTimeout time.Duration
	// LeaseTTL bounds how long a killed process can block a refresh. It
	// is raised to RenewTimeout plus a minute when shorter, so that no
	// other process takes the lease while a renewal may still be under
	// way. Zero means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Margin: a token that expires within it counts as expired.
	Margin time.Duration
	// RetryBase and RetryLimit bound the back-off after failures: the
	// wait doubles from RetryBase up to RetryLimit, with jitter.
	RetryBase, RetryLimit time.Duration
	Logger                *slog.Logger

	// locks serialize the renewals of one account within this process;
	// the lease in the store keeps processes apart but lets its owner in
	// again, so without them two goroutines could spend one refresh token.
	locksMu sync.Mutex
	locks   map[string]chan struct{}
}

// lock waits until no other goroutine of this Manager renews the account.
func (m *Manager) lock(ctx context.Context, account string) (unlock func(), err error) {
	m.locksMu.Lock()
	if m.locks == nil {
		m.locks = map[string]chan struct{}{}
	}
	l, ok := m.locks[account]
	if !ok {
		l = make(chan struct{}, 1)
		m.locks[account] = l
	}
	m.locksMu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to renew %s: %w", account, ctx.Err())
	}
}

// NewOwner returns a lease owner name unique to this process: host, pid
// and a random part.
func NewOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	crand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

// renewTimeout is the deadline of one renewal.
func (m *Manager) renewTimeout() time.Duration {
	return orDefault(m.RenewTimeout, DefaultRenewTimeout)
}

// leaseTTL is how long a lease lasts: LeaseTTL, but at least the renewal's
// deadline plus leaseSlack.
func (m *Manager) leaseTTL() time.Duration {
	return max(orDefault(m.LeaseTTL, DefaultLeaseTTL), m.renewTimeout()+leaseSlack)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Token returns a valid token set for an account, obtaining or refreshing
// it first when the stored one is missing or expires within the margin.
// When renewing fails, a stored token that has not yet expired is still
// returned (and the failure recorded).
func (m *Manager) Token(ctx context.Context, account string) (core.TokenSet, error) {
	acc, err := m.Store.Account(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	st, err := m.Store.TokenState(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	now := m.now()
	if st.Tokens.ValidFor(acc.TokenType, now, orDefault(m.Margin, DefaultMargin)) {
		return st.Tokens, nil
	}
	unlock, err := m.lock(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	defer unlock()
	set, err := m.renew(ctx, acc, false)
	if err == nil {
		return set, nil
	}
	if st.Tokens.ValidFor(acc.TokenType, m.now(), 0) {
		m.log().Warn("renewing failed; handing out the current token until it expires",
			"account", account, "expires", st.Tokens.Expiry, "err", err)
		return st.Tokens, nil
	}
	return core.TokenSet{}, err
}

// Refresh renews an account's tokens now, whether due or not.
func (m *Manager) Refresh(ctx context.Context, account string) (core.TokenSet, error) {
	return m.RefreshUnless(ctx, account, "")
}

// RefreshUnless renews an account's tokens now, unless the token it hands
// out is no longer refused: a caller whose token an API refused (401)
// passes that token, and when another caller renewed it meanwhile, the
// new one is returned without a second refresh. An empty refused always
// renews.
func (m *Manager) RefreshUnless(ctx context.Context, account, refused string) (core.TokenSet, error) {
	acc, err := m.Store.Account(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	unlock, err := m.lock(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	defer unlock()
	if refused != "" {
		st, err := m.Store.TokenState(ctx, account)
		if err != nil {
			return core.TokenSet{}, err
		}
		if tok := st.Tokens.Token(acc.TokenType); tok.IsSet() && tok.Reveal() != refused && st.Tokens.ValidFor(acc.TokenType, m.now(), 0) {
			return st.Tokens, nil
		}
	}
	return m.renew(ctx, acc, true)
}

// renew takes the account's lease and renews its tokens; the caller holds
// the account's lock. Without force it first checks whether another
// process renewed them a moment ago.
//
// ctx bounds only the wait for the lease. Once it is taken, the renewal
// runs under a context of its own, detached from ctx with the deadline
// RenewTimeout, and renew waits for it: a refresh cut short after the
// provider rotated the refresh token would leave the account with a spent
// one (and a provider with reuse detection revokes the whole grant).
func (m *Manager) renew(ctx context.Context, acc core.Account, force bool) (core.TokenSet, error) {
	st, err := m.lease(ctx, acc.Name)
	if err != nil {
		return core.TokenSet{}, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.renewTimeout())
	defer cancel()
	released := false
	defer func() {
		if !released {
			// A panic or an early return must not hold the lease until
			// it expires.
			m.Store.ReleaseLease(context.WithoutCancel(ctx), acc.Name, m.Owner)
		}
	}()
	margin := orDefault(m.Margin, DefaultMargin)
	if !force && st.Tokens.ValidFor(acc.TokenType, m.now(), margin) {
		return st.Tokens, nil // renewed by another process while we waited
	}
	set, err := m.obtain(ctx, acc, st)
	if err != nil {
		m.keepRotated(ctx, acc, st, err)
		released = true
		return core.TokenSet{}, m.fail(ctx, acc, st, err)
	}
	// Not even the deadline stops storing what the provider has issued.
	if err := m.Store.SaveTokens(context.WithoutCancel(ctx), acc.Name, m.Owner, set); err != nil {
		// The provider may have rotated the refresh token: this is the
		// one failure that can lose it. Say so loudly.
		m.log().Error("could not store new tokens; a rotated refresh token may be lost", "account", acc.Name, "err", err)
		return core.TokenSet{}, fmt.Errorf("store tokens of %s: %w", acc.Name, err)
	}
	released = true
	m.log().Info("tokens renewed", "account", acc.Name, "expires", set.Expiry)
	return set, nil
}

// keepRotated stores the new refresh token of a refresh that failed after
// the provider rotated it (*grant.RotatedError), with the tokens held
// before, so that the next refresh sends the one that works.
func (m *Manager) keepRotated(ctx context.Context, acc core.Account, st core.TokenState, err error) {
	var re *grant.RotatedError
	if !errors.As(err, &re) || !re.RefreshToken.IsSet() {
		return
	}
	keep := st.Tokens
	keep.RefreshToken, keep.RefreshExpiry = re.RefreshToken, re.RefreshExpiry
	if serr := m.Store.SaveTokens(context.WithoutCancel(ctx), acc.Name, m.Owner, keep); serr != nil {
		m.log().Error("could not store a rotated refresh token; it may be lost", "account", acc.Name, "err", serr)
		return
	}
	m.log().Warn("the refresh failed after the provider rotated the refresh token; the new refresh token is kept", "account", acc.Name, "err", re.Err)
}

// lease takes the refresh lease of an account, waiting while another
// process holds it, and returns the state read under the lease.
func (m *Manager) lease(ctx context.Context, account string) (core.TokenState, error) {
	ttl := m.leaseTTL()
	wait := 50 * time.Millisecond
	for {
		now := m.now()
		st, ok, err := m.Store.AcquireLease(ctx, account, m.Owner, now, now.Add(ttl))
		if err != nil {
			return st, fmt.Errorf("lease %s: %w", account, err)
		}
		if ok {
			return st, nil
		}
		m.log().Debug("another process is renewing", "account", account, "owner", st.LeaseOwner, "until", st.LeaseUntil)
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("wait for %s to finish renewing %s: %w", st.LeaseOwner, account, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
	}
}

// obtain gets new tokens: by refresh token when there is one, else by the
// account's grant where no person is needed.
func (m *Manager) obtain(ctx context.Context, acc core.Account, st core.TokenState) (core.TokenSet, error) {
	p, err := m.Store.Profile(ctx, acc.Profile)
	if err != nil {
		return core.TokenSet{}, err
	}
	d, err := m.Discovery.Get(ctx, p)
	if err != nil {
		return core.TokenSet{}, err
	}
	now := m.now()
	rt := st.Tokens.RefreshToken
	if rt.IsSet() && (st.Tokens.RefreshExpiry.IsZero() || now.Before(st.Tokens.RefreshExpiry)) {
		set, err := m.Grants.Refresh(ctx, p, d, acc, rt)
		if err == nil || !grant.IsInvalidGrant(err) {
			return set, err
		}
		// The refresh token was refused. We hold the lease, so nobody
		// should have rotated it, unless our lease ran out: look again.
		again, rerr := m.Store.TokenState(ctx, acc.Name)
		if rerr == nil && again.Tokens.RefreshToken.IsSet() && again.Tokens.RefreshToken.Reveal() != rt.Reveal() {
			m.log().Warn("refresh token was rotated by another process; using the new one", "account", acc.Name)
			return m.Grants.Refresh(ctx, p, d, acc, again.Tokens.RefreshToken)
		}
		if !canObtain(acc) {
			return core.TokenSet{}, fmt.Errorf("%w: the provider refused the refresh token of %s (%v); run: oidcctl account authorize %s",
				ErrNeedsAuthorization, acc.Name, err, acc.Name)
		}
		m.log().Info("refresh token refused; obtaining new tokens", "account", acc.Name, "err", err)
	} else if !canObtain(acc) {
		why := "has no refresh token"
		switch {
		case rt.IsSet():
			why = "has a refresh token that expired at " + st.Tokens.RefreshExpiry.Format(time.RFC3339)
		case st.Damaged != nil:
			why = fmt.Sprintf("has stored tokens that cannot be opened (%v)", st.Damaged)
		}
		return core.TokenSet{}, fmt.Errorf("%w: %s %s; run: oidcctl account authorize %s", ErrNeedsAuthorization, acc.Name, why, acc.Name)
	}
	if st.Damaged != nil {
		m.log().Warn("stored tokens cannot be opened; obtaining new ones", "account", acc.Name, "err", st.Damaged)
	}
	return m.Grants.Obtain(ctx, p, d, acc)
}

// canObtain reports whether new tokens can be had without a person.
func canObtain(acc core.Account) bool {
	return acc.GrantType == core.GrantClientCredentials || acc.GrantType == core.GrantPassword
}

// fail records a failure, releasing the lease, and returns err.
func (m *Manager) fail(ctx context.Context, acc core.Account, st core.TokenState, err error) error {
	now := m.now()
	f := core.Failure{
		Err:                err.Error(),
		At:                 now,
		NeedsAuthorization: errors.Is(err, ErrNeedsAuthorization),
		NextAttempt:        now.Add(m.backoff(st.Failures + 1)),
	}
	if rerr := m.Store.RecordFailure(context.WithoutCancel(ctx), acc.Name, m.Owner, f); rerr != nil {
		m.log().Error("could not record a failure", "account", acc.Name, "err", rerr)
	}
	m.log().Warn("renewing tokens failed", "account", acc.Name, "failures", st.Failures+1, "next_attempt", f.NextAttempt, "err", err)
	return fmt.Errorf("renew tokens of %s: %w", acc.Name, err)
}

// backoff returns the wait after the n-th failure in a row: doubling from
// RetryBase up to RetryLimit, with up to 20% jitter so that many accounts
// of one provider do not retry in step.
func (m *Manager) backoff(n int) time.Duration {
	base, limit := orDefault(m.RetryBase, DefaultRetryBase), orDefault(m.RetryLimit, DefaultRetryLimit)
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
