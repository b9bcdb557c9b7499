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

// Config is what a Manager is built from. Store, Discovery and Grants
// are required; zero values of the others mean the defaults, which New
// sets.
type Config struct {
	Store     Store
	Discovery Documents
	Grants    Grants
	// Owner names this process in leases; "" means NewOwner().
	Owner string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
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
	// Margin: a token that expires within it counts as expired; zero
	// means DefaultMargin.
	Margin time.Duration
	// RetryBase and RetryLimit bound the back-off after failures: the
	// wait doubles from RetryBase up to RetryLimit, with jitter. Zero
	// means DefaultRetryBase, DefaultRetryLimit.
	RetryBase, RetryLimit time.Duration
	// Observe, when not nil, hears of every call to the provider that
	// obtains or refreshes an account's tokens, as it returns: before the
	// new tokens are stored or handed to anyone. serve counts them for
	// its metrics and has its debugger redact the new tokens. It must
	// not block.
	Observe func(Event)
	// Logger receives what the manager does; nil means slog.Default().
	Logger *slog.Logger
}

// Event is one call to the provider for an account's tokens.
type Event struct {
	Account string
	// Grant is "obtain" (the account's own grant) or "refresh" (its
	// refresh token).
	Grant string
	// Tokens are the new tokens; zero when Err is not nil.
	Tokens core.TokenSet
	Err    error
}

// Event grants.
const (
	GrantObtain  = "obtain"
	GrantRefresh = "refresh"
)

// Manager hands out tokens and renews them. Build it with New.
type Manager struct {
	store   Store
	docs    Documents
	grants  Grants
	owner   string
	clock   func() time.Time
	observe func(Event)
	logger  *slog.Logger
	// renewTimeout, leaseTTL (at least renewTimeout+leaseSlack), margin,
	// retryBase, retryLimit: Config's, with the defaults filled in.
	renewTimeout, leaseTTL, margin, retryBase, retryLimit time.Duration

	// locks serialize the renewals of one account within this process;
	// the lease in the store keeps processes apart but lets its owner in
	// again, so without them two goroutines could spend one refresh token.
	locksMu sync.Mutex
	locks   map[string]chan struct{}
}

// New returns a Manager for cfg, with the defaults of its zero fields.
// It changes nothing it is given.
func New(cfg Config) *Manager {
	m := &Manager{
		store:        cfg.Store,
		docs:         cfg.Discovery,
		grants:       cfg.Grants,
		owner:        cfg.Owner,
		clock:        cfg.Now,
		observe:      cfg.Observe,
		logger:       cfg.Logger,
		renewTimeout: orDefault(cfg.RenewTimeout, DefaultRenewTimeout),
		margin:       orDefault(cfg.Margin, DefaultMargin),
		retryBase:    orDefault(cfg.RetryBase, DefaultRetryBase),
		retryLimit:   orDefault(cfg.RetryLimit, DefaultRetryLimit),
		locks:        map[string]chan struct{}{},
	}
	m.leaseTTL = max(orDefault(cfg.LeaseTTL, DefaultLeaseTTL), m.renewTimeout+leaseSlack)
	if m.owner == "" {
		m.owner = NewOwner()
	}
	if m.clock == nil {
		m.clock = time.Now
	}
	if m.observe == nil {
		m.observe = func(Event) {}
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	return m
}

// Owner is the name of this process in leases.
func (m *Manager) Owner() string { return m.owner }

// lock waits until no other goroutine of this Manager renews the account.
func (m *Manager) lock(ctx context.Context, account string) (unlock func(), err error) {
	m.locksMu.Lock()
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

func (m *Manager) now() time.Time { return m.clock() }

func (m *Manager) log() *slog.Logger { return m.logger }

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
	acc, err := m.store.Account(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	st, err := m.store.TokenState(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	now := m.now()
	if st.Tokens.ValidFor(acc.TokenType, now, m.margin) {
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
	acc, err := m.store.Account(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	unlock, err := m.lock(ctx, account)
	if err != nil {
		return core.TokenSet{}, err
	}
	defer unlock()
	if refused != "" {
		st, err := m.store.TokenState(ctx, account)
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
	return m.renewLeased(ctx, acc, st, force)
}

// renewLeased is renew once the lease is taken and st read under it; it
// releases the lease in every case.
func (m *Manager) renewLeased(ctx context.Context, acc core.Account, st core.TokenState, force bool) (core.TokenSet, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.renewTimeout)
	defer cancel()
	released := false
	defer func() {
		if !released {
			// A panic or an early return must not hold the lease until
			// it expires.
			m.store.ReleaseLease(context.WithoutCancel(ctx), acc.Name, m.owner)
		}
	}()
	margin := m.margin
	if !force && st.Tokens.ValidFor(acc.TokenType, m.now(), margin) {
		return st.Tokens, nil // renewed by another process while we waited
	}
	set, err := m.obtain(ctx, acc, st)
	if errors.Is(err, core.ErrNeedsSecret) {
		// Not a failure of the provider: nothing was asked, so nothing
		// is recorded and no retry is held back; the state says it.
		return core.TokenSet{}, err
	}
	if err != nil {
		m.keepRotated(ctx, acc, st, err)
		released = true
		return core.TokenSet{}, m.fail(ctx, acc, st, err)
	}
	// Not even the deadline stops storing what the provider has issued.
	if err := m.store.SaveTokens(context.WithoutCancel(ctx), acc.Name, m.owner, set); err != nil {
		// The provider may have rotated the refresh token: this is the
		// one failure that can lose it. Say so loudly.
		m.log().Error("could not store new tokens; a rotated refresh token may be lost", "account", acc.Name, "err", err)
		return core.TokenSet{}, &storeError{fmt.Errorf("store tokens of %s: %w", acc.Name, err)}
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
	if serr := m.store.SaveTokens(context.WithoutCancel(ctx), acc.Name, m.owner, keep); serr != nil {
		m.log().Error("could not store a rotated refresh token; it may be lost", "account", acc.Name, "err", serr)
		return
	}
	m.log().Warn("the refresh failed after the provider rotated the refresh token; the new refresh token is kept", "account", acc.Name, "err", re.Err)
}

// lease takes the refresh lease of an account, waiting while another
// process holds it, and returns the state read under the lease.
func (m *Manager) lease(ctx context.Context, account string) (core.TokenState, error) {
	ttl := m.leaseTTL
	wait := 50 * time.Millisecond
	for {
		now := m.now()
		st, ok, err := m.store.AcquireLease(ctx, account, m.owner, now, now.Add(ttl))
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
	p, err := m.store.Profile(ctx, acc.Profile)
	if err != nil {
		return core.TokenSet{}, err
	}
	if fix := core.NeedsSecretFix(acc, p); fix != "" {
		return core.TokenSet{}, fmt.Errorf("%w: %s: %s", core.ErrNeedsSecret, acc.Name, fix)
	}
	d, err := m.docs.Get(ctx, p)
	if err != nil {
		return core.TokenSet{}, err
	}
	now := m.now()
	rt := st.Tokens.RefreshToken
	if rt.IsSet() && (st.Tokens.RefreshExpiry.IsZero() || now.Before(st.Tokens.RefreshExpiry)) {
		set, err := m.refresh(ctx, p, d, acc, rt)
		if err == nil || !grant.IsInvalidGrant(err) {
			return set, err
		}
		// The refresh token was refused. We hold the lease, so nobody
		// should have rotated it, unless our lease ran out: look again.
		again, rerr := m.store.TokenState(ctx, acc.Name)
		if rerr == nil && again.Tokens.RefreshToken.IsSet() && again.Tokens.RefreshToken.Reveal() != rt.Reveal() {
			m.log().Warn("refresh token was rotated by another process; using the new one", "account", acc.Name)
			return m.refresh(ctx, p, d, acc, again.Tokens.RefreshToken)
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
	set, err := m.grants.Obtain(ctx, p, d, acc)
	m.observe(Event{Account: acc.Name, Grant: GrantObtain, Tokens: set, Err: err})
	return set, err
}

// refresh renews the account's tokens with a refresh token.
func (m *Manager) refresh(ctx context.Context, p core.Profile, d *discovery.Document, acc core.Account, rt core.Secret) (core.TokenSet, error) {
	set, err := m.grants.Refresh(ctx, p, d, acc, rt)
	m.observe(Event{Account: acc.Name, Grant: GrantRefresh, Tokens: set, Err: err})
	return set, err
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
	rerr := m.store.RecordFailure(context.WithoutCancel(ctx), acc.Name, m.owner, f)
	if rerr != nil {
		m.log().Error("could not record a failure", "account", acc.Name, "err", rerr)
	}
	m.log().Warn("renewing tokens failed", "account", acc.Name, "failures", st.Failures+1, "next_attempt", f.NextAttempt, "err", err)
	err = fmt.Errorf("renew tokens of %s: %w", acc.Name, err)
	if rerr != nil {
		// No back-off was stored: the scheduler tries again soon.
		return &storeError{err}
	}
	return err
}

// storeError marks an error after which the store holds nothing of the
// attempt (no new tokens, no failure and its back-off): the database
// failed, not the provider. The scheduler tries such accounts again soon
// instead of at its next scheduled run.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// backoff returns the wait after the n-th failure in a row: doubling from
// RetryBase up to RetryLimit, with up to 20% jitter so that many accounts
// of one provider do not retry in step.
func (m *Manager) backoff(n int) time.Duration {
	base, limit := m.retryBase, m.retryLimit
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
