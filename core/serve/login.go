package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"oidcctl/core"
	"oidcctl/core/grant"
)

// Logins through serve. An account (or its profile) whose redirect URI is
// an https one has its browser login completed here: `oidcctl account
// authorize` stores the authorization request as a core.PendingLogin and
// waits; the provider sends the browser to that URI, which a reverse
// proxy terminating TLS hands to serve as plain http; serve finds the
// login by its state, takes it (once: a second return with the same state
// is refused), exchanges the code (state, PKCE and nonce checked by
// grant.AuthCodeFlow), stores the tokens and records the outcome for the
// waiting command, and answers the browser with a short page.

// errLoginTaken says that a pending login is no longer pending.
var errLoginTaken = errors.New("login already taken")

// isLoginPath reports whether path is the path of an https redirect URI
// of an account or a profile of t.
func isLoginPath(t *routeTable, path string) bool {
	match := func(uri string) bool {
		if !core.IsServeRedirect(uri) {
			return false
		}
		u, err := url.Parse(uri)
		return err == nil && u.Path == path
	}
	for _, a := range t.accounts {
		if match(a.RedirectURI) {
			return true
		}
	}
	for _, p := range t.profiles {
		if match(p.RedirectURI) {
			return true
		}
	}
	return false
}

// loginCallback answers the browser's return of a login through serve.
func (s *Server) loginCallback(c *call) error {
	w, r := c.w, c.r
	page := func(status int, outcome, title, text string) error {
		c.outcome = outcome
		grant.WritePage(w, status, title, text)
		return nil
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return page(http.StatusMethodNotAllowed, outcomeMethodNotAllowed, "Method not allowed", "The browser returns here with a GET.")
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		if q.Has("error") {
			return page(http.StatusBadRequest, outcomeBadRequest, "Login failed",
				fmt.Sprintf("The provider reported %q without the state of a login, so oidcctl cannot tell which login it ends. "+
					"The command that started the login waits until it times out; start it again.", q.Get("error")))
		}
		return page(http.StatusBadRequest, outcomeBadRequest, "Not a login", "This address carries no state: it is not the return of a login.")
	}
	st, ok := s.store.(core.PendingLoginStore)
	if !ok || s.cfg.Grants == nil {
		return page(http.StatusServiceUnavailable, outcomeError, "Logins are not served here",
			"This oidcctl serve does not complete logins (it has no grant client or its store keeps no pending logins).")
	}
	ctx := r.Context()
	if s.logins.throttled(s.now()) {
		listed, err := s.logins.listed(ctx, st, state, s.now())
		if err != nil {
			c.logError("login: reading the states of the logins failed", err)
			return page(http.StatusServiceUnavailable, outcomeUnavailable, "Login not completed",
				"oidcctl could not read the logins from its database; try again in a moment.")
		}
		if !listed {
			c.reason = "too many returns with unknown states"
			w.Header().Set("Retry-After", "1")
			return page(http.StatusTooManyRequests, outcomeRefused, "Too many unknown logins",
				"oidcctl receives many responses that belong to no login, and this one belongs to none it knows. "+
					"If you have just logged in, reload this page in a moment; otherwise start the login again with oidcctl account authorize.")
		}
	}
	if _, err := st.PendingLogin(ctx, state); err != nil {
		if errors.Is(err, core.ErrNotFound) {
			s.logins.charge(s.now())
			return page(http.StatusBadRequest, outcomeBadRequest, "Unknown login",
				"This response does not belong to any login oidcctl is waiting for (unknown state), so it was ignored. "+
					"Start the login again with oidcctl account authorize.")
		}
		c.logError("login: reading the pending login failed", err)
		return page(http.StatusServiceUnavailable, outcomeUnavailable, "Login not completed",
			"oidcctl could not read the login from its database; try again in a moment.")
	}
	// Take it: of two returns with one state (a replay, a reload), one
	// goes on.
	now := s.now()
	l, err := st.UpdatePendingLogin(ctx, state, func(l *core.PendingLogin) error {
		switch {
		case l.Status != core.LoginPending:
			return errLoginTaken
		case now.After(l.ExpiresAt):
			l.Status, l.Reason, l.FinishedAt = core.LoginFailed,
				fmt.Sprintf("the browser returned after the login had expired (at %s)", l.ExpiresAt.Format(time.RFC3339)), now
		default:
			// The deadline tells the waiting command when to stop
			// waiting should this serve stop during the exchange.
			l.Status, l.FinishedAt = core.LoginExchanging, now.Add(core.LoginExchangeTimeout)
		}
		return nil
	})
	switch {
	case errors.Is(err, errLoginTaken):
		return page(http.StatusGone, outcomeRefused, "Login already used",
			"This login has already been completed or abandoned; its response cannot be used again. "+
				"If you need new tokens, start the login again with oidcctl account authorize.")
	case err != nil:
		c.logError("login: taking the pending login failed", err)
		return page(http.StatusServiceUnavailable, outcomeUnavailable, "Login not completed",
			"oidcctl could not update the login in its database; start the login again.")
	case l.Status == core.LoginFailed:
		return page(http.StatusGone, outcomeRefused, "Login expired",
			fmt.Sprintf("This login expired at %s (a login through serve lasts %s). Start it again with oidcctl account authorize.",
				l.ExpiresAt.Format(time.RFC3339), core.PendingLoginTTL))
	}

	// The exchange and the storing run to their end even when the
	// browser goes away (core.LoginExchangeTimeout bounds them; a
	// browser that goes away must not lose tokens the provider issued).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), core.LoginExchangeTimeout)
	defer cancel()
	set, err := s.completeLogin(ctx, q, l)
	status, reason, finished := core.LoginDone, "", s.now()
	if err != nil {
		status, reason = core.LoginFailed, err.Error()
	}
	if _, uerr := st.UpdatePendingLogin(ctx, state, func(l *core.PendingLogin) error {
		l.Status, l.Reason, l.FinishedAt = status, reason, finished
		return nil
	}); uerr != nil {
		c.logError("login: recording the outcome failed", uerr)
	}
	if err != nil {
		s.log.Warn("login through serve failed", "account", l.Account, "request_id", c.id, "err", err)
		c.reason = err.Error()
		return page(http.StatusBadRequest, outcomeRefused, "Login failed", err.Error())
	}
	s.log.Info("login through serve completed", "account", l.Account, "request_id", c.id, "refresh_token", set.RefreshToken.IsSet())
	return page(http.StatusOK, outcomeAccepted, "Login complete",
		"oidcctl has the tokens for "+l.Account+". You can close this window.")
}

// completeLogin exchanges the code of the browser's return for tokens and
// stores them.
func (s *Server) completeLogin(ctx context.Context, q url.Values, l core.PendingLogin) (core.TokenSet, error) {
	acc, err := s.store.Account(ctx, l.Account)
	if err != nil {
		return core.TokenSet{}, err
	}
	p, err := s.store.Profile(ctx, acc.Profile)
	if err != nil {
		return core.TokenSet{}, err
	}
	doc, err := s.docs.Get(ctx, p)
	if err != nil {
		return core.TokenSet{}, err
	}
	set, err := s.cfg.Grants.ResumeAuthCode(p, doc, acc, l).Exchange(ctx, q)
	if err != nil {
		return core.TokenSet{}, err
	}
	// The debugger redacts them from now on.
	s.secrets.addTokens(acc.Name, set)
	if err := s.store.SaveTokens(ctx, acc.Name, "", set); err != nil {
		return core.TokenSet{}, fmt.Errorf("storing the tokens: %w", err)
	}
	return set, nil
}
