package serve_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/login"
	"oidcctl/core/memstore"
	"oidcctl/core/oidctest"
	"oidcctl/core/serve"
	"oidcctl/internal/testkit"
)

// serveRedirect is the https redirect URI of the logins through serve: a
// TLS-terminating proxy would hand its path to serve as plain http.
const serveRedirect = "https://oidcctl.example.org/oidc/callback"

// loginEnv is a serve that completes logins, on a store with a profile
// "web" (the provider's confidential web client, redirect URI
// serveRedirect) and an authorization_code account "support-bot" of it,
// and the login runner that `oidcctl account authorize` uses.
type loginEnv struct {
	t      *testing.T
	op     *oidctest.Provider
	store  *memstore.Store
	clock  *testkit.Clock // serve's clock
	base   string
	runner *login.Runner
}

func startLogins(t *testing.T, opts ...option) *loginEnv {
	t.Helper()
	e := &loginEnv{t: t, op: oidctest.Start(t, oidctest.WithRedirectURIs(serveRedirect)), store: memstore.New(), clock: testkit.Running()}
	ctx := context.Background()
	reg := core.Registry{Store: e.store}
	p := core.NewProfile("web")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = e.op.DiscoveryURL, oidctest.WebClientID, core.NewSecret(oidctest.WebClientSecret)
	p.RedirectURI = serveRedirect
	must(t, reg.AddProfile(ctx, p))
	a := core.NewAccount("support-bot", "web")
	a.GrantType, a.Scopes = core.GrantAuthorizationCode, []string{"openid", "offline_access"}
	must(t, reg.AddAccount(ctx, a))

	logger := slog.New(slog.DiscardHandler)
	sv := newServices(e.store, e.clock.Now, "serve-test", logger)
	grants := &grant.Client{Logger: logger}
	cfg := sv.config(serve.Config{
		Store: e.store, NoScheduler: true, Now: e.clock.Now, Logger: logger, Grants: grants,
		ReloadInterval: 50 * time.Millisecond,
	})
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := serve.New(ctx, cfg)
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	e.base = "http://" + ln.Addr().String()
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx, ln, nil) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// The command's side: another process on the same database would
	// build the same from its own services.
	e.runner = &login.Runner{Store: e.store, Discovery: sv.docs, Grants: grants, PollInterval: 10 * time.Millisecond}
	return e
}

// loginPrompter hands the login's events to the test.
type loginPrompter struct{ events chan login.Event }

func (p *loginPrompter) Event(ev login.Event) { p.events <- ev }

func (p *loginPrompter) Pasted(ctx context.Context) (string, error) {
	<-ctx.Done()
	return "", io.EOF
}

// authorizing is one `account authorize` under way.
type authorizing struct {
	url    *url.URL // the authorization request shown
	result chan loginResult
	cancel context.CancelFunc
}

type loginResult struct {
	set core.TokenSet
	err error
}

// authorize starts the login of support-bot and returns once its URL is
// shown.
func (e *loginEnv) authorize(timeout time.Duration) *authorizing {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	p := &loginPrompter{events: make(chan login.Event, 16)}
	a := &authorizing{result: make(chan loginResult, 1), cancel: cancel}
	go func() {
		set, err := e.runner.Run(ctx, "support-bot", login.Options{Timeout: timeout}, p)
		a.result <- loginResult{set, err}
	}()
	for {
		select {
		case ev := <-p.events:
			if show, ok := ev.(login.ShowURL); ok {
				if show.Method != grant.MethodServe || show.RedirectURI != serveRedirect {
					e.t.Fatalf("ShowURL %+v, want the serve method with %s", show, serveRedirect)
				}
				u, err := url.Parse(show.URL)
				must(e.t, err)
				a.url = u
				go func() { // the rest of the events
					for range p.events {
					}
				}()
				return a
			}
		case r := <-a.result:
			e.t.Fatalf("the login ended before showing its URL: %v", r.err)
		case <-time.After(20 * time.Second):
			e.t.Fatal("no URL shown within 20s")
		}
	}
}

// wait returns what the login returned.
func (a *authorizing) wait(t *testing.T) loginResult {
	t.Helper()
	select {
	case r := <-a.result:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("the login did not end within 20s")
		return loginResult{}
	}
}

// providerLogin plays the person at the provider: it returns the
// redirect the provider sends the browser to (on serveRedirect's host).
func (e *loginEnv) providerLogin(a *authorizing) *url.URL {
	e.t.Helper()
	loc, err := e.op.Authorize(context.Background(), a.url.String(), e.op.Username(), oidctest.Password)
	must(e.t, err)
	if !strings.HasPrefix(loc.String(), serveRedirect+"?") {
		e.t.Fatalf("the provider redirected to %s, want %s", loc, serveRedirect)
	}
	return loc
}

// browse delivers a redirect to serve as the proxy in front of it would:
// the path and query of the https URI, over plain http.
func (e *loginEnv) browse(path, query string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.base + path + "?" + query)
	must(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		e.t.Errorf("the page is %q, want HTML", ct)
	}
	return resp.StatusCode, string(b)
}

func (e *loginEnv) pending(state string) core.PendingLogin {
	e.t.Helper()
	l, err := e.store.PendingLogin(context.Background(), state)
	must(e.t, err)
	return l
}

// A login whose redirect URI serve answers: the command stores the
// request and waits, the provider sends the browser to serve, serve
// exchanges the code and stores the tokens, and the command reports
// them. The same return again is refused and changes nothing.
func TestLoginThroughServe(t *testing.T) {
	t.Parallel()
	e := startLogins(t)
	a := e.authorize(0)
	if got := a.url.Query().Get("redirect_uri"); got != serveRedirect {
		t.Fatalf("redirect_uri = %q, want %q", got, serveRedirect)
	}
	state := a.url.Query().Get("state")
	if l := e.pending(state); l.Status != core.LoginPending || l.Account != "support-bot" ||
		l.ExpiresAt.Sub(l.CreatedAt) != core.PendingLoginTTL || !l.Verifier.IsSet() {
		t.Fatalf("pending login %+v", l)
	}
	loc := e.providerLogin(a)
	code, page := e.browse(loc.Path, loc.RawQuery)
	if code != http.StatusOK || !strings.Contains(page, "Login complete") {
		t.Fatalf("serve answered %d:\n%s", code, page)
	}
	r := a.wait(t)
	if r.err != nil {
		t.Fatalf("the command reports: %v", r.err)
	}
	st, err := e.store.TokenState(context.Background(), "support-bot")
	must(t, err)
	if !st.Tokens.AccessToken.IsSet() || !st.Tokens.RefreshToken.IsSet() || st.Tokens.AccessToken.Reveal() != r.set.AccessToken.Reveal() {
		t.Fatalf("stored %+v, the command reports %+v", st.Tokens, r.set)
	}
	if l := e.pending(state); l.Status != core.LoginDone || l.FinishedAt.IsZero() {
		t.Fatalf("pending login after the login: %+v", l)
	}

	// A replay of the same return.
	code, page = e.browse(loc.Path, loc.RawQuery)
	if code != http.StatusGone || !strings.Contains(page, "already") {
		t.Fatalf("replay answered %d:\n%s", code, page)
	}
	again, err := e.store.TokenState(context.Background(), "support-bot")
	must(t, err)
	if again.Tokens.AccessToken.Reveal() != st.Tokens.AccessToken.Reveal() {
		t.Fatal("the replay changed the stored tokens")
	}
}

// A return with a state that no login has is refused, and leaves the
// login that waits usable; one without any state is refused too.
func TestLoginThroughServeWrongState(t *testing.T) {
	t.Parallel()
	e := startLogins(t)
	a := e.authorize(0)
	loc := e.providerLogin(a)
	forged := loc.Query()
	forged.Set("state", "not-the-state-of-any-login")
	code, page := e.browse(loc.Path, forged.Encode())
	if code != http.StatusBadRequest || !strings.Contains(page, "Unknown login") {
		t.Fatalf("wrong state answered %d:\n%s", code, page)
	}
	code, page = e.browse(loc.Path, "code=abc")
	if code != http.StatusBadRequest || !strings.Contains(page, "no state") {
		t.Fatalf("no state answered %d:\n%s", code, page)
	}
	if l := e.pending(a.url.Query().Get("state")); l.Status != core.LoginPending {
		t.Fatalf("the refused returns moved the login to %s", l.Status)
	}
	code, page = e.browse(loc.Path, loc.RawQuery)
	if code != http.StatusOK {
		t.Fatalf("the right return after the wrong ones answered %d:\n%s", code, page)
	}
	if r := a.wait(t); r.err != nil {
		t.Fatalf("the command reports: %v", r.err)
	}
}

// A return after the login's ten minutes is refused with a page saying
// it expired, and the waiting command reports that.
func TestLoginThroughServeExpired(t *testing.T) {
	t.Parallel()
	e := startLogins(t)
	a := e.authorize(0)
	loc := e.providerLogin(a)
	e.clock.Add(core.PendingLoginTTL + time.Second)
	code, page := e.browse(loc.Path, loc.RawQuery)
	if code != http.StatusGone || !strings.Contains(page, "Login expired") {
		t.Fatalf("expired return answered %d:\n%s", code, page)
	}
	r := a.wait(t)
	var se *login.ServeError
	if !errors.As(r.err, &se) || !strings.Contains(r.err.Error(), "expired") {
		t.Fatalf("the command reports %v, want a *login.ServeError saying the login expired", r.err)
	}
	if st, err := e.store.TokenState(context.Background(), "support-bot"); err != nil || st.Tokens.AccessToken.IsSet() {
		t.Fatalf("tokens stored for an expired login: %+v %v", st.Tokens, err)
	}
}

// The provider's error redirect (the person refused) is shown on the
// page and reported by the waiting command.
func TestLoginThroughServeAccessDenied(t *testing.T) {
	t.Parallel()
	e := startLogins(t)
	a := e.authorize(0)
	state := a.url.Query().Get("state")
	q := url.Values{"error": {"access_denied"}, "error_description": {"The user said no"}, "state": {state}}
	code, page := e.browse("/oidc/callback", q.Encode())
	if code != http.StatusBadRequest || !strings.Contains(page, "access_denied") {
		t.Fatalf("error redirect answered %d:\n%s", code, page)
	}
	r := a.wait(t)
	if r.err == nil || !strings.Contains(r.err.Error(), "access_denied") || !strings.Contains(r.err.Error(), "The user said no") {
		t.Fatalf("the command reports %v, want access_denied with its description", r.err)
	}
	if l := e.pending(state); l.Status != core.LoginFailed || !strings.Contains(l.Reason, "access_denied") {
		t.Fatalf("pending login %+v", l)
	}
}

// A command that gives up (ctrl+c, its timeout) marks the login failed:
// the browser's return afterwards is refused, no tokens are stored.
func TestLoginThroughServeAbandoned(t *testing.T) {
	t.Parallel()
	e := startLogins(t)
	a := e.authorize(0)
	loc := e.providerLogin(a)
	a.cancel()
	if r := a.wait(t); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("the command reports %v, want context.Canceled", r.err)
	}
	state := a.url.Query().Get("state")
	if l := e.pending(state); l.Status != core.LoginFailed || !strings.Contains(l.Reason, "abandoned") {
		t.Fatalf("pending login after ctrl+c: %+v", l)
	}
	code, page := e.browse(loc.Path, loc.RawQuery)
	if code != http.StatusGone {
		t.Fatalf("return after ctrl+c answered %d:\n%s", code, page)
	}
	if st, err := e.store.TokenState(context.Background(), "support-bot"); err != nil || st.Tokens.AccessToken.IsSet() {
		t.Fatalf("tokens stored for an abandoned login: %+v %v", st.Tokens, err)
	}

	// The timeout gives up the same way, and says so.
	b := e.authorize(200 * time.Millisecond)
	if r := b.wait(t); !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("the command reports %v, want its timeout", r.err)
	}
	if l := e.pending(b.url.Query().Get("state")); l.Status != core.LoginFailed {
		t.Fatalf("pending login after the timeout: %+v", l)
	}
}

// A serve without a grant client (Config.Grants) says that it completes
// no logins, and leaves the login pending; other methods than GET are
// refused; a path that no redirect URI has is not a login.
func TestLoginThroughServeRefusals(t *testing.T) {
	t.Parallel()
	e := startLogins(t, func(c *serve.Config) { c.Grants = nil })
	a := e.authorize(0)
	loc := e.providerLogin(a)
	code, page := e.browse(loc.Path, loc.RawQuery)
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "does not complete logins") {
		t.Fatalf("serve without grants answered %d:\n%s", code, page)
	}
	if l := e.pending(a.url.Query().Get("state")); l.Status != core.LoginPending {
		t.Fatalf("the login moved to %s", l.Status)
	}
	resp, err := http.Post(e.base+loc.Path+"?"+loc.RawQuery, "application/x-www-form-urlencoded", strings.NewReader(""))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodGet {
		t.Fatalf("POST answered %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, err = http.Get(e.base + "/elsewhere?" + loc.RawQuery)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another path answered %d", resp.StatusCode)
	}
	a.cancel()
	a.wait(t)
}

// A serve that stops during the exchange (killed after it took the
// login) leaves the login "exchanging": once the exchange's deadline has
// passed, the waiting command reports that serve stopped and that the
// login must be started again, rather than waiting for its timeout, and
// the login is recorded as failed for every other reader.
func TestLoginThroughServeExchangeStopped(t *testing.T) {
	t.Parallel()
	e := startLogins(t)
	e.runner.Now = e.clock.Now
	a := e.authorize(0) // waits the ten minutes of a login
	state := a.url.Query().Get("state")
	// What serve writes when it takes the login, before it dies.
	taken := e.clock.Now()
	if _, err := e.store.UpdatePendingLogin(context.Background(), state, func(l *core.PendingLogin) error {
		l.Status, l.FinishedAt = core.LoginExchanging, taken.Add(core.LoginExchangeTimeout)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(core.LoginExchangeTimeout + time.Second)
	r := a.wait(t)
	var se *login.ServeError
	if !errors.As(r.err, &se) || se.Reason != core.ReasonExchangeStopped {
		t.Fatalf("the command reports %v, want a *login.ServeError %q", r.err, core.ReasonExchangeStopped)
	}
	if l := e.pending(state); l.Status != core.LoginFailed || l.Reason != core.ReasonExchangeStopped {
		t.Fatalf("pending login after the stopped exchange: %+v", l)
	}
}

// lookupCounter counts serve's reads of pending logins.
type lookupCounter struct {
	*memstore.Store
	mu            sync.Mutex
	reads, unlist int
}

func (s *lookupCounter) PendingLogin(ctx context.Context, state string) (core.PendingLogin, error) {
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	return s.Store.PendingLogin(ctx, state)
}

func (s *lookupCounter) PendingLoginStates(ctx context.Context, at time.Time) ([]string, error) {
	s.mu.Lock()
	s.unlist++
	s.mu.Unlock()
	return s.Store.PendingLoginStates(ctx, at)
}

func (s *lookupCounter) counts() (reads, lists int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads, s.unlist
}

// A flood of returns with states that no login has costs a bounded
// number of database reads (beyond a burst, one read of the list of
// states a second, and 429 pages), while a real login's return still
// goes through in the middle of it; once the flood has passed, an
// unknown state is answered as before.
func TestLoginThroughServeUnknownStateFlood(t *testing.T) {
	t.Parallel()
	var counter *lookupCounter
	e := startLogins(t, func(c *serve.Config) {
		counter = &lookupCounter{Store: c.Store.(*memstore.Store)}
		c.Store = counter
	})
	a := e.authorize(0)
	loc := e.providerLogin(a)
	e.clock.Freeze(e.clock.Now()) // no refill, no new list during the flood

	const flood = 300
	codes := map[int]int{}
	for i := range flood {
		q := url.Values{"code": {"x"}, "state": {fmt.Sprintf("forged-%d", i)}}
		code, _ := e.browse(loc.Path, q.Encode())
		codes[code]++
		if i == flood/2 {
			// The person's browser returns in the middle of it.
			code, page := e.browse(loc.Path, loc.RawQuery)
			if code != http.StatusOK || !strings.Contains(page, "Login complete") {
				t.Fatalf("the real return during the flood answered %d:\n%s", code, page)
			}
		}
	}
	if r := a.wait(t); r.err != nil {
		t.Fatalf("the command reports: %v", r.err)
	}
	reads, lists := counter.counts()
	// The forged states read before the bucket was empty, the real
	// login's reads (serve's take and the update; the command's polls
	// go to the store unwrapped), one list.
	if reads > 20+3 || lists != 1 {
		t.Fatalf("%d forged returns cost %d reads and %d lists of states, want at most 23 and 1", flood, reads, lists)
	}
	if codes[http.StatusTooManyRequests] < flood-20 || codes[http.StatusBadRequest] != 20 {
		t.Fatalf("answers %v, want 20×400 then 429s", codes)
	}

	// The bucket fills again with time.
	e.clock.Add(10 * time.Second)
	code, page := e.browse(loc.Path, url.Values{"code": {"x"}, "state": {"forged-after"}}.Encode())
	if code != http.StatusBadRequest || !strings.Contains(page, "Unknown login") {
		t.Fatalf("an unknown state after the flood answered %d:\n%s", code, page)
	}
}

// While serve exchanges a login's code, the login says by when the
// exchange ends: serve's clock at the take plus core.LoginExchangeTimeout,
// the deadline a waiting command holds it to.
func TestLoginThroughServeRecordsExchangeDeadline(t *testing.T) {
	t.Parallel()
	e := startLogins(t)
	e.clock.Freeze(e.clock.Now())
	taken := e.clock.Now()
	a := e.authorize(0)
	state := a.url.Query().Get("state")
	loc := e.providerLogin(a)
	inExchange, release := make(chan struct{}), make(chan struct{})
	e.op.SetTokenMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(inExchange)
			<-release
			next.ServeHTTP(w, r)
		})
	})
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(e.base + loc.Path + "?" + loc.RawQuery)
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case <-inExchange:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exchange the code within 20s")
	}
	l := e.pending(state)
	close(release)
	if l.Status != core.LoginExchanging || !l.ExchangeDeadline().Equal(taken.Add(core.LoginExchangeTimeout).Truncate(time.Millisecond)) {
		t.Errorf("during the exchange: status %s, deadline %v, want exchanging until %v", l.Status, l.ExchangeDeadline(), taken.Add(core.LoginExchangeTimeout))
	}
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the return answered %d", code)
	}
	if r := a.wait(t); r.err != nil {
		t.Fatalf("the command reports: %v", r.err)
	}
}
