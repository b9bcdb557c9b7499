// Package login runs the login that an authorization_code account needs a
// person for, from the account's name to its stored tokens: account →
// profile → discovery → timeout → method → device, browser or remote →
// store the tokens; or, for an https redirect URI, a pending login that
// `oidcctl serve` completes (see serve.go). The command line (`oidcctl account authorize`) and the
// console's authorize screen both run it; each shows its steps in its own
// way through a Prompter.
package login

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
)

// Store is what a login reads and writes: the account, its profile, and
// the token store. core.Store has it.
type Store interface {
	Account(ctx context.Context, name string) (core.Account, error)
	Profile(ctx context.Context, name string) (core.Profile, error)
	SaveTokens(ctx context.Context, account, owner string, set core.TokenSet) error
}

// Discovery gets a profile's discovery document; *discovery.Client is one.
type Discovery interface {
	Get(ctx context.Context, p core.Profile) (*discovery.Document, error)
}

// Runner runs logins. Store, Discovery and Grants are required; a Runner
// is safe for concurrent use.
type Runner struct {
	Store     Store
	Discovery Discovery
	Grants    *grant.Client
	// Getenv reads the environment for grant.ChooseMethod and the ssh -L
	// line; nil means os.Getenv.
	Getenv func(string) string
	// OpenBrowser opens a URL in a local browser; nil means there is none
	// (the browser method then reports BrowserFailed and waits for the URL
	// to be opened by hand).
	OpenBrowser func(url string) error
	// Now is the clock of the deadlines shown and of a pending login's
	// times; nil means time.Now.
	Now func() time.Time
	// PollInterval is how often a login through serve reads its pending
	// login to see whether serve has completed it; 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
}

// Options choose how a login runs.
type Options struct {
	// Method is the login method; grant.MethodAuto (the zero value) lets
	// grant.ChooseMethod pick it from the environment and the provider.
	Method grant.Method
	// Timeout bounds the whole wait for the person; 0 means the profile's
	// state TTL (core.Misc.StateTTL), after which the state would be
	// refused anyway, or core.PendingLoginTTL for a login through serve.
	Timeout time.Duration
}

// Prompter shows a login's steps to the person and hands back what the
// person pastes.
type Prompter interface {
	// Event reports one step. Events come one at a time, in order, from
	// the login's goroutines; none comes after Run returns. Done is the
	// last.
	Event(Event)
	// Pasted returns the next address the person pastes as the redirect
	// the browser ended on. Only the remote method asks, from a goroutine
	// of its own and while the loopback callback is waited for as well; it
	// must return when ctx ends. An error (io.EOF: no more input) stops
	// the asking, not the login. A refused paste is reported as
	// PasteRefused and another one is asked for.
	Pasted(ctx context.Context) (string, error)
}

// Event is one step of a login: ShowURL, ShowDeviceCode, BrowserFailed,
// Waiting, PollFailed, PasteRefused or Done.
type Event interface{ event() }

// ShowURL asks the person to open URL in a browser and log in.
type ShowURL struct {
	// Method is grant.MethodBrowser (a local browser is being opened with
	// it) or grant.MethodRemote (a browser on another machine).
	Method grant.Method
	URL    string
	// RedirectURI is where the provider sends the browser afterwards
	// (remote only): the loopback callback on this machine.
	RedirectURI string
	// Forward is the ssh -L command line that makes RedirectURI reachable
	// from the person's own machine (remote only).
	Forward string
}

// ShowDeviceCode asks the person to open VerificationURI on any device and
// enter UserCode (RFC 8628).
type ShowDeviceCode struct {
	UserCode        string
	VerificationURI string
	// VerificationURIComplete carries the code in it; "" when the provider
	// sends none.
	VerificationURIComplete string
}

// BrowserFailed says that the local browser could not be opened: the URL
// shown must be opened by hand.
type BrowserFailed struct{ Err error }

// Waiting says that the login now waits for the person, until Deadline
// (the timeout, or the device code's expiry when that comes first).
type Waiting struct {
	Method   grant.Method
	Deadline time.Time
}

// PollFailed says that a poll of the device flow failed in a way that may
// pass (the provider unreachable or answering 5xx); the login goes on and
// polls again after Retry. Failures counts the polls that failed in a row;
// MaxFailures in a row end the login.
type PollFailed struct {
	Err         error
	Failures    int
	MaxFailures int
	Retry       time.Duration
}

// PasteRefused says that a pasted address was not this login's redirect;
// the login goes on and the next paste is asked for.
type PasteRefused struct{ Err error }

// Done ends a login: the tokens are stored when Err is nil. Run returns
// the same.
type Done struct {
	Set core.TokenSet
	Err error
}

func (ShowURL) event()        {}
func (ShowDeviceCode) event() {}
func (BrowserFailed) event()  {}
func (Waiting) event()        {}
func (PollFailed) event()     {}
func (PasteRefused) event()   {}
func (Done) event()           {}

// GrantError refuses a login for an account whose grant needs no person.
type GrantError struct {
	Account string
	Grant   core.GrantType
}

func (e *GrantError) Error() string {
	return fmt.Sprintf("account %s uses the %s grant, which needs no login", e.Account, e.Grant)
}

// Run runs the login of the named account and stores the tokens it
// yields. An account whose grant is not authorization_code is refused
// with a *GrantError; every other error is wrapped as "authorize NAME: …",
// and one caused by the timeout says so and matches
// context.DeadlineExceeded. The tokens are stored even when ctx ends
// right after the provider issued them.
func (r *Runner) Run(ctx context.Context, account string, opts Options, p Prompter) (core.TokenSet, error) {
	ev := &events{p: p}
	set, err := r.run(ctx, account, opts, ev)
	if err != nil && !errors.As(err, new(*GrantError)) {
		err = fmt.Errorf("authorize %s: %w", account, err)
	}
	ev.finish(Done{Set: set, Err: err})
	return set, err
}

func (r *Runner) run(ctx context.Context, name string, opts Options, ev *events) (core.TokenSet, error) {
	acc, err := r.Store.Account(ctx, name)
	if err != nil {
		return core.TokenSet{}, err
	}
	if acc.GrantType != core.GrantAuthorizationCode {
		return core.TokenSet{}, &GrantError{Account: acc.Name, Grant: acc.GrantType}
	}
	p, err := r.Store.Profile(ctx, acc.Profile)
	if err != nil {
		return core.TokenSet{}, err
	}
	doc, err := r.Discovery.Get(ctx, p)
	if err != nil {
		return core.TokenSet{}, err
	}
	viaServe := core.IsServeRedirect(core.RedirectURIFor(p, acc)) && opts.Method != grant.MethodDevice
	timeout, why := opts.Timeout, ""
	switch {
	case timeout > 0:
	case viaServe:
		timeout, why = core.PendingLoginTTL, " (the lifetime of a login through serve)"
	default:
		timeout, why = p.Misc.StateTTL(), " (the profile's rand TTL)"
	}
	method := opts.Method
	if method == grant.MethodAuto && !viaServe {
		method = grant.ChooseMethod(doc, r.getenv, false, false)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("no login within %s%s: %w", timeout, why, context.DeadlineExceeded))
	defer cancel()
	l := attempt{Runner: r, p: p, doc: doc, acc: acc, ev: ev, timeout: timeout, deadline: r.now().Add(timeout)}
	if viaServe {
		// serve stores the tokens.
		set, err := l.serve(ctx, method)
		if err != nil {
			return core.TokenSet{}, withCause(ctx, err)
		}
		return set, nil
	}
	var set core.TokenSet
	switch method {
	case grant.MethodDevice:
		set, err = l.device(ctx)
	case grant.MethodBrowser:
		set, err = l.browser(ctx)
	default:
		set, err = l.remote(ctx)
	}
	if err != nil {
		return core.TokenSet{}, withCause(ctx, err)
	}
	// The provider has issued the tokens: they are kept even when the
	// person cancels now.
	if err := r.Store.SaveTokens(context.WithoutCancel(ctx), acc.Name, "", set); err != nil {
		return core.TokenSet{}, fmt.Errorf("storing the tokens: %w", err)
	}
	return set, nil
}

func (r *Runner) getenv(key string) string {
	if r.Getenv == nil {
		return os.Getenv(key)
	}
	return r.Getenv(key)
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// withCause says why a wait ended when the timeout ended it and err does
// not say so yet.
func withCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, context.DeadlineExceeded) && !strings.Contains(err.Error(), cause.Error()) {
		return fmt.Errorf("%w (%v)", err, cause)
	}
	return err
}

// attempt is one login after its account, profile, document and timeout
// are known.
type attempt struct {
	*Runner
	p        core.Profile
	doc      *discovery.Document
	acc      core.Account
	ev       *events
	timeout  time.Duration
	deadline time.Time
}

// device runs the device flow (RFC 8628).
func (l attempt) device(ctx context.Context) (core.TokenSet, error) {
	f, err := l.Grants.StartDevice(ctx, l.p, l.doc, l.acc)
	if err != nil {
		return core.TokenSet{}, err
	}
	l.ev.send(ShowDeviceCode{UserCode: f.UserCode, VerificationURI: f.VerificationURI, VerificationURIComplete: f.VerificationURIComplete})
	deadline := l.deadline
	if !f.ExpiresAt.IsZero() && f.ExpiresAt.Before(deadline) {
		deadline = f.ExpiresAt
	}
	l.ev.send(Waiting{Method: grant.MethodDevice, Deadline: deadline})
	f.OnPollFailed = func(failures int, next time.Duration, err error) {
		l.ev.send(PollFailed{Err: err, Failures: failures, MaxFailures: grant.MaxPollFailures, Retry: next})
	}
	return f.Wait(ctx)
}

// browser opens a local browser on the login page; the loopback callback
// gets the code.
func (l attempt) browser(ctx context.Context) (core.TokenSet, error) {
	return l.Grants.AuthorizeLoopback(ctx, l.p, l.doc, l.acc, func(u string) error {
		l.ev.send(ShowURL{Method: grant.MethodBrowser, URL: u})
		l.ev.send(Waiting{Method: grant.MethodBrowser, Deadline: l.deadline})
		if l.OpenBrowser == nil {
			l.ev.send(BrowserFailed{Err: errors.New("no local browser")})
			return nil
		}
		if err := l.OpenBrowser(u); err != nil {
			l.ev.send(BrowserFailed{Err: err})
		}
		return nil
	}, l.timeout)
}

type result struct {
	set core.TokenSet
	err error
}

// remote shows the URL for a browser on another machine and serves the
// loopback callback for it (reached through ssh -L) while it takes the
// address the browser ends on, pasted; the first to bring the code is
// used.
func (l attempt) remote(ctx context.Context) (core.TokenSet, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cb, err := grant.ListenRedirect(ctx, core.RedirectURIFor(l.p, l.acc))
	if err != nil {
		return core.TokenSet{}, err
	}
	defer cb.Close()
	f, err := l.Grants.StartAuthCode(l.p, l.doc, l.acc, cb.RedirectURI)
	if err != nil {
		return core.TokenSet{}, err
	}
	l.ev.send(ShowURL{Method: grant.MethodRemote, URL: f.URL, RedirectURI: cb.RedirectURI, Forward: cb.ForwardCommand(l.getenv)})
	l.ev.send(Waiting{Method: grant.MethodRemote, Deadline: l.deadline})
	done := make(chan result, 2)
	go func() {
		set, err := cb.Wait(ctx, f)
		done <- result{set, err}
	}()
	go func() {
		if r, ok := l.pasted(ctx, f); ok {
			done <- r
		}
	}()
	r := <-done
	return r.set, r.err
}

// pasted exchanges pasted redirects until one ends the flow; false when
// the prompter has no more.
func (l attempt) pasted(ctx context.Context, f *grant.AuthCodeFlow) (result, bool) {
	for {
		text, err := l.ev.p.Pasted(ctx)
		if err != nil {
			return result{}, false
		}
		set, err := f.ExchangeRedirect(ctx, text)
		if err != nil && !f.Used() {
			l.ev.send(PasteRefused{Err: err})
			continue
		}
		return result{set, err}, true
	}
}

// events hands a login's events to its Prompter one at a time, and none
// after Done.
type events struct {
	mu   sync.Mutex
	p    Prompter
	done bool
}

func (e *events) send(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.done {
		e.p.Event(ev)
	}
}

func (e *events) finish(d Done) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.done = true
	e.p.Event(d)
}
