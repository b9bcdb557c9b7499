package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"oidcctl/core"
	"oidcctl/core/grant"
)

// DefaultPollInterval is how often a login through serve reads its
// pending login by default.
const DefaultPollInterval = time.Second

// keepFinished is how long pending logins are kept after they expire, so
// that serve can still tell a browser that its login expired or was used,
// rather than that it knows no such login.
const keepFinished = 24 * time.Hour

// ServeStore is what a login through serve needs of the store beside
// Store: the pending logins, and the token state that serve writes.
// core.Store has it; Run asks for it with a type assertion.
type ServeStore interface {
	core.PendingLoginStore
	TokenState(ctx context.Context, account string) (core.TokenState, error)
}

// ServeError is the failure that serve recorded for a login it completed
// (the provider's error=… redirect, a refused exchange, an expired
// state), or that the login was abandoned.
type ServeError struct {
	Reason string
}

func (e *ServeError) Error() string { return "the login failed at serve: " + e.Reason }

// serve runs a login whose redirect URI `oidcctl serve` answers: it
// stores the authorization request as a pending login, shows the URL (and
// opens a local browser where method allows one), and reads the pending
// login every PollInterval until serve has completed it; serve stores the
// tokens. When ctx ends first (ctrl+c, the timeout) the login is marked
// failed, so that serve refuses a browser that returns later.
func (l attempt) serve(ctx context.Context, method grant.Method) (core.TokenSet, error) {
	st, ok := l.Store.(ServeStore)
	if !ok {
		return core.TokenSet{}, errors.New("this store cannot keep pending logins, which a login through serve needs")
	}
	redirect := core.RedirectURIFor(l.p, l.acc)
	now := l.now()
	// Old logins go first; a failure to remove them stops nothing.
	_, _ = st.DeletePendingLogins(ctx, now.Add(-keepFinished))
	f, err := l.Grants.StartAuthCode(l.p, l.doc, l.acc, redirect)
	if err != nil {
		return core.TokenSet{}, err
	}
	pl := f.Pending()
	pl.CreatedAt, pl.ExpiresAt = now, now.Add(core.PendingLoginTTL)
	if err := st.CreatePendingLogin(ctx, pl); err != nil {
		return core.TokenSet{}, fmt.Errorf("storing the pending login: %w", err)
	}
	deadline := l.deadline
	if pl.ExpiresAt.Before(deadline) {
		deadline = pl.ExpiresAt
	}
	l.ev.send(ShowURL{Method: grant.MethodServe, URL: f.URL, RedirectURI: redirect})
	l.ev.send(Waiting{Method: grant.MethodServe, Deadline: deadline})
	open := method == grant.MethodBrowser || (method == grant.MethodAuto && grant.HasLocalBrowser(l.getenv))
	if open && l.OpenBrowser != nil {
		if err := l.OpenBrowser(f.URL); err != nil {
			l.ev.send(BrowserFailed{Err: err})
		}
	}

	interval := l.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return core.TokenSet{}, l.abandon(ctx, st, pl.State)
		case <-tick.C:
		}
		cur, err := st.PendingLogin(ctx, pl.State)
		if err != nil {
			if ctx.Err() != nil {
				return core.TokenSet{}, l.abandon(ctx, st, pl.State)
			}
			return core.TokenSet{}, fmt.Errorf("reading the pending login: %w", err)
		}
		switch cur.Status {
		case core.LoginDone:
			ts, err := st.TokenState(ctx, l.acc.Name)
			if err != nil {
				return core.TokenSet{}, fmt.Errorf("serve stored the tokens, but reading them failed: %w", err)
			}
			return ts.Tokens, nil
		case core.LoginFailed:
			return core.TokenSet{}, &ServeError{Reason: cur.Reason}
		case core.LoginExchanging:
			if cur.ExchangeStopped(l.now()) {
				return l.exchangeStopped(ctx, st, pl.State)
			}
		}
	}
}

// exchangeStopped marks a login whose serve stopped during the exchange
// as failed, so that every process reading it sees why, and returns that
// failure. Should serve have ended the exchange meanwhile, its outcome
// stands and is returned.
func (l attempt) exchangeStopped(ctx context.Context, st ServeStore, state string) (core.TokenSet, error) {
	now := l.now()
	cur, err := st.UpdatePendingLogin(ctx, state, func(pl *core.PendingLogin) error {
		if pl.ExchangeStopped(now) {
			pl.Status, pl.Reason, pl.FinishedAt = core.LoginFailed, core.ReasonExchangeStopped, now
		}
		return nil
	})
	switch {
	case err != nil:
		// Not recorded; the login failed all the same.
		return core.TokenSet{}, &ServeError{Reason: core.ReasonExchangeStopped}
	case cur.Status == core.LoginDone:
		ts, err := st.TokenState(ctx, l.acc.Name)
		if err != nil {
			return core.TokenSet{}, fmt.Errorf("serve stored the tokens, but reading them failed: %w", err)
		}
		return ts.Tokens, nil
	case cur.Status == core.LoginFailed:
		return core.TokenSet{}, &ServeError{Reason: cur.Reason}
	}
	return core.TokenSet{}, &ServeError{Reason: core.ReasonExchangeStopped}
}

// abandon marks a login that is still pending as failed, because the
// process waiting for it stops, and says why it stopped. A login that
// serve is completing at that moment is left to it: the tokens are stored
// all the same.
func (l attempt) abandon(ctx context.Context, st ServeStore, state string) error {
	cause := context.Cause(ctx)
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = st.UpdatePendingLogin(bg, state, func(pl *core.PendingLogin) error {
		if pl.Status == core.LoginPending {
			pl.Status, pl.Reason, pl.FinishedAt = core.LoginFailed, "abandoned by the command that started it: "+cause.Error(), l.now()
		}
		return nil
	})
	return fmt.Errorf("waiting for the login to return to serve at %s: %w", core.RedirectURIFor(l.p, l.acc), cause)
}
