// Package screentest sets up what screen tests need: a real database in a
// temporary directory, the dependencies the command line would build, a
// fixed clock, and the shell running the screens in a test terminal.
package screentest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
	"oidcctl/core/tokens"
	"oidcctl/core/validate"
	"oidcctl/db/dbtest"
	"oidcctl/internal/testkit"
	"oidcctl/screens"
	"oidcctl/tui"
	"oidcctl/tui/tuitest"
)

func init() {
	// Screens show local times: golden files need one time zone.
	time.Local = time.UTC
}

// T0 is the fixed time of Clock: golden files show times relative to it.
var T0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// Clock is the shared test clock, frozen: tests set it by hand.
type Clock = testkit.Clock

// Env is a test setup: a database and the dependencies built on it.
type Env struct {
	DB    dbtest.Store
	Deps  screens.Deps
	Clock *Clock
	Dir   string
	Vars  map[string]string
}

// New sets up a database and the dependencies of the screens, with colour
// off and the clock at T0 for the screens, the database and discovery.
// The token manager and grant client use the real clock, since the
// provider does: tests that obtain tokens set the clock to the real time.
func New(t testing.TB) *Env {
	t.Helper()
	store, dir := dbtest.Open(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := testkit.Frozen(T0)
	disc := &discovery.Client{Cache: store, Logger: quiet, Now: clock.Now}
	g := &grant.Client{Logger: quiet}
	store.SetNow(clock.Now)
	e := &Env{DB: store, Clock: clock, Dir: dir, Vars: map[string]string{}}
	e.Deps = screens.Deps{
		Registry:  core.Registry{Store: store},
		Discovery: disc,
		Tokens:    tokens.New(tokens.Config{Store: store, Discovery: disc, Grants: g, Logger: quiet}),
		Grants:    g,
		// The validator judges times by the screens' clock: tests that
		// inspect tokens from the provider set it to the real time.
		Validator: validate.New(validate.Config{Discovery: disc, Users: store, Now: clock.Now, Logger: quiet}),
		Styles:    tui.NewStyles(false),
		Now:       clock.Now,
		Getenv:    func(k string) string { return e.Vars[k] },
	}
	return e
}

// Get reads one thing by name with get (e.DB.User, e.DB.Account …),
// failing the test on error.
func Get[T any](t testing.TB, get func(context.Context, string) (T, error), name string) T {
	t.Helper()
	v, err := get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// WithProvider starts the in-process OpenID provider and sets up a
// database with profile idp at it (its service client) and the
// client_credentials account billing of idp. The clock is at the real
// time, since the provider's tokens are.
func WithProvider(t testing.TB) (*Env, *oidctest.Provider) {
	t.Helper()
	prov := oidctest.Start(t)
	e := New(t)
	e.Clock.Set(time.Now())
	e.AddProfile(t, Profile("idp", prov.DiscoveryURL, oidctest.ServiceClientID, oidctest.ServiceClientSecret))
	e.AddAccount(t, core.NewAccount("billing", "idp"))
	return e, prov
}

// ExampleDiscoveryURL is the discovery URL of WithProfile's profile: a
// provider that is never asked, for screens that only list profiles.
const ExampleDiscoveryURL = "https://idp.example/.well-known/openid-configuration"

// WithProfile sets up a database holding one profile named name at
// ExampleDiscoveryURL (client someapi, secret "s"), for tests of screens
// that need a profile but no provider.
func WithProfile(t testing.TB, name string) *Env {
	t.Helper()
	e := New(t)
	e.AddProfile(t, Profile(name, ExampleDiscoveryURL, "someapi", "s"))
	return e
}

// Reg is the registry.
func (e *Env) Reg() core.Registry { return e.Deps.Registry }

// AddProfile stores a profile, failing the test on error.
func (e *Env) AddProfile(t testing.TB, p core.Profile) {
	t.Helper()
	if err := e.Reg().AddProfile(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// AddAccount stores an account, failing the test on error.
func (e *Env) AddAccount(t testing.TB, a core.Account) {
	t.Helper()
	if err := e.Reg().AddAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// Profile returns a valid profile named name at discoveryURL.
func Profile(name, discoveryURL, clientID, secret string) core.Profile {
	p := core.NewProfile(name)
	p.DiscoveryURL = discoveryURL
	p.ClientID = clientID
	p.ClientSecret = core.NewSecret(secret)
	return p
}

// Shell runs the screens as tabs of the shell in a width×height terminal.
func (e *Env) Shell(t testing.TB, width, height int, tabs ...tui.Screen) *tuitest.Term {
	t.Helper()
	st := e.Deps.Styles
	// Toasts stay until the next one, so that golden frames do not depend
	// on how fast the test runs.
	m := tui.New(tui.Options{Getenv: e.Deps.Getenv, Styles: &st, ToastFor: time.Hour}, tabs...)
	return tuitest.Start(t, m, width, height)
}

// Open runs screen alone in the shell at 80×24, the size of the golden
// files, and waits for its first frame showing every one of first; it
// returns the terminal and that frame.
func (e *Env) Open(t testing.TB, screen tui.Screen, first ...string) (*tuitest.Term, string) {
	t.Helper()
	term := e.Shell(t, 80, 24, screen)
	return term, term.WaitFor(first...)
}

// OpenGolden is Open, and compares that first frame with the golden file
// golden.
func (e *Env) OpenGolden(t testing.TB, screen tui.Screen, golden string, first ...string) (*tuitest.Term, string) {
	t.Helper()
	term, f := e.Open(t, screen, first...)
	tuitest.Golden(t, golden, f)
	return term, f
}

// squeeze drops every space and line break, so that a value wrapped over
// lines (inside a word where it must) reads as one.
func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

// WholeOnEnter checks what #13 asks of a list at 80×24: each of values is
// cut in frame (the row and its detail pane), and enter opens a page
// titled title that shows every one whole (wrapped); esc then goes back
// to the list titled back.
func WholeOnEnter(t testing.TB, term *tuitest.Term, frame, title, back string, values ...string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(squeeze(frame), squeeze(v)) {
			t.Fatalf("%q shows whole in the list: too short to test the page\n%s", v, frame)
		}
	}
	term.Press("enter")
	page := term.WaitTitle(title)
	for _, v := range values {
		if !strings.Contains(squeeze(page), squeeze(v)) {
			t.Errorf("the page lacks %q whole:\n%s", v, page)
		}
	}
	for _, l := range strings.Split(page, "\n") {
		if strings.HasSuffix(strings.TrimRight(l, " "), "…") && !strings.Contains(l, " • ") { // not the help line
			t.Errorf("the page cuts a line: %q", l)
		}
	}
	term.Press("esc")
	term.WaitTitle(back)
}
