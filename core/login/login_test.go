package login_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/login"
	"oidcctl/core/oidctest"
)

// store is an in-memory login.Store: one profile, its accounts, and the
// token sets saved.
type store struct {
	mu       sync.Mutex
	profile  core.Profile
	accounts map[string]core.Account
	saved    map[string]core.TokenSet
}

func (s *store) Account(_ context.Context, name string) (core.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[name]
	if !ok {
		return core.Account{}, &core.NotFoundError{Kind: "account", Name: name}
	}
	return a, nil
}

func (s *store) Profile(_ context.Context, name string) (core.Profile, error) {
	if name != s.profile.Name {
		return core.Profile{}, &core.NotFoundError{Kind: "profile", Name: name}
	}
	return s.profile, nil
}

func (s *store) SaveTokens(_ context.Context, account, _ string, set core.TokenSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved[account] = set
	return nil
}

func (s *store) stored(name string) (core.TokenSet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set, ok := s.saved[name]
	return set, ok
}

// prompter records the events of a login and runs on, if set, on each;
// Pasted hands out what is sent on pastes.
type prompter struct {
	mu     sync.Mutex
	events []login.Event
	on     func(login.Event)
	pastes chan string
}

func (p *prompter) Event(ev login.Event) {
	p.mu.Lock()
	p.events = append(p.events, ev)
	p.mu.Unlock()
	if p.on != nil {
		p.on(ev)
	}
}

func (p *prompter) Pasted(ctx context.Context) (string, error) {
	if p.pastes == nil {
		return "", io.EOF
	}
	select {
	case s := <-p.pastes:
		return s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// kinds names the events received, in order.
func (p *prompter) kinds() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, ev := range p.events {
		name := strings.TrimPrefix(fmt.Sprintf("%T", ev), "login.")
		if w, ok := ev.(login.Waiting); ok {
			name += "(" + w.Method.String() + ")"
		}
		out = append(out, name)
	}
	return strings.Join(out, " ")
}

func (p *prompter) find(kind string) login.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range p.events {
		if fmt.Sprintf("%T", ev) == "login."+kind {
			return ev
		}
	}
	return nil
}

// env is a provider, a store with its web client's profile and an
// authorization_code account "support", and a runner on them with a
// clock standing still.
type env struct {
	op    *oidctest.Provider
	store *store
	r     *login.Runner
	now   time.Time
	vars  map[string]string
}

func setup(t *testing.T) *env {
	t.Helper()
	op := oidctest.Start(t, oidctest.WithDevicePollInterval(time.Second))
	p := core.NewProfile("idp")
	p.DiscoveryURL = op.DiscoveryURL
	p.ClientID = oidctest.WebClientID
	p.ClientSecret = core.NewSecret(oidctest.WebClientSecret)
	support := core.NewAccount("support", "idp")
	support.GrantType = core.GrantAuthorizationCode
	support.Scopes = []string{"openid", "offline_access"}
	billing := core.NewAccount("billing", "idp")
	e := &env{
		op:    op,
		store: &store{profile: p, accounts: map[string]core.Account{"support": support, "billing": billing}, saved: map[string]core.TokenSet{}},
		now:   time.Now().Truncate(time.Second),
		vars:  map[string]string{},
	}
	e.r = &login.Runner{
		Store:     e.store,
		Discovery: &discovery.Client{},
		Grants:    &grant.Client{},
		Getenv:    func(k string) string { return e.vars[k] },
		Now:       func() time.Time { return e.now },
	}
	return e
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// loggedIn checks that the login yielded tokens with a refresh token, and
// stored exactly those.
func (e *env) loggedIn(t *testing.T, set core.TokenSet, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if !set.AccessToken.IsSet() || !set.RefreshToken.IsSet() || !set.IDToken.IsSet() {
		t.Fatalf("want access, refresh and id token: %+v", set)
	}
	got, ok := e.store.stored("support")
	if !ok || got.AccessToken.Reveal() != set.AccessToken.Reveal() || got.RefreshToken.Reveal() != set.RefreshToken.Reveal() {
		t.Fatalf("stored %+v (%v), want what Run returned", got, ok)
	}
}

// TestRunDevice: over SSH with a provider that has the device flow, the
// login shows the code, waits until the code expires at the latest, and
// stores the tokens once the person approves.
func TestRunDevice(t *testing.T) {
	e := setup(t)
	e.vars["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22"
	pr := &prompter{}
	pr.on = func(ev login.Event) {
		if d, ok := ev.(login.ShowDeviceCode); ok {
			if err := e.op.ApproveDevice(d.UserCode, e.op.Username()); err != nil {
				t.Error(err)
			}
		}
	}
	set, err := e.r.Run(ctxT(t), "support", login.Options{}, pr)
	e.loggedIn(t, set, err)
	if got, want := pr.kinds(), "ShowDeviceCode Waiting(device) Done"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	d := pr.find("ShowDeviceCode").(login.ShowDeviceCode)
	if d.VerificationURI != e.op.Issuer+"/device" || d.UserCode == "" {
		t.Errorf("device code event: %+v", d)
	}
	// The profile's default rand TTL (5 min) or the code's expiry, which
	// is by the grant client's real clock: either way within 5 minutes of
	// the runner's clock, and not before it.
	w := pr.find("Waiting").(login.Waiting)
	if w.Deadline.Before(e.now) || w.Deadline.After(e.now.Add(core.DefaultRandTTL)) {
		t.Errorf("deadline %s, want at most %s after %s", w.Deadline, core.DefaultRandTTL, e.now)
	}
	if done := pr.find("Done").(login.Done); done.Err != nil || done.Set.AccessToken.Reveal() != set.AccessToken.Reveal() {
		t.Errorf("Done = %+v", done)
	}
}

// TestRunBrowser: with a local browser the login opens it on the login
// page and the loopback callback gets the code; without one it says so,
// and the URL opened by hand still works.
func TestRunBrowser(t *testing.T) {
	e := setup(t)
	e.vars["BROWSER"] = "firefox"
	browser := e.op.BrowserFunc(e.op.Username(), oidctest.Password)
	opened := make(chan string, 1)
	e.r.OpenBrowser = func(u string) error {
		opened <- u
		return browser(u)
	}
	pr := &prompter{}
	set, err := e.r.Run(ctxT(t), "support", login.Options{}, pr)
	e.loggedIn(t, set, err)
	if got, want := pr.kinds(), "ShowURL Waiting(browser) Done"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	show := pr.find("ShowURL").(login.ShowURL)
	if show.Method != grant.MethodBrowser || show.URL != <-opened || !strings.HasPrefix(show.URL, e.op.Issuer+"/auth?") || show.Forward != "" {
		t.Errorf("ShowURL = %+v", show)
	}
	if w := pr.find("Waiting").(login.Waiting); !w.Deadline.Equal(e.now.Add(core.DefaultRandTTL)) {
		t.Errorf("deadline %s, want the runner's clock + the default rand TTL", w.Deadline)
	}

	t.Run("no local browser", func(t *testing.T) {
		e.r.OpenBrowser = nil
		pr := &prompter{}
		pr.on = func(ev login.Event) {
			if _, ok := ev.(login.BrowserFailed); ok {
				go func() { _ = browser(pr.find("ShowURL").(login.ShowURL).URL) }()
			}
		}
		set, err := e.r.Run(ctxT(t), "support", login.Options{Method: grant.MethodBrowser}, pr)
		e.loggedIn(t, set, err)
		if got, want := pr.kinds(), "ShowURL Waiting(browser) BrowserFailed Done"; got != want {
			t.Fatalf("events %q, want %q", got, want)
		}
	})
}

// TestRunRemote: the URL for a browser elsewhere comes with the ssh -L
// line for the loopback callback; a pasted address that is not the
// redirect is refused and the next paste is asked for; the right one
// ends the login and closes the callback server.
func TestRunRemote(t *testing.T) {
	e := setup(t)
	e.vars["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22"
	pr := &prompter{pastes: make(chan string)}
	var redirect string
	pr.on = func(ev login.Event) {
		switch ev := ev.(type) {
		case login.ShowURL:
			redirect = ev.RedirectURI
			go func() {
				pr.pastes <- "http://127.0.0.1:1/elsewhere?code=x"
			}()
		case login.PasteRefused:
			show := pr.find("ShowURL").(login.ShowURL)
			go func() {
				loc, err := e.op.Authorize(context.Background(), show.URL, e.op.Username(), oidctest.Password)
				if err != nil {
					t.Error(err)
					return
				}
				pr.pastes <- loc.String()
			}()
		}
	}
	set, err := e.r.Run(ctxT(t), "support", login.Options{Method: grant.MethodRemote}, pr)
	e.loggedIn(t, set, err)
	if got, want := pr.kinds(), "ShowURL Waiting(remote) PasteRefused Done"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	show := pr.find("ShowURL").(login.ShowURL)
	u, err := url.Parse(show.RedirectURI)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Path != "/callback" {
		t.Fatalf("redirect URI %q", show.RedirectURI)
	}
	if want := fmt.Sprintf("ssh -L %s:127.0.0.1:%s 10.0.0.2", u.Port(), u.Port()); show.Forward != want {
		t.Errorf("forward %q, want %q", show.Forward, want)
	}
	if refused := pr.find("PasteRefused").(login.PasteRefused); !strings.Contains(refused.Err.Error(), "the pasted URL is not the redirect") {
		t.Errorf("refusal: %v", refused.Err)
	}
	if _, err := http.Get(redirect); err == nil {
		t.Error("the callback server still answers after the login")
	}
}

// TestRunRefusesOtherGrants: an account whose grant needs no person is
// refused before the provider is asked anything.
func TestRunRefusesOtherGrants(t *testing.T) {
	e := setup(t)
	e.r.Discovery = failingDiscovery{t}
	pr := &prompter{}
	_, err := e.r.Run(ctxT(t), "billing", login.Options{}, pr)
	var ge *login.GrantError
	if !errors.As(err, &ge) || ge.Account != "billing" || ge.Grant != core.GrantClientCredentials ||
		err.Error() != "account billing uses the client_credentials grant, which needs no login" {
		t.Fatalf("err = %v", err)
	}
	if got := pr.kinds(); got != "Done" {
		t.Errorf("events %q, want Done alone", got)
	}
	if _, ok := e.store.stored("billing"); ok {
		t.Error("tokens stored")
	}

	_, err = e.r.Run(ctxT(t), "nobody", login.Options{}, &prompter{})
	if !errors.As(err, new(*core.NotFoundError)) || !strings.HasPrefix(err.Error(), "authorize nobody: ") {
		t.Errorf("unknown account: %v", err)
	}
}

type failingDiscovery struct{ t *testing.T }

func (f failingDiscovery) Get(context.Context, core.Profile) (*discovery.Document, error) {
	f.t.Error("the discovery document was fetched")
	return nil, errors.New("no discovery here")
}

// TestRunTimeout: the wait ends after the timeout asked for, or else the
// profile's rand TTL, and the error says which; nothing is stored.
func TestRunTimeout(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		name    string
		randTTL time.Duration
		opts    login.Options
		want    string
	}{
		{"the profile's rand TTL", 300 * time.Millisecond, login.Options{Method: grant.MethodDevice}, "no login within 300ms (the profile's rand TTL)"},
		{"--timeout", time.Hour, login.Options{Method: grant.MethodRemote, Timeout: 200 * time.Millisecond}, "no login within 200ms: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.store.profile.Misc.RandTTL = tc.randTTL
			start := time.Now()
			pr := &prompter{}
			_, err := e.r.Run(ctxT(t), "support", tc.opts, pr)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "authorize support: ") {
				t.Fatalf("err = %v, want one with %q", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
			if done, ok := pr.find("Done").(login.Done); !ok || done.Err == nil || done.Err.Error() != err.Error() {
				t.Errorf("Done = %+v", pr.find("Done"))
			}
			if _, ok := e.store.stored("support"); ok {
				t.Error("tokens stored")
			}
		})
	}
}
