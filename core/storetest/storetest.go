// Package storetest is the conformance suite of core.Store: what core
// relies on from a store, as tests. The db package runs it against
// SQLite, core/memstore against its in-memory fake, and a new backend
// (PostgreSQL) runs it to show that it keeps the same promises.
//
// It tests one process, and two handles on one database where Opened
// gives them (Another): what two processes must see beyond that is the
// backend's own test.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/internal/testkit"
)

// Opened is a new, empty store under test and its hooks.
type Opened struct {
	Store core.Store
	// SetNow sets the clock the store stamps created and updated times
	// with.
	SetNow func(now func() time.Time)
	// CorruptToken damages the stored token in column (access_token,
	// refresh_token or id_token) of an account so that it cannot be
	// opened, as a damaged disk or a restore with another key would.
	CorruptToken func(t testing.TB, account, column string)
	// Another opens a second handle on the same database, with the same
	// key and its own connections, as another process would; it is
	// closed when the test ends. A store that lives in one process
	// returns itself.
	Another func(t testing.TB) core.Store
}

// t0 has nanoseconds that a store drops: it keeps milliseconds.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC)

// ms is t as stored: to the millisecond.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// Run runs the suite; open makes a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) Opened) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"ProfileRoundTrip", testProfileRoundTrip},
		{"ProfileNames", testProfileNames},
		{"ProfileUpdate", testProfileUpdate},
		{"ProfileDeleteInUse", testProfileDeleteInUse},
		{"UpdateIsOneTransaction", testUpdateIsOneTransaction},
		{"Accounts", testAccounts},
		{"RedirectURI", testRedirectURI},
		{"MissingSecrets", testMissingSecrets},
		{"DPoPSettings", testDPoPSettings},
		{"DiscoveryCache", testDiscoveryCache},
		{"TokenStateOfNewAccount", testTokenStateOfNewAccount},
		{"Leases", testLeases},
		{"LeaseHasOneHolder", testLeaseHasOneHolder},
		{"LeaseHasOneHolderAcrossHandles", testLeaseHasOneHolderAcrossHandles},
		{"NamesClashAcrossHandles", testNamesClashAcrossHandles},
		{"SecretsReadBackAcrossHandles", testSecretsReadBackAcrossHandles},
		{"SaveTokensKeepsRefreshToken", testSaveTokensKeepsRefreshToken},
		{"FailuresAndClear", testFailuresAndClear},
		{"DueTokenStates", testDueTokenStates},
		{"EachTokenState", testEachTokenState},
		{"AccountsNeedingSecrets", testAccountsNeedingSecrets},
		{"NextTokenWake", testNextTokenWake},
		{"RotationUnderLease", testRotationUnderLease},
		{"DamagedTokens", testDamagedTokens},
		{"CountAccounts", testCountAccounts},
		{"OverviewText", testOverviewText},
		{"OverviewNonASCII", testOverviewNonASCII},
		{"TokenStatePage", testTokenStatePage},
		{"OverviewDamaged", testOverviewDamaged},
		{"Settings", testSettings},
		{"ConfigVersion", testConfigVersion},
		{"Users", testUsers},
		{"Webservices", testWebservices},
		{"Credentials", testCredentials},
		{"DebugLog", testDebugLog},
		{"DebugRetention", testDebugRetention},
		{"ServeStatus", testServeStatus},
		{"PendingLogins", testPendingLogins},
		{"ProofIDs", testProofIDs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := open(t)
			e := &env{Opened: o, clock: testkit.Frozen(t0), ctx: context.Background()}
			o.SetNow(e.clock.Now)
			tc.fn(t, e)
		})
	}
}

type env struct {
	Opened
	clock *testkit.Clock
	ctx   context.Context
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isA[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

func (e *env) profile(t testing.TB, name string) core.Profile {
	t.Helper()
	p := core.NewProfile(name)
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "client-"+name
	must(t, e.Store.CreateProfile(e.ctx, p))
	return p
}

func (e *env) account(t testing.TB, name, profile string) {
	t.Helper()
	a := core.NewAccount(name, profile)
	a.Scopes = []string{"openid"}
	must(t, e.Store.CreateAccount(e.ctx, a))
}

func (e *env) webservice(t testing.TB, name string, kind core.WebserviceKind, ref string) {
	t.Helper()
	w := core.NewWebservice(name, kind)
	if kind == core.Provider {
		w.Profile, w.Route, w.Upstream, w.Methods = ref, "/", "http://127.0.0.1:1", []string{"GET"}
	} else {
		w.Account, w.Endpoint, w.Method = ref, "http://127.0.0.1:1", "GET"
	}
	must(t, e.Store.CreateWebservice(e.ctx, w))
}

func (e *env) version(t testing.TB) int64 {
	t.Helper()
	v, err := e.Store.ConfigVersion(e.ctx)
	must(t, err)
	return v
}

func (e *env) state(t testing.TB, account string) core.TokenState {
	t.Helper()
	st, err := e.Store.TokenState(e.ctx, account)
	must(t, err)
	return st
}

// A profile comes back as it was stored: every field, secrets in plain
// text, times to the millisecond from the store's clock; and what the
// caller gets never shares memory with what is stored.
func testProfileRoundTrip(t *testing.T, e *env) {
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "cid"
	p.ClientSecret, p.TLS.ClientKeyPassword = core.NewSecret("s3cret"), core.NewSecret("keypw")
	p.Scopes, p.InsecureHTTP, p.TokenAuthMethod, p.Introspect = []string{"a", "b"}, true, "client_secret_post", true
	p.Flavour, p.UIDClaim = core.FlavourKeycloak, "email"
	p.TLS.CAFile, p.TLS.SkipVerifyHostname = "/ca.pem", true
	p.Misc.UseNonce, p.Misc.Leeway = true, 7*time.Second
	p.RoleMap = core.RoleMap{"realm_access.roles": {"admin": "api"}}
	p.UserMap = core.UserMap{"email": core.UserField("Email")}
	p.Restrictions = core.Restrictions{UserLogin: "x", Scopes: []string{"s"}, Audiences: []string{"aud"}, AuthorizedParty: "azp", Tenants: []string{"t1", "t2"}}
	p.UserinfoClaims, p.LogTokenClaims = true, true
	p.AssertionAudience = core.AudienceIssuer
	p.ClientKeys = []core.ClientKey{
		{ID: "old", Algorithm: core.KeyRS256, PrivateKey: core.NewSecret("private-old"), CreatedAt: ms(t0.Add(-time.Hour))},
		{ID: "new", Algorithm: core.KeyES256, PrivateKey: core.NewSecret("private-new"), Certificate: "-----BEGIN CERTIFICATE-----", CreatedAt: ms(t0)},
	}
	must(t, e.Store.CreateProfile(e.ctx, p))
	got, err := e.Store.Profile(e.ctx, "op")
	must(t, err)
	want := p
	want.CreatedAt, want.UpdatedAt = ms(t0), ms(t0)
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) || got.ClientSecret.Reveal() != "s3cret" ||
		got.TLS.ClientKeyPassword.Reveal() != "keypw" || !got.CreatedAt.Equal(ms(t0)) {
		t.Fatalf("read back\n%#v\nwant\n%#v", got, want)
	}
	if len(got.ClientKeys) != 2 || got.ClientKeys[0].PrivateKey.Reveal() != "private-old" || got.ClientKeys[1].PrivateKey.Reveal() != "private-new" {
		t.Fatalf("client keys read back as %#v", got.ClientKeys)
	}
	got.Scopes[0], got.RoleMap["realm_access.roles"]["admin"], got.Restrictions.Audiences[0] = "x", "x", "x"
	got.ClientKeys[0].ID = "x"
	again, err := e.Store.Profile(e.ctx, "op")
	must(t, err)
	if again.Scopes[0] != "a" || again.RoleMap["realm_access.roles"]["admin"] != "api" || again.Restrictions.Audiences[0] != "aud" || again.ClientKeys[0].ID != "old" {
		t.Fatal("changing a profile read from the store changed the stored one")
	}
	p.Scopes[0] = "changed"
	again, _ = e.Store.Profile(e.ctx, "op")
	if again.Scopes[0] != "a" {
		t.Fatal("changing the value given to CreateProfile changed the stored one")
	}
}

// Names are exact, unique, and may not differ from another only in case;
// lists are ordered by name.
func testProfileNames(t *testing.T, e *env) {
	e.profile(t, "beta")
	e.profile(t, "Alpha")
	if err := e.Store.CreateProfile(e.ctx, core.NewProfile("beta")); !isA[*core.ExistsError](err) || !errors.Is(err, core.ErrExists) {
		t.Fatalf("create a second beta: %v, want *ExistsError", err)
	}
	if err := e.Store.CreateProfile(e.ctx, core.NewProfile("BETA")); !isA[*core.ValidationError](err) {
		t.Fatalf("create BETA beside beta: %v, want *ValidationError", err)
	}
	if _, err := e.Store.Profile(e.ctx, "Beta"); !isA[*core.NotFoundError](err) || !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("read Beta: %v, want *NotFoundError (names are exact)", err)
	}
	ps, err := e.Store.Profiles(e.ctx)
	must(t, err)
	if len(ps) != 2 || ps[0].Name != "Alpha" || ps[1].Name != "beta" {
		t.Fatalf("profiles %v, want Alpha, beta", ps)
	}
}

// Update* reads, lets fn change and writes back: fn's error leaves the
// profile as it was and comes back as it is; a rename is refused; the
// created time stays, the updated time comes from the clock.
func testProfileUpdate(t *testing.T, e *env) {
	e.profile(t, "op")
	e.clock.Set(t0.Add(time.Hour))
	stop := errors.New("stop")
	if _, err := e.Store.UpdateProfile(e.ctx, "op", func(p *core.Profile) error {
		p.ClientID = "changed"
		return stop
	}); err != stop {
		t.Fatalf("update whose fn fails: %v, want fn's error itself", err)
	}
	if p, _ := e.Store.Profile(e.ctx, "op"); p.ClientID != "client-op" {
		t.Fatalf("client id %q after a failed update", p.ClientID)
	}
	if _, err := e.Store.UpdateProfile(e.ctx, "op", func(p *core.Profile) error { p.Name = "other"; return nil }); !isA[*core.ValidationError](err) {
		t.Fatalf("rename: %v, want *ValidationError", err)
	}
	got, err := e.Store.UpdateProfile(e.ctx, "op", func(p *core.Profile) error {
		p.ClientSecret, p.CreatedAt = core.NewSecret("new"), time.Time{}
		return nil
	})
	must(t, err)
	read, _ := e.Store.Profile(e.ctx, "op")
	for _, p := range []core.Profile{got, read} {
		if !p.CreatedAt.Equal(ms(t0)) || !p.UpdatedAt.Equal(ms(t0.Add(time.Hour))) || p.ClientSecret.Reveal() != "new" {
			t.Fatalf("after update: created %v, updated %v, secret changed %v", p.CreatedAt, p.UpdatedAt, p.ClientSecret.Reveal() == "new")
		}
	}
	if _, err := e.Store.UpdateProfile(e.ctx, "nope", func(*core.Profile) error { return nil }); !isA[*core.NotFoundError](err) {
		t.Fatalf("update of a missing profile: %v", err)
	}
}

// A profile in use stays; the error names every user, accounts and
// webservices both.
func testProfileDeleteInUse(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "b-acc", "op")
	e.account(t, "a-acc", "op")
	e.webservice(t, "ws", core.Provider, "op")
	err := e.Store.DeleteProfile(e.ctx, "op")
	var inUse *core.InUseError
	if !errors.As(err, &inUse) || !errors.Is(err, core.ErrInUse) {
		t.Fatalf("delete a used profile: %v, want *InUseError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "a-acc, b-acc") || !strings.Contains(msg, "ws") {
		t.Fatalf("in-use error %q does not name every user in order", msg)
	}
	must(t, e.Store.DeleteWebservice(e.ctx, "ws"))
	must(t, e.Store.DeleteAccount(e.ctx, "a-acc"))
	must(t, e.Store.DeleteAccount(e.ctx, "b-acc"))
	must(t, e.Store.CacheDiscovery(e.ctx, "op", core.CachedDocument{URL: "u", Body: []byte("{}"), FetchedAt: t0}))
	must(t, e.Store.DeleteProfile(e.ctx, "op"))
	if _, err := e.Store.Profile(e.ctx, "op"); !isA[*core.NotFoundError](err) {
		t.Fatalf("profile after delete: %v", err)
	}
	// A new profile of that name starts without the old cached document.
	e.profile(t, "op")
	if _, err := e.Store.CachedDiscovery(e.ctx, "op"); !isA[*core.NotFoundError](err) {
		t.Fatalf("cached document of a deleted profile: %v", err)
	}
	if err := e.Store.DeleteProfile(e.ctx, "nope"); !isA[*core.NotFoundError](err) {
		t.Fatalf("delete a missing profile: %v", err)
	}
}

// Read-modify-write through Update* is one transaction: concurrent
// updates never lose one another's change.
func testUpdateIsOneTransaction(t *testing.T, e *env) {
	e.profile(t, "op")
	must(t, e.Store.CreateUser(e.ctx, core.User{Login: "u"}))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			_, err := e.Store.UpdateProfile(e.ctx, "op", func(p *core.Profile) error {
				p.Misc.RandLength++
				return nil
			})
			errs <- err
		})
		wg.Go(func() {
			_, err := e.Store.UpdateUser(e.ctx, "u", func(u *core.User) error {
				u.Roles = append(u.Roles, fmt.Sprintf("r%02d", i))
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	p, _ := e.Store.Profile(e.ctx, "op")
	u, _ := e.Store.User(e.ctx, "u")
	if p.Misc.RandLength != core.DefaultRandLength+n || len(u.Roles) != n {
		t.Fatalf("after %d concurrent updates: rand length %d, %d roles; updates were lost", n, p.Misc.RandLength, len(u.Roles))
	}
}

func testAccounts(t *testing.T, e *env) {
	e.profile(t, "op")
	e.profile(t, "op2")
	if err := e.Store.CreateAccount(e.ctx, core.NewAccount("acc", "nope")); !isA[*core.NotFoundError](err) {
		t.Fatalf("account of a missing profile: %v", err)
	}
	a := core.NewAccount("acc", "op")
	a.GrantType, a.Username, a.Password = core.GrantPassword, "user", core.NewSecret("pw")
	a.Scopes, a.Resources = []string{"openid", "offline_access"}, []string{"https://api"}
	must(t, e.Store.CreateAccount(e.ctx, a))
	e.account(t, "b", "op2")
	if err := e.Store.CreateAccount(e.ctx, core.NewAccount("ACC", "op")); !isA[*core.ValidationError](err) {
		t.Fatalf("ACC beside acc: %v", err)
	}
	got, err := e.Store.Account(e.ctx, "acc")
	must(t, err)
	want := a
	want.CreatedAt, want.UpdatedAt = ms(t0), ms(t0)
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) || got.Password.Reveal() != "pw" {
		t.Fatalf("read back\n%#v\nwant\n%#v", got, want)
	}
	for _, c := range []struct {
		profile string
		want    []string
	}{{"", []string{"acc", "b"}}, {"op", []string{"acc"}}, {"op2", []string{"b"}}} {
		as, err := e.Store.Accounts(e.ctx, c.profile)
		must(t, err)
		var names []string
		for _, a := range as {
			names = append(names, a.Name)
		}
		if !slices.Equal(names, c.want) {
			t.Fatalf("accounts of %q: %v, want %v", c.profile, names, c.want)
		}
	}
	if _, err := e.Store.Accounts(e.ctx, "nope"); !isA[*core.NotFoundError](err) {
		t.Fatalf("accounts of a missing profile: %v", err)
	}
	// An account may move to another existing profile, not to a missing one.
	if _, err := e.Store.UpdateAccount(e.ctx, "acc", func(a *core.Account) error { a.Profile = "nope"; return nil }); !isA[*core.NotFoundError](err) {
		t.Fatalf("move to a missing profile: %v", err)
	}
	if _, err := e.Store.UpdateAccount(e.ctx, "acc", func(a *core.Account) error { a.Profile = "op2"; return nil }); err != nil {
		t.Fatal(err)
	}
	if as, _ := e.Store.Accounts(e.ctx, "op2"); len(as) != 2 {
		t.Fatalf("op2 has %d accounts after the move", len(as))
	}
	if st := e.state(t, "acc"); st.Profile != "op2" {
		t.Fatalf("token state says profile %q after the move", st.Profile)
	}
	// Its webservices keep an account; deleting it takes its tokens.
	e.webservice(t, "ws", core.Requester, "acc")
	if err := e.Store.DeleteAccount(e.ctx, "acc"); !isA[*core.InUseError](err) || !strings.Contains(err.Error(), "ws") {
		t.Fatalf("delete an account in use: %v", err)
	}
	must(t, e.Store.DeleteWebservice(e.ctx, "ws"))
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("at")}))
	must(t, e.Store.DeleteAccount(e.ctx, "acc"))
	e.account(t, "acc", "op")
	if st := e.state(t, "acc"); st.Tokens.AccessToken.IsSet() {
		t.Fatal("a new account of a deleted one's name has its tokens")
	}
}

// A profile's and an account's redirect URIs are kept, changed and
// cleared.
func testRedirectURI(t *testing.T, e *env) {
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "cid"
	p.RedirectURI = "http://localhost:8400/cb"
	must(t, e.Store.CreateProfile(e.ctx, p))
	a := core.NewAccount("acc", "op")
	a.GrantType, a.Scopes = core.GrantAuthorizationCode, []string{"openid"}
	a.RedirectURI = "http://[::1]:9/login/done"
	must(t, e.Store.CreateAccount(e.ctx, a))
	e.account(t, "plain", "op")
	gotP, err := e.Store.Profile(e.ctx, "op")
	must(t, err)
	gotA, err := e.Store.Account(e.ctx, "acc")
	must(t, err)
	plain, err := e.Store.Account(e.ctx, "plain")
	must(t, err)
	if gotP.RedirectURI != p.RedirectURI || gotA.RedirectURI != a.RedirectURI || plain.RedirectURI != "" {
		t.Fatalf("read back profile %q, account %q, plain account %q", gotP.RedirectURI, gotA.RedirectURI, plain.RedirectURI)
	}
	_, err = e.Store.UpdateProfile(e.ctx, "op", func(p *core.Profile) error { p.RedirectURI = ""; return nil })
	must(t, err)
	_, err = e.Store.UpdateAccount(e.ctx, "acc", func(a *core.Account) error { a.RedirectURI = "http://127.0.0.1/other"; return nil })
	must(t, err)
	gotP, _ = e.Store.Profile(e.ctx, "op")
	gotA, _ = e.Store.Account(e.ctx, "acc")
	if gotP.RedirectURI != "" || gotA.RedirectURI != "http://127.0.0.1/other" {
		t.Fatalf("after update: profile %q, account %q", gotP.RedirectURI, gotA.RedirectURI)
	}
}

// A profile's and an account's missing secrets (imported without them)
// are kept, changed and cleared.
func testMissingSecrets(t *testing.T, e *env) {
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "cid"
	p.MissingSecrets = []string{core.SecretClientSecret}
	must(t, e.Store.CreateProfile(e.ctx, p))
	a := core.NewAccount("acc", "op")
	a.GrantType, a.Username, a.Scopes = core.GrantPassword, "svc", []string{"openid"}
	a.MissingSecrets = []string{core.SecretPassword}
	must(t, e.Store.CreateAccount(e.ctx, a))
	e.account(t, "plain", "op")
	gotP, err := e.Store.Profile(e.ctx, "op")
	must(t, err)
	gotA, err := e.Store.Account(e.ctx, "acc")
	must(t, err)
	plain, err := e.Store.Account(e.ctx, "plain")
	must(t, err)
	if !slices.Equal(gotP.MissingSecrets, p.MissingSecrets) || !slices.Equal(gotA.MissingSecrets, a.MissingSecrets) || plain.MissingSecrets != nil {
		t.Fatalf("read back profile %q, account %q, plain account %q", gotP.MissingSecrets, gotA.MissingSecrets, plain.MissingSecrets)
	}
	_, err = e.Store.UpdateAccount(e.ctx, "acc", func(a *core.Account) error {
		a.Password, a.MissingSecrets = core.NewSecret("pw"), nil
		return nil
	})
	must(t, err)
	_, err = e.Store.UpdateProfile(e.ctx, "op", func(p *core.Profile) error {
		p.MissingSecrets = append(p.MissingSecrets, core.SecretClientKeyPassword)
		return nil
	})
	must(t, err)
	gotP, _ = e.Store.Profile(e.ctx, "op")
	gotA, _ = e.Store.Account(e.ctx, "acc")
	if want := []string{core.SecretClientSecret, core.SecretClientKeyPassword}; !slices.Equal(gotP.MissingSecrets, want) || gotA.MissingSecrets != nil {
		t.Fatalf("after update: profile %q, account %q", gotP.MissingSecrets, gotA.MissingSecrets)
	}
}

func testDiscoveryCache(t *testing.T, e *env) {
	if _, err := e.Store.CachedDiscovery(e.ctx, "op"); !isA[*core.NotFoundError](err) {
		t.Fatalf("cache of a missing profile: %v", err)
	}
	if err := e.Store.CacheDiscovery(e.ctx, "op", core.CachedDocument{}); !isA[*core.NotFoundError](err) {
		t.Fatalf("caching for a missing profile: %v", err)
	}
	e.profile(t, "op")
	_, err := e.Store.CachedDiscovery(e.ctx, "op")
	var nf *core.NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "discovery document" {
		t.Fatalf("nothing cached yet: %v, want NotFoundError of a discovery document", err)
	}
	for _, body := range []string{`{"issuer":"a"}`, `{"issuer":"b"}`} {
		must(t, e.Store.CacheDiscovery(e.ctx, "op", core.CachedDocument{URL: "https://op/x", Body: []byte(body), FetchedAt: t0}))
		doc, err := e.Store.CachedDiscovery(e.ctx, "op")
		must(t, err)
		if string(doc.Body) != body || doc.URL != "https://op/x" || !doc.FetchedAt.Equal(ms(t0)) {
			t.Fatalf("cached %q at %v, want %q at %v", doc.Body, doc.FetchedAt, body, ms(t0))
		}
	}
}

func testTokenStateOfNewAccount(t *testing.T, e *env) {
	if _, err := e.Store.TokenState(e.ctx, "acc"); !isA[*core.NotFoundError](err) {
		t.Fatalf("state of a missing account: %v", err)
	}
	e.profile(t, "op")
	e.account(t, "b", "op")
	e.account(t, "a", "op")
	st := e.state(t, "a")
	want := core.TokenState{Account: "a", Profile: "op", GrantType: core.GrantClientCredentials}
	if fmt.Sprintf("%#v", st) != fmt.Sprintf("%#v", want) || st.Status(t0) != core.StateNone {
		t.Fatalf("state of a new account %#v", st)
	}
	sts, err := e.Store.TokenStates(e.ctx)
	must(t, err)
	if len(sts) != 2 || sts[0].Account != "a" || sts[1].Account != "b" {
		t.Fatalf("token states %v, want a, b", sts)
	}
	for _, err := range []error{
		e.Store.SaveTokens(e.ctx, "nope", "", core.TokenSet{}),
		e.Store.RecordFailure(e.ctx, "nope", "", core.Failure{}),
		e.Store.ReleaseLease(e.ctx, "nope", "x"),
		e.Store.ClearTokens(e.ctx, "nope"),
	} {
		if !isA[*core.NotFoundError](err) {
			t.Fatalf("token write of a missing account: %v", err)
		}
	}
	if _, _, err := e.Store.AcquireLease(e.ctx, "nope", "x", t0, t0); !isA[*core.NotFoundError](err) {
		t.Fatalf("lease of a missing account: %v", err)
	}
}

// One owner at a time holds an account's lease until it expires, saves,
// fails or releases it.
func testLeases(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	until := t0.Add(time.Minute)
	if _, _, err := e.Store.AcquireLease(e.ctx, "acc", "", t0, until); err == nil {
		t.Fatal("a lease without an owner was given")
	}
	st, ok, err := e.Store.AcquireLease(e.ctx, "acc", "a", t0, until)
	must(t, err)
	if !ok || st.LeaseOwner != "a" || !st.LeaseUntil.Equal(ms(until)) {
		t.Fatalf("first lease: ok %v, %q until %v", ok, st.LeaseOwner, st.LeaseUntil)
	}
	if st, ok, _ := e.Store.AcquireLease(e.ctx, "acc", "b", t0.Add(59*time.Second), until.Add(time.Minute)); ok || st.LeaseOwner != "a" {
		t.Fatalf("b took a's lease before it expired (ok %v, owner %q)", ok, st.LeaseOwner)
	}
	if _, ok, _ := e.Store.AcquireLease(e.ctx, "acc", "a", t0, until.Add(time.Minute)); !ok {
		t.Fatal("the holder could not extend its lease")
	}
	if st, ok, _ := e.Store.AcquireLease(e.ctx, "acc", "b", until.Add(time.Minute), until.Add(2*time.Minute)); !ok || st.LeaseOwner != "b" {
		t.Fatal("b could not take a lease that expired")
	}
	// Saving as another owner keeps b's lease; b's save releases it.
	must(t, e.Store.SaveTokens(e.ctx, "acc", "a", core.TokenSet{AccessToken: core.NewSecret("at1")}))
	if st := e.state(t, "acc"); st.LeaseOwner != "b" {
		t.Fatalf("a's save released b's lease (owner %q)", st.LeaseOwner)
	}
	must(t, e.Store.SaveTokens(e.ctx, "acc", "b", core.TokenSet{AccessToken: core.NewSecret("at2")}))
	if st := e.state(t, "acc"); st.LeaseOwner != "" || !st.LeaseUntil.IsZero() {
		t.Fatalf("lease %q until %v after its holder saved", st.LeaseOwner, st.LeaseUntil)
	}
	// A failure releases it too, and so does ReleaseLease, for its holder only.
	_, _, _ = e.Store.AcquireLease(e.ctx, "acc", "c", t0, until)
	must(t, e.Store.RecordFailure(e.ctx, "acc", "c", core.Failure{Err: "x"}))
	if st := e.state(t, "acc"); st.LeaseOwner != "" {
		t.Fatalf("lease %q after its holder failed", st.LeaseOwner)
	}
	_, _, _ = e.Store.AcquireLease(e.ctx, "acc", "d", t0, until)
	must(t, e.Store.ReleaseLease(e.ctx, "acc", "e"))
	if st := e.state(t, "acc"); st.LeaseOwner != "d" {
		t.Fatalf("e released d's lease")
	}
	must(t, e.Store.ReleaseLease(e.ctx, "acc", "d"))
	if st := e.state(t, "acc"); st.LeaseOwner != "" {
		t.Fatalf("lease %q after release", st.LeaseOwner)
	}
	// Clearing the tokens leaves a lease alone.
	_, _, _ = e.Store.AcquireLease(e.ctx, "acc", "f", t0, until)
	must(t, e.Store.ClearTokens(e.ctx, "acc"))
	if st := e.state(t, "acc"); st.LeaseOwner != "f" {
		t.Fatalf("clearing tokens dropped the lease")
	}
}

// Of many owners asking at once, exactly one gets the lease.
func testLeaseHasOneHolder(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	const n = 16
	var wg sync.WaitGroup
	won := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			owner := fmt.Sprintf("owner-%d", i)
			_, ok, err := e.Store.AcquireLease(e.ctx, "acc", owner, t0, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				won <- owner
			}
		})
	}
	wg.Wait()
	close(won)
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 || e.state(t, "acc").LeaseOwner != winners[0] {
		t.Fatalf("winners %v", winners)
	}
}

// Of owners asking at once through two handles on one database (two
// processes, two connection pools), exactly one gets the lease, and both
// handles see that one hold it.
func testLeaseHasOneHolderAcrossHandles(t *testing.T, e *env) {
	e.profile(t, "op")
	other := e.Another(t)
	handles := []core.Store{e.Store, other}
	const accounts, n = 8, 8
	for a := range accounts {
		e.account(t, fmt.Sprintf("acc%d", a), "op")
	}
	for a := range accounts {
		account := fmt.Sprintf("acc%d", a)
		var wg sync.WaitGroup
		won := make(chan string, n)
		for i := range n {
			wg.Go(func() {
				owner := fmt.Sprintf("owner-%d", i)
				_, ok, err := handles[i%2].AcquireLease(e.ctx, account, owner, t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					won <- owner
				}
			})
		}
		wg.Wait()
		close(won)
		var winners []string
		for w := range won {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("%s: winners %v, want exactly one", account, winners)
		}
		for h, s := range handles {
			st, err := s.TokenState(e.ctx, account)
			must(t, err)
			if st.LeaseOwner != winners[0] {
				t.Fatalf("%s: handle %d sees the lease held by %q, want %q", account, h, st.LeaseOwner, winners[0])
			}
		}
	}
}

// Names that differ only in case, created at once through two handles:
// exactly one is stored, the other refused as a clash, not as an error of
// the database.
func testNamesClashAcrossHandles(t *testing.T, e *env) {
	other := e.Another(t)
	for round := range 8 {
		lower, upper := fmt.Sprintf("base%d", round), fmt.Sprintf("BASE%d", round)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		wg.Go(func() { errs[0] = e.Store.CreateProfile(e.ctx, core.NewProfile(lower)) })
		wg.Go(func() { errs[1] = other.CreateProfile(e.ctx, core.NewProfile(upper)) })
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !isA[*core.ValidationError](err) && !isA[*core.ExistsError](err):
				t.Fatalf("round %d: %v, want *ValidationError or *ExistsError", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %s and %s stored (%v), want exactly one", round, ok, lower, upper, errs)
		}
	}
	ps, err := other.Profiles(e.ctx)
	must(t, err)
	if len(ps) != 8 {
		t.Fatalf("%d profiles, want 8", len(ps))
	}
}

// Secrets written through one handle read back in plain text through
// another: both seal and open with the database's key, and what is stored
// is the sealed form of exactly what was given.
func testSecretsReadBackAcrossHandles(t *testing.T, e *env) {
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "cid"
	p.ClientSecret, p.TLS.ClientKeyPassword = core.NewSecret("client-sécret ✓"), core.NewSecret("key-pw")
	must(t, e.Store.CreateProfile(e.ctx, p))
	a := core.NewAccount("acc", "op")
	a.GrantType, a.Username, a.Password = core.GrantPassword, "svc", core.NewSecret("pass word\t1")
	must(t, e.Store.CreateAccount(e.ctx, a))
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{
		AccessToken: core.NewSecret("at-1"), RefreshToken: core.NewSecret("rt-1"), IDToken: core.NewSecret("id-1"),
	}))
	other := e.Another(t)
	gp, err := other.Profile(e.ctx, "op")
	must(t, err)
	ga, err := other.Account(e.ctx, "acc")
	must(t, err)
	st, err := other.TokenState(e.ctx, "acc")
	must(t, err)
	for _, c := range []struct {
		what      string
		got, want core.Secret
	}{
		{"client secret", gp.ClientSecret, p.ClientSecret},
		{"key password", gp.TLS.ClientKeyPassword, p.TLS.ClientKeyPassword},
		{"account password", ga.Password, a.Password},
		{"access token", st.Tokens.AccessToken, core.NewSecret("at-1")},
		{"refresh token", st.Tokens.RefreshToken, core.NewSecret("rt-1")},
		{"id token", st.Tokens.IDToken, core.NewSecret("id-1")},
	} {
		if c.got.Reveal() != c.want.Reveal() {
			t.Errorf("%s read through the other handle differs from what was stored", c.what)
		}
	}
	if st.Damaged != nil {
		t.Errorf("damaged: %v", st.Damaged)
	}
}

// A token set without a refresh token keeps the stored one with its
// expiry; one with a refresh token replaces both. A save clears the last
// failure.
func testSaveTokensKeepsRefreshToken(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	first := core.TokenSet{
		AccessToken: core.NewSecret("at1"), RefreshToken: core.NewSecret("rt1"), IDToken: core.NewSecret("id1"),
		TokenType: "Bearer", Expiry: t0.Add(time.Hour), RefreshExpiry: t0.Add(24 * time.Hour),
		Scope: "openid offline_access", ObtainedAt: t0,
	}
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", first))
	st := e.state(t, "acc")
	want := first
	want.Expiry, want.RefreshExpiry, want.ObtainedAt = ms(first.Expiry), ms(first.RefreshExpiry), ms(t0)
	if fmt.Sprintf("%#v", st.Tokens) != fmt.Sprintf("%#v", want) || st.Tokens.RefreshToken.Reveal() != "rt1" ||
		st.Tokens.IDToken.Reveal() != "id1" || !st.LastSuccess.Equal(ms(t0)) || st.Status(t0) != core.StateValid {
		t.Fatalf("stored\n%#v\nwant\n%#v", st.Tokens, want)
	}
	must(t, e.Store.RecordFailure(e.ctx, "acc", "", core.Failure{Err: "boom", NextAttempt: t0.Add(time.Minute), NeedsAuthorization: true}))
	e.clock.Set(t0.Add(time.Minute))
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("at2"), Expiry: t0.Add(2 * time.Hour)}))
	st = e.state(t, "acc")
	if st.Tokens.AccessToken.Reveal() != "at2" || st.Tokens.RefreshToken.Reveal() != "rt1" ||
		!st.Tokens.RefreshExpiry.Equal(ms(first.RefreshExpiry)) || st.Tokens.IDToken.IsSet() {
		t.Fatalf("after a save without a refresh token: access %q, refresh %q until %v, id token set %v",
			st.Tokens.AccessToken.Reveal(), st.Tokens.RefreshToken.Reveal(), st.Tokens.RefreshExpiry, st.Tokens.IDToken.IsSet())
	}
	if st.LastError != "" || !st.LastErrorAt.IsZero() || st.Failures != 0 || !st.NextAttempt.IsZero() || st.NeedsAuthorization {
		t.Fatalf("a save left the failure: %+v", st)
	}
	if !st.LastSuccess.Equal(ms(t0.Add(time.Minute))) {
		t.Fatalf("last success %v: without ObtainedAt it is the store's clock", st.LastSuccess)
	}
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("at3"), RefreshToken: core.NewSecret("rt2")}))
	if st := e.state(t, "acc"); st.Tokens.RefreshToken.Reveal() != "rt2" || !st.Tokens.RefreshExpiry.IsZero() {
		t.Fatalf("a new refresh token: %q until %v", st.Tokens.RefreshToken.Reveal(), st.Tokens.RefreshExpiry)
	}
}

// Failures add up and keep the tokens; ClearTokens forgets everything.
func testFailuresAndClear(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("at"), RefreshToken: core.NewSecret("rt"), ObtainedAt: t0}))
	e.clock.Set(t0.Add(time.Second))
	must(t, e.Store.RecordFailure(e.ctx, "acc", "", core.Failure{Err: "one"}))
	must(t, e.Store.RecordFailure(e.ctx, "acc", "", core.Failure{Err: "two", At: t0.Add(time.Hour), NextAttempt: t0.Add(2 * time.Hour)}))
	st := e.state(t, "acc")
	if st.LastError != "two" || st.Failures != 2 || !st.LastErrorAt.Equal(ms(t0.Add(time.Hour))) ||
		!st.NextAttempt.Equal(ms(t0.Add(2*time.Hour))) || st.Tokens.AccessToken.Reveal() != "at" || st.Status(t0) != core.StateFailing {
		t.Fatalf("after two failures: %+v", st)
	}
	must(t, e.Store.RecordFailure(e.ctx, "acc", "", core.Failure{Err: "three", NeedsAuthorization: true}))
	if st := e.state(t, "acc"); !st.NeedsAuthorization || !st.NextAttempt.IsZero() || !st.LastErrorAt.Equal(ms(t0.Add(time.Second))) {
		t.Fatalf("a failure without a time or next attempt: %+v", st)
	}
	must(t, e.Store.ClearTokens(e.ctx, "acc"))
	st = e.state(t, "acc")
	want := core.TokenState{Account: "acc", Profile: "op", GrantType: core.GrantClientCredentials}
	if fmt.Sprintf("%#v", st) != fmt.Sprintf("%#v", want) {
		t.Fatalf("after clear: %#v", st)
	}
}

// DueTokenStates finds exactly the accounts whose tokens run out before
// the horizon, or that have none, leaving out those held back or needing
// a person; with their whole state, in name order.
func testDueTokenStates(t *testing.T, e *env) {
	e.profile(t, "op")
	before := t0.Add(time.Hour)
	save := func(name string, set core.TokenSet) {
		t.Helper()
		e.account(t, name, "op")
		must(t, e.Store.SaveTokens(e.ctx, name, "", set))
	}
	at := func(s string) core.Secret { return core.NewSecret("at-" + s) }
	e.account(t, "new", "op") // no tokens yet: due
	save("fresh", core.TokenSet{AccessToken: at("fresh"), Expiry: t0.Add(3 * time.Hour), ObtainedAt: t0})
	save("soon", core.TokenSet{AccessToken: at("soon"), Expiry: t0.Add(30 * time.Minute), ObtainedAt: t0})
	save("edge", core.TokenSet{AccessToken: at("edge"), Expiry: before, ObtainedAt: t0}) // not before before
	save("refresh-soon", core.TokenSet{AccessToken: at("rs"), RefreshToken: core.NewSecret("rt"),
		Expiry: t0.Add(3 * time.Hour), RefreshExpiry: t0.Add(59 * time.Minute), ObtainedAt: t0})
	save("no-expiry", core.TokenSet{AccessToken: at("ne"), ObtainedAt: t0})
	save("cleared", core.TokenSet{AccessToken: at("cl"), Expiry: t0.Add(3 * time.Hour)})
	must(t, e.Store.ClearTokens(e.ctx, "cleared"))
	e.account(t, "failed-empty", "op") // a failure, no tokens: due
	must(t, e.Store.RecordFailure(e.ctx, "failed-empty", "", core.Failure{Err: "x", At: t0}))
	save("person", core.TokenSet{AccessToken: at("p"), Expiry: t0.Add(time.Minute)})
	must(t, e.Store.RecordFailure(e.ctx, "person", "", core.Failure{Err: "x", At: t0, NeedsAuthorization: true}))
	save("backoff", core.TokenSet{AccessToken: at("b"), Expiry: t0.Add(time.Minute)})
	must(t, e.Store.RecordFailure(e.ctx, "backoff", "", core.Failure{Err: "x", At: t0, NextAttempt: t0.Add(10 * time.Minute)}))
	save("leased", core.TokenSet{AccessToken: at("l"), Expiry: t0.Add(time.Minute)})
	if _, ok, err := e.Store.AcquireLease(e.ctx, "leased", "other", t0, t0.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	names := func(now time.Time) []string {
		t.Helper()
		sts, err := e.Store.DueTokenStates(e.ctx, now, before)
		must(t, err)
		var out []string
		for _, st := range sts {
			out = append(out, st.Account)
			if want := e.state(t, st.Account); fmt.Sprintf("%#v", st) != fmt.Sprintf("%#v", want) {
				t.Errorf("due state of %s:\n%#v\nwant\n%#v", st.Account, st, want)
			}
		}
		return out
	}
	want := []string{"cleared", "failed-empty", "leased", "new", "refresh-soon", "soon"}
	if got := names(t0); !slices.Equal(got, want) {
		t.Fatalf("due at t0: %v, want %v", got, want)
	}
	// Once its back-off ends, the held back account is due too.
	want = []string{"backoff", "cleared", "failed-empty", "leased", "new", "refresh-soon", "soon"}
	if got := names(t0.Add(10 * time.Minute)); !slices.Equal(got, want) {
		t.Fatalf("due after the back-off: %v, want %v", got, want)
	}
}

// EachTokenState gives what TokenStates gives, one at a time, and stops
// at fn's first error, which it returns as it is.
func testEachTokenState(t *testing.T, e *env) {
	e.profile(t, "op")
	for _, name := range []string{"c", "a", "b"} {
		e.account(t, name, "op")
	}
	must(t, e.Store.SaveTokens(e.ctx, "b", "", core.TokenSet{AccessToken: core.NewSecret("at-b"), Expiry: t0, ObtainedAt: t0}))
	must(t, e.Store.RecordFailure(e.ctx, "c", "", core.Failure{Err: "x", At: t0}))
	want, err := e.Store.TokenStates(e.ctx)
	must(t, err)
	var got []core.TokenState
	must(t, e.Store.EachTokenState(e.ctx, func(st core.TokenState) error {
		got = append(got, st)
		return nil
	}))
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Fatalf("EachTokenState:\n%#v\nTokenStates:\n%#v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err = e.Store.EachTokenState(e.ctx, func(core.TokenState) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("fn's error: %v after %d calls, want it as it is after 1", err, n)
	}
}

// AccountsNeedingSecrets gives the accounts that lack a secret, and the
// accounts of a profile that lacks one, as Accounts gives them; not the
// others, even where a scope or a user map's claim spells the settings'
// key.
func testAccountsNeedingSecrets(t *testing.T, e *env) {
	e.profile(t, "op")
	p := core.NewProfile("imported")
	p.DiscoveryURL, p.ClientID = "https://idp.example/.well-known/openid-configuration", "c"
	p.MissingSecrets = []string{core.SecretClientSecret}
	must(t, e.Store.CreateProfile(e.ctx, p))
	for _, name := range []string{"c", "a", "b"} {
		e.account(t, name, "op")
	}
	tricky := core.NewAccount("tricky", "op")
	tricky.Scopes = []string{`"missing_secrets"`}
	must(t, e.Store.CreateAccount(e.ctx, tricky))
	// A claim of that name in a user map is no missing secret.
	claim := core.NewProfile("claim")
	claim.DiscoveryURL, claim.ClientID, claim.ClientSecret = p.DiscoveryURL, "c", core.NewSecret("s")
	claim.UserMap = core.UserMap{"missing_secrets": "Email"}
	must(t, e.Store.CreateProfile(e.ctx, claim))
	e.account(t, "claimed", "claim")
	e.account(t, "orphan", "imported")
	a := core.NewAccount("pw", "op")
	a.GrantType, a.Username, a.Password = core.GrantPassword, "alice", core.NewSecret("hunter2")
	a.MissingSecrets = []string{core.SecretPassword}
	must(t, e.Store.CreateAccount(e.ctx, a))

	got, err := e.Store.AccountsNeedingSecrets(e.ctx)
	must(t, err)
	all, err := e.Store.Accounts(e.ctx, "")
	must(t, err)
	var want []core.Account
	for _, a := range all {
		if a.Name == "orphan" || a.Name == "pw" {
			want = append(want, a)
		}
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) || len(got) != 2 {
		t.Fatalf("AccountsNeedingSecrets:\n%#v\nwant:\n%#v", got, want)
	}
	if got[1].Password.Reveal() != "hunter2" || !slices.Equal(got[1].MissingSecrets, []string{core.SecretPassword}) {
		t.Fatalf("pw as read: password set %v, missing %v", got[1].Password.IsSet(), got[1].MissingSecrets)
	}
}

// NextTokenWake is the earliest retry of a failed account or end of
// another owner's lease, within (now, before).
func testNextTokenWake(t *testing.T, e *env) {
	e.profile(t, "op")
	wake := func(now, before time.Time) time.Time {
		t.Helper()
		at, err := e.Store.NextTokenWake(e.ctx, "me", now, before)
		must(t, err)
		return at
	}
	if at := wake(t0, t0.Add(time.Hour)); !at.IsZero() {
		t.Fatalf("wake without accounts: %v", at)
	}
	for _, name := range []string{"backoff", "person", "mine", "theirs"} {
		e.account(t, name, "op")
	}
	must(t, e.Store.RecordFailure(e.ctx, "backoff", "", core.Failure{Err: "x", At: t0, NextAttempt: t0.Add(10 * time.Minute)}))
	must(t, e.Store.RecordFailure(e.ctx, "person", "", core.Failure{Err: "x", At: t0, NextAttempt: t0.Add(time.Minute), NeedsAuthorization: true}))
	for _, l := range []struct {
		account, owner string
		until          time.Duration
	}{{"mine", "me", 2 * time.Minute}, {"theirs", "other", 7 * time.Minute}} {
		if _, ok, err := e.Store.AcquireLease(e.ctx, l.account, l.owner, t0, t0.Add(l.until)); err != nil || !ok {
			t.Fatalf("lease %s: %v %v", l.account, ok, err)
		}
	}
	for _, tc := range []struct {
		now, before time.Duration
		want        time.Duration // 0: none
	}{
		{0, time.Hour, 7 * time.Minute},                // the other's lease; not mine, not the person's
		{0, 7 * time.Minute, 0},                        // before is excluded
		{7 * time.Minute, time.Hour, 10 * time.Minute}, // after the lease: the retry
		{10 * time.Minute, time.Hour, 0},               // nothing after now
		{0, 10*time.Minute + time.Millisecond, 7 * time.Minute},
	} {
		got := wake(t0.Add(tc.now), t0.Add(tc.before))
		if tc.want == 0 && !got.IsZero() || tc.want != 0 && !got.Equal(ms(t0.Add(tc.want))) {
			t.Errorf("wake in (t0+%s, t0+%s) = %v, want t0+%s", tc.now, tc.before, got, tc.want)
		}
	}
}

// The refresh protocol core runs (lease, read, save, all from several
// goroutines) hands every refresh token on exactly once: a holder always
// reads the refresh token the previous holder saved.
func testRotationUnderLease(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("a"), RefreshToken: core.NewSecret("rt-0")}))
	const workers, rounds = 4, 10
	var (
		mu   sync.Mutex
		used = map[string]bool{}
		next = 1
		wg   sync.WaitGroup
		// failed stops the others when one worker fails: it may hold
		// the lease, which the frozen clock never expires, and they
		// would wait for it until the test times out.
		failed atomic.Bool
	)
	for w := range workers {
		wg.Go(func() {
			owner := fmt.Sprintf("w%d", w)
			for done := 0; done < rounds; {
				if failed.Load() {
					return
				}
				st, ok, err := e.Store.AcquireLease(e.ctx, "acc", owner, t0, t0.Add(time.Hour))
				if err != nil {
					failed.Store(true)
					t.Error(err)
					return
				}
				if !ok {
					// Back off, as the token manager does, rather than
					// take the write lock in a loop: three workers that
					// spin starve the holder's save on SQLite past its
					// busy timeout under -race on a busy machine.
					time.Sleep(time.Millisecond)
					continue
				}
				mu.Lock()
				rt := st.Tokens.RefreshToken.Reveal()
				reused := used[rt]
				used[rt] = true
				n := next
				next++
				mu.Unlock()
				if reused {
					t.Errorf("%s read refresh token %s that was already used", owner, rt)
				}
				err = e.Store.SaveTokens(e.ctx, "acc", owner, core.TokenSet{
					AccessToken: core.NewSecret("a"), RefreshToken: core.NewSecret(fmt.Sprintf("rt-%d", n)),
				})
				if err != nil {
					failed.Store(true)
					t.Error(err)
					return
				}
				done++
			}
		})
	}
	wg.Wait()
	if len(used) != workers*rounds {
		t.Fatalf("%d distinct refresh tokens used, want %d", len(used), workers*rounds)
	}
}

// Stored tokens that cannot be opened are reported in Damaged, not as an
// error; the others are there; saving replaces them; a damaged refresh
// token is dropped by a save that brings none.
func testDamagedTokens(t *testing.T, e *env) {
	if e.CorruptToken == nil {
		t.Fatal("storetest: Opened.CorruptToken is required")
	}
	e.profile(t, "op")
	e.account(t, "acc", "op")
	e.account(t, "other", "op")
	set := core.TokenSet{AccessToken: core.NewSecret("at"), RefreshToken: core.NewSecret("rt"), IDToken: core.NewSecret("id"),
		RefreshExpiry: t0.Add(time.Hour)}
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", set))
	must(t, e.Store.SaveTokens(e.ctx, "other", "", set))
	e.CorruptToken(t, "acc", "access_token")
	st := e.state(t, "acc")
	if st.Damaged == nil || !strings.Contains(st.Damaged.Error(), "access_token cannot be opened") ||
		st.Tokens.AccessToken.IsSet() || st.Tokens.RefreshToken.Reveal() != "rt" || st.Status(t0) != core.StateDamaged {
		t.Fatalf("damaged access token: damaged %v, refresh %q", st.Damaged, st.Tokens.RefreshToken.Reveal())
	}
	sts, err := e.Store.TokenStates(e.ctx)
	must(t, err)
	if len(sts) != 2 || sts[0].Damaged == nil || sts[1].Damaged != nil || sts[1].Tokens.AccessToken.Reveal() != "at" {
		t.Fatalf("one damaged account hides or harms another: %+v", sts)
	}
	// A save that brings a refresh token replaces all.
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", set))
	if st := e.state(t, "acc"); st.Damaged != nil || st.Tokens.AccessToken.Reveal() != "at" {
		t.Fatalf("after a save: damaged %v", st.Damaged)
	}
	// A damaged refresh token is not kept by a save without one.
	e.CorruptToken(t, "acc", "refresh_token")
	must(t, e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("at2")}))
	if st := e.state(t, "acc"); st.Damaged != nil || st.Tokens.RefreshToken.IsSet() || !st.Tokens.RefreshExpiry.IsZero() {
		t.Fatalf("damaged refresh token kept: damaged %v, expiry %v", st.Damaged, st.Tokens.RefreshExpiry)
	}
}

func testSettings(t *testing.T, e *env) {
	if err := e.Store.SetSetting(e.ctx, "", "x"); err == nil {
		t.Fatal("a setting without a key was stored")
	}
	if _, ok, err := e.Store.Setting(e.ctx, "k"); ok || err != nil {
		t.Fatalf("unset setting: ok %v, %v", ok, err)
	}
	must(t, e.Store.SetSetting(e.ctx, "k", "v1"))
	must(t, e.Store.SetSetting(e.ctx, "k", "v2"))
	if v, ok, err := e.Store.Setting(e.ctx, "k"); v != "v2" || !ok || err != nil {
		t.Fatalf("setting k = %q, %v, %v", v, ok, err)
	}
	must(t, e.Store.SetSetting(e.ctx, "k", ""))
	if _, ok, _ := e.Store.Setting(e.ctx, "k"); ok {
		t.Fatal("an empty value did not remove the setting")
	}
}

// Every write to the configuration (profiles, accounts, users and their
// roles, webservices, credentials, settings) raises the version; writes
// of tokens, the discovery cache, the debugger and serve status do not,
// nor do writes that change nothing serve reads.
func testConfigVersion(t *testing.T, e *env) {
	must(t, e.Store.CreateUser(e.ctx, core.User{Login: "u", Email: "u@x"}))
	e.profile(t, "op")
	e.account(t, "acc", "op")
	e.webservice(t, "req", core.Requester, "acc")
	must(t, e.Store.SetSetting(e.ctx, "k", "v"))
	c, _, err := core.NewInvokeCredential("req", "cron")
	must(t, err)
	for _, w := range []struct {
		what   string
		change bool
		fn     func() error
	}{
		{"create a profile", true, func() error { return e.Store.CreateProfile(e.ctx, core.NewProfile("op2")) }},
		{"update a profile", true, func() error {
			_, err := e.Store.UpdateProfile(e.ctx, "op2", func(p *core.Profile) error { p.ClientID = "c"; return nil })
			return err
		}},
		{"delete a profile", true, func() error { return e.Store.DeleteProfile(e.ctx, "op2") }},
		{"create an account", true, func() error { return e.Store.CreateAccount(e.ctx, core.NewAccount("acc2", "op")) }},
		{"update an account", true, func() error {
			_, err := e.Store.UpdateAccount(e.ctx, "acc2", func(a *core.Account) error { a.Scopes = []string{"x"}; return nil })
			return err
		}},
		{"delete an account", true, func() error { return e.Store.DeleteAccount(e.ctx, "acc2") }},
		{"create a user", true, func() error { return e.Store.CreateUser(e.ctx, core.User{Login: "v"}) }},
		{"change a user's email", true, func() error {
			_, err := e.Store.UpdateUser(e.ctx, "u", func(u *core.User) error { u.Email = "new@x"; return nil })
			return err
		}},
		{"change a user's roles", true, func() error {
			_, err := e.Store.UpdateUser(e.ctx, "u", func(u *core.User) error { u.Roles = []string{"api"}; return nil })
			return err
		}},
		{"write a user unchanged", false, func() error {
			_, err := e.Store.UpdateUser(e.ctx, "u", func(*core.User) error { return nil })
			return err
		}},
		{"delete a user", true, func() error { return e.Store.DeleteUser(e.ctx, "v") }},
		{"create a webservice", true, func() error {
			w := core.NewWebservice("ws2", core.Provider)
			w.Profile = "op"
			return e.Store.CreateWebservice(e.ctx, w)
		}},
		{"update a webservice", true, func() error {
			_, err := e.Store.UpdateWebservice(e.ctx, "ws2", func(w *core.Webservice) error { w.Route = "/x"; return nil })
			return err
		}},
		{"delete a webservice", true, func() error { return e.Store.DeleteWebservice(e.ctx, "ws2") }},
		{"create a credential", true, func() error { return e.Store.CreateCredential(e.ctx, c) }},
		{"delete a credential", true, func() error { return e.Store.DeleteCredential(e.ctx, "req", "cron") }},
		{"change a setting", true, func() error { return e.Store.SetSetting(e.ctx, "k", "w") }},
		{"set a setting to its value", false, func() error { return e.Store.SetSetting(e.ctx, "k", "w") }},
		{"remove a setting", true, func() error { return e.Store.SetSetting(e.ctx, "k", "") }},
		{"remove a setting that is not set", false, func() error { return e.Store.SetSetting(e.ctx, "k", "") }},
		{"save tokens", false, func() error {
			return e.Store.SaveTokens(e.ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("at")})
		}},
		{"take a lease", false, func() error {
			_, _, err := e.Store.AcquireLease(e.ctx, "acc", "o", t0, t0.Add(time.Minute))
			return err
		}},
		{"record a failure", false, func() error { return e.Store.RecordFailure(e.ctx, "acc", "o", core.Failure{Err: "x"}) }},
		{"clear tokens", false, func() error { return e.Store.ClearTokens(e.ctx, "acc") }},
		{"cache discovery", false, func() error {
			return e.Store.CacheDiscovery(e.ctx, "op", core.CachedDocument{URL: "u", Body: []byte("{}"), FetchedAt: t0})
		}},
		{"log a call", false, func() error {
			_, err := e.Store.AppendDebug(e.ctx, []core.DebugEntry{{Webservice: "req", Direction: core.DirectionOutgoing}},
				map[string]core.DebugRetention{"req": {Keep: 1}})
			return err
		}},
		{"report serve status", false, func() error {
			return e.Store.PutServeStatus(e.ctx, core.ServeStatus{Instance: "h:1", StartedAt: t0, Heartbeat: t0})
		}},
	} {
		before := e.version(t)
		if err := w.fn(); err != nil {
			t.Fatalf("%s: %v", w.what, err)
		}
		if after := e.version(t); (after > before) != w.change || after < before {
			t.Errorf("%s: version %d → %d, want a change: %v", w.what, before, after, w.change)
		}
	}
}

func testUsers(t *testing.T, e *env) {
	for _, u := range []core.User{{}, {Login: "x", Roles: []string{""}}} {
		if err := e.Store.CreateUser(e.ctx, u); !isA[*core.ValidationError](err) {
			t.Fatalf("create %+v: %v, want *ValidationError", u, err)
		}
	}
	u := core.User{Login: "jo", Email: "jo@x", FirstName: "Jo", LastName: "Doe", Profile: "op", Roles: []string{"b", "a", "b"}}
	must(t, e.Store.CreateUser(e.ctx, u))
	must(t, e.Store.CreateUser(e.ctx, core.User{Login: "al"}))
	if err := e.Store.CreateUser(e.ctx, core.User{Login: "jo"}); !isA[*core.ExistsError](err) {
		t.Fatalf("second jo: %v", err)
	}
	if err := e.Store.CreateUser(e.ctx, core.User{Login: "JO"}); !isA[*core.ValidationError](err) {
		t.Fatalf("JO beside jo: %v", err)
	}
	got, err := e.Store.User(e.ctx, "jo")
	must(t, err)
	want := u
	want.Roles, want.CreatedAt, want.UpdatedAt = []string{"a", "b"}, ms(t0), ms(t0)
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Fatalf("read back\n%#v\nwant (roles sorted, unique)\n%#v", got, want)
	}
	us, err := e.Store.Users(e.ctx)
	must(t, err)
	if len(us) != 2 || us[0].Login != "al" || us[0].Roles != nil || !slices.Equal(us[1].Roles, []string{"a", "b"}) {
		t.Fatalf("users %+v", us)
	}
	e.clock.Set(t0.Add(time.Hour))
	got, err = e.Store.UpdateUser(e.ctx, "jo", func(u *core.User) error { u.Roles = []string{"c", "a"}; return nil })
	must(t, err)
	if !slices.Equal(got.Roles, []string{"a", "c"}) || !got.CreatedAt.Equal(ms(t0)) || !got.UpdatedAt.Equal(ms(t0.Add(time.Hour))) {
		t.Fatalf("after update %+v", got)
	}
	if _, err := e.Store.UpdateUser(e.ctx, "jo", func(u *core.User) error { u.Login = "x"; return nil }); !isA[*core.ValidationError](err) {
		t.Fatalf("rename: %v", err)
	}
	if _, err := e.Store.UpdateUser(e.ctx, "jo", func(u *core.User) error { u.Roles = []string{""}; return nil }); !isA[*core.ValidationError](err) {
		t.Fatalf("empty role: %v", err)
	}
	must(t, e.Store.DeleteUser(e.ctx, "jo"))
	if err := e.Store.DeleteUser(e.ctx, "jo"); !isA[*core.NotFoundError](err) {
		t.Fatalf("delete twice: %v", err)
	}
}

func testWebservices(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	if err := e.Store.CreateWebservice(e.ctx, core.NewWebservice("w", "sideways")); !isA[*core.ValidationError](err) {
		t.Fatalf("unknown kind: %v", err)
	}
	for _, w := range []core.Webservice{{Name: "w", Kind: core.Provider, Profile: "nope"}, {Name: "w", Kind: core.Requester, Account: "nope"}} {
		if err := e.Store.CreateWebservice(e.ctx, w); !isA[*core.NotFoundError](err) {
			t.Fatalf("create %+v: %v, want *NotFoundError", w, err)
		}
	}
	w := core.NewWebservice("tickets", core.Provider)
	w.Profile, w.Route, w.Methods, w.Upstream, w.PassAuthorization = "op", "/GetTicket/:id", []string{"GET", "POST"}, "http://up", true
	w.Debug.MaxAge = time.Hour
	must(t, e.Store.CreateWebservice(e.ctx, w))
	e.webservice(t, "billing", core.Requester, "acc")
	if err := e.Store.CreateWebservice(e.ctx, core.NewWebservice("Tickets", core.Provider)); !isA[*core.ValidationError](err) {
		t.Fatalf("Tickets beside tickets: %v", err)
	}
	if err := e.Store.CreateWebservice(e.ctx, w); !isA[*core.ExistsError](err) {
		t.Fatalf("second tickets: %v", err)
	}
	got, err := e.Store.Webservice(e.ctx, "tickets")
	must(t, err)
	want := w
	want.CreatedAt, want.UpdatedAt = ms(t0), ms(t0)
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Fatalf("read back\n%#v\nwant\n%#v", got, want)
	}
	ws, err := e.Store.Webservices(e.ctx)
	must(t, err)
	if len(ws) != 2 || ws[0].Name != "billing" || ws[1].Name != "tickets" {
		t.Fatalf("webservices %v", ws)
	}
	if _, err := e.Store.UpdateWebservice(e.ctx, "tickets", func(w *core.Webservice) error { w.Profile = "nope"; return nil }); !isA[*core.NotFoundError](err) {
		t.Fatalf("update to a missing profile: %v", err)
	}
	if _, err := e.Store.UpdateWebservice(e.ctx, "tickets", func(w *core.Webservice) error { w.Name = "x"; return nil }); !isA[*core.ValidationError](err) {
		t.Fatalf("rename: %v", err)
	}
	// Deleting a webservice takes its log and credentials; a new one of
	// that name starts without them.
	c, _, err := core.NewInvokeCredential("billing", "cron")
	must(t, err)
	must(t, e.Store.CreateCredential(e.ctx, c))
	must(t, e.Store.AddDebugEntries(e.ctx, []core.DebugEntry{{Webservice: "billing", Direction: core.DirectionOutgoing}}))
	must(t, e.Store.DeleteWebservice(e.ctx, "billing"))
	if err := e.Store.DeleteWebservice(e.ctx, "billing"); !isA[*core.NotFoundError](err) {
		t.Fatalf("delete twice: %v", err)
	}
	e.webservice(t, "billing", core.Requester, "acc")
	if cs, _ := e.Store.Credentials(e.ctx, "billing"); len(cs) != 0 {
		t.Fatalf("a new webservice has %d credentials of the deleted one", len(cs))
	}
	if es, _ := e.Store.DebugEntries(e.ctx, core.DebugFilter{}); len(es) != 0 {
		t.Fatalf("%d debugger entries of a deleted webservice", len(es))
	}
}

func testCredentials(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	e.webservice(t, "b-req", core.Requester, "acc")
	e.webservice(t, "a-req", core.Requester, "acc")
	e.webservice(t, "prov", core.Provider, "op")
	if err := e.Store.CreateCredential(e.ctx, core.InvokeCredential{Webservice: "b-req", Name: "x"}); !isA[*core.ValidationError](err) {
		t.Fatalf("credential without a hash: %v", err)
	}
	mk := func(ws, name string) core.InvokeCredential {
		c, secret, err := core.NewInvokeCredential(ws, name)
		must(t, err)
		if !c.Matches(secret.Reveal()) {
			t.Fatal("a new credential does not match its secret")
		}
		return c
	}
	if err := e.Store.CreateCredential(e.ctx, mk("prov", "x")); !isA[*core.ValidationError](err) {
		t.Fatalf("credential of a provider webservice: %v", err)
	}
	if err := e.Store.CreateCredential(e.ctx, mk("nope", "x")); !isA[*core.NotFoundError](err) {
		t.Fatalf("credential of a missing webservice: %v", err)
	}
	first := mk("b-req", "z")
	for _, c := range []core.InvokeCredential{first, mk("b-req", "y"), mk("a-req", "z")} {
		must(t, e.Store.CreateCredential(e.ctx, c))
	}
	if err := e.Store.CreateCredential(e.ctx, mk("b-req", "z")); !isA[*core.ExistsError](err) {
		t.Fatalf("second b-req/z: %v", err)
	}
	cs, err := e.Store.Credentials(e.ctx, "")
	must(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, c.Webservice+"/"+c.Name)
	}
	if !slices.Equal(names, []string{"a-req/z", "b-req/y", "b-req/z"}) {
		t.Fatalf("credentials %v", names)
	}
	if c := cs[2]; string(c.Hash) != string(first.Hash) || c.Hint != first.Hint || !c.CreatedAt.Equal(ms(t0)) {
		t.Fatalf("b-req/z read back as %+v", c)
	}
	if cs, _ := e.Store.Credentials(e.ctx, "b-req"); len(cs) != 2 {
		t.Fatalf("%d credentials of b-req", len(cs))
	}
	if _, err := e.Store.Credentials(e.ctx, "nope"); !isA[*core.NotFoundError](err) {
		t.Fatalf("credentials of a missing webservice: %v", err)
	}
	must(t, e.Store.DeleteCredential(e.ctx, "b-req", "z"))
	if err := e.Store.DeleteCredential(e.ctx, "b-req", "z"); !isA[*core.NotFoundError](err) {
		t.Fatalf("delete twice: %v", err)
	}
}

func entry(ws string, at time.Time, status int) core.DebugEntry {
	return core.DebugEntry{Time: at, Webservice: ws, Direction: core.DirectionIncoming, Status: status, Verdict: "accepted"}
}

// The debugger's log comes back newest first, filtered, limited, entry by
// entry as written; entries of a webservice that does not exist are
// dropped.
func testDebugLog(t *testing.T, e *env) {
	e.profile(t, "op")
	e.webservice(t, "ws", core.Provider, "op")
	full := core.DebugEntry{
		RequestID: "r1", Webservice: "ws", Direction: core.DirectionIncoming, Method: "GET", Path: "/x",
		Status: 401, Duration: 1500 * time.Microsecond, User: "u", Verdict: "refused", Reason: "expired",
		RequestHeader: http.Header{"Authorization": {"[redacted]"}}, RequestBody: []byte("in"),
		ResponseHeader: http.Header{"Www-Authenticate": {"Bearer"}}, ResponseBody: []byte("out"), BodiesTruncated: true,
		TokenClaims: `{"header":{"alg":"RS256"},"claims":{"sub":"u"}}`,
	}
	must(t, e.Store.AddDebugEntries(e.ctx, []core.DebugEntry{full, entry("gone", t0, 200)}))
	es, err := e.Store.DebugEntries(e.ctx, core.DebugFilter{})
	must(t, err)
	if len(es) != 1 {
		t.Fatalf("%d entries, want 1 (the one of a missing webservice is dropped)", len(es))
	}
	want := full
	want.ID, want.Time = es[0].ID, ms(t0)
	if fmt.Sprintf("%#v", es[0]) != fmt.Sprintf("%#v", want) {
		t.Fatalf("read back\n%#v\nwant (time from the store's clock)\n%#v", es[0], want)
	}
	one, err := e.Store.DebugEntry(e.ctx, es[0].ID)
	must(t, err)
	if fmt.Sprintf("%#v", one) != fmt.Sprintf("%#v", want) {
		t.Fatalf("DebugEntry\n%#v", one)
	}
	if _, err := e.Store.DebugEntry(e.ctx, es[0].ID+1000); !isA[*core.NotFoundError](err) {
		t.Fatalf("missing entry: %v", err)
	}
	must(t, e.Store.AddDebugEntries(e.ctx, nil))
	var batch []core.DebugEntry
	for i := range 120 {
		ws := "ws"
		if i%2 == 1 {
			ws = ""
		}
		batch = append(batch, entry(ws, t0.Add(time.Duration(i)*time.Second), 200+i%2))
	}
	must(t, e.Store.AddDebugEntries(e.ctx, batch))
	for _, c := range []struct {
		f     core.DebugFilter
		n     int
		first int // status of the newest
	}{
		{core.DebugFilter{}, 100, 201},
		{core.DebugFilter{Limit: 1000}, 121, 201},
		{core.DebugFilter{Webservice: "ws", Limit: 1000}, 61, 200},
		{core.DebugFilter{Status: 201, Limit: 1000}, 60, 201},
		{core.DebugFilter{Verdict: "refused"}, 1, 401},
		{core.DebugFilter{Since: t0.Add(110 * time.Second)}, 10, 201},
		{core.DebugFilter{Limit: 3}, 3, 201},
	} {
		es, err := e.Store.DebugEntries(e.ctx, c.f)
		must(t, err)
		if len(es) != c.n || es[0].Status != c.first {
			t.Fatalf("filter %+v: %d entries, newest %d; want %d, newest %d", c.f, len(es), es[0].Status, c.n, c.first)
		}
		for i := 1; i < len(es); i++ {
			if es[i].Time.After(es[i-1].Time) || es[i].Time.Equal(es[i-1].Time) && es[i].ID > es[i-1].ID {
				t.Fatalf("filter %+v: not newest first at %d", c.f, i)
			}
		}
	}
	if _, err := e.Store.DebugEntries(e.ctx, core.DebugFilter{Webservice: "nope"}); !isA[*core.NotFoundError](err) {
		t.Fatalf("entries of a missing webservice: %v", err)
	}
	if n, err := e.Store.ClearDebug(e.ctx, "ws"); n != 61 || err != nil {
		t.Fatalf("clear ws: %d, %v", n, err)
	}
	if _, err := e.Store.ClearDebug(e.ctx, "nope"); !isA[*core.NotFoundError](err) {
		t.Fatalf("clear a missing webservice: %v", err)
	}
	if n, err := e.Store.ClearDebug(e.ctx, ""); n != 60 || err != nil {
		t.Fatalf("clear all: %d, %v", n, err)
	}
}

// Pruning keeps each webservice's log (and the log of calls without one)
// within its own bounds of age and count, in the same write.
func testDebugRetention(t *testing.T, e *env) {
	e.profile(t, "op")
	e.webservice(t, "ws", core.Provider, "op")
	var batch []core.DebugEntry
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Minute)
		batch = append(batch, entry("ws", at, i), entry("", at, 100+i))
	}
	must(t, e.Store.AddDebugEntries(e.ctx, batch))
	count := func(ws string) (n, newest, oldest int) {
		es, err := e.Store.DebugEntries(e.ctx, core.DebugFilter{Limit: 1000})
		must(t, err)
		for _, x := range es {
			if x.Webservice == ws {
				if n == 0 {
					newest = x.Status
				}
				oldest = x.Status
				n++
			}
		}
		return n, newest, oldest
	}
	if n, err := e.Store.PruneDebug(e.ctx, "ws", time.Time{}, 0); n != 0 || err != nil {
		t.Fatalf("prune without bounds: %d, %v", n, err)
	}
	if n, err := e.Store.PruneDebug(e.ctx, "nope", t0.Add(time.Hour), 1); n != 0 || err != nil {
		t.Fatalf("prune a missing webservice: %d, %v", n, err)
	}
	if n, err := e.Store.PruneDebug(e.ctx, "ws", time.Time{}, 7); n != 3 || err != nil {
		t.Fatalf("prune ws to 7: %d, %v", n, err)
	}
	if n, newest, oldest := count("ws"); n != 7 || newest != 9 || oldest != 3 {
		t.Fatalf("ws after keeping 7: %d entries, %d..%d", n, oldest, newest)
	}
	if n, _, _ := count(""); n != 10 {
		t.Fatalf("pruning ws took %d entries of the calls without a webservice", 10-n)
	}
	if n, err := e.Store.PruneDebug(e.ctx, "", t0.Add(4*time.Minute), 0); n != 4 || err != nil {
		t.Fatalf("prune by age: %d, %v", n, err)
	}
	// AppendDebug writes and prunes every log named in keep, by age or count.
	pruned, err := e.Store.AppendDebug(e.ctx, []core.DebugEntry{entry("ws", t0.Add(20*time.Minute), 20), entry("", t0.Add(20*time.Minute), 120)},
		map[string]core.DebugRetention{"ws": {Keep: 2}, "": {Before: t0.Add(8 * time.Minute), Keep: 5}})
	must(t, err)
	wsN, wsNewest, wsOldest := count("ws")
	noneN, noneNewest, noneOldest := count("")
	if pruned != 6+4 || wsN != 2 || wsNewest != 20 || wsOldest != 9 || noneN != 3 || noneNewest != 120 || noneOldest != 108 {
		t.Fatalf("append with retention: pruned %d; ws %d (%d..%d); none %d (%d..%d)",
			pruned, wsN, wsOldest, wsNewest, noneN, noneOldest, noneNewest)
	}
	if n, err := e.Store.AppendDebug(e.ctx, nil, nil); n != 0 || err != nil {
		t.Fatalf("empty append: %d, %v", n, err)
	}
}

func testServeStatus(t *testing.T, e *env) {
	a := core.ServeStatus{Instance: "a:1", Listen: "127.0.0.1:8080", Socket: "/run/x.sock", Version: "v1",
		StartedAt: t0, Heartbeat: t0.Add(time.Second), LastRefreshRun: t0, LastRefreshRenewed: 2, LastRefreshFailed: 1}
	b := core.ServeStatus{Instance: "b:2", StartedAt: t0, Heartbeat: t0.Add(2 * time.Second), Stopped: true}
	must(t, e.Store.PutServeStatus(e.ctx, a))
	must(t, e.Store.PutServeStatus(e.ctx, b))
	ss, err := e.Store.ServeStatuses(e.ctx)
	must(t, err)
	wantA := a
	wantA.StartedAt, wantA.Heartbeat, wantA.LastRefreshRun = ms(t0), ms(a.Heartbeat), ms(t0)
	if len(ss) != 2 || ss[0].Instance != "b:2" || !ss[0].Stopped || fmt.Sprintf("%#v", ss[1]) != fmt.Sprintf("%#v", wantA) {
		t.Fatalf("statuses %#v", ss)
	}
	a.Heartbeat = t0.Add(time.Minute)
	must(t, e.Store.PutServeStatus(e.ctx, a))
	if ss, _ := e.Store.ServeStatuses(e.ctx); len(ss) != 2 || ss[0].Instance != "a:1" {
		t.Fatalf("after a's heartbeat: %+v", ss)
	}
	// A day later, a write forgets the statuses that stopped reporting.
	e.clock.Set(t0.Add(25 * time.Hour))
	c := core.ServeStatus{Instance: "c:3", StartedAt: t0.Add(25 * time.Hour), Heartbeat: t0.Add(25 * time.Hour)}
	must(t, e.Store.PutServeStatus(e.ctx, c))
	if ss, _ := e.Store.ServeStatuses(e.ctx); len(ss) != 1 || ss[0].Instance != "c:3" {
		t.Fatalf("a day later: %+v", ss)
	}
}

// testDPoPSettings: a profile's DPoP setting and an account's DPoP flag
// and sealed key read back as written, and go when cleared.
func testDPoPSettings(t *testing.T, e *env) {
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "cid"
	p.DPoP, p.DPoPNonce = core.DPoPRequire, true
	must(t, e.Store.CreateProfile(e.ctx, p))
	key, err := core.NewDPoPKey()
	must(t, err)
	a := core.NewAccount("acc", "op")
	a.DPoP, a.DPoPKey = true, key
	must(t, e.Store.CreateAccount(e.ctx, a))
	gotP, err := e.Store.Profile(e.ctx, "op")
	must(t, err)
	gotA, err := e.Store.Account(e.ctx, "acc")
	must(t, err)
	if gotP.DPoP != core.DPoPRequire || !gotP.DPoPNonce || !gotA.DPoP || gotA.DPoPKey.Reveal() != key.Reveal() {
		t.Fatalf("read back profile DPoP %q nonce %v, account DPoP %v key equal %v", gotP.DPoP, gotP.DPoPNonce, gotA.DPoP, gotA.DPoPKey.Reveal() == key.Reveal())
	}
	_, err = e.Store.UpdateAccount(e.ctx, "acc", func(a *core.Account) error { a.DPoP, a.DPoPKey = false, core.Secret{}; return nil })
	must(t, err)
	_, err = e.Store.UpdateProfile(e.ctx, "op", func(p *core.Profile) error { p.DPoP, p.DPoPNonce = "", false; return nil })
	must(t, err)
	gotP, _ = e.Store.Profile(e.ctx, "op")
	gotA, _ = e.Store.Account(e.ctx, "acc")
	if gotP.DPoP != "" || gotP.DPoPNonce || gotA.DPoP || gotA.DPoPKey.IsSet() {
		t.Fatalf("after clearing: profile %q %v, account %v key set %v", gotP.DPoP, gotP.DPoPNonce, gotA.DPoP, gotA.DPoPKey.IsSet())
	}
}
