package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
)

// overviewOrder is every account overviewAccounts makes, ordered as the
// overview orders them: by profile name, then account name, in byte
// order (upper case before lower case, '_' before 'z').
var overviewOrder = []string{"edge", "x_y", "xzy", "Zed", "fresh", "new", "noexp", "oops", "person"}

// overviewAccounts makes profiles "B" (3 accounts), "a" (6) and "empty"
// (none), with accounts in every state but damaged at t0: valid
// ("fresh" until t0+2h, "edge" until t0+1h, "noexp" without an expiry),
// none ("new", "x_y", "xzy", "Zed"), failing ("oops", whose tokens are
// still valid) and needs authorization ("person", which failed too).
func overviewAccounts(t *testing.T, e *env) {
	t.Helper()
	for _, p := range []string{"a", "B", "empty"} {
		e.profile(t, p)
	}
	account := func(name, profile string, grant core.GrantType) {
		t.Helper()
		a := core.NewAccount(name, profile)
		a.GrantType = grant
		if grant == core.GrantPassword {
			a.Username, a.Password = "u", core.NewSecret("pw")
		}
		must(t, e.Store.CreateAccount(e.ctx, a))
	}
	tokens := func(name string, expiry time.Time) {
		t.Helper()
		must(t, e.Store.SaveTokens(e.ctx, name, "", core.TokenSet{
			AccessToken: core.NewSecret("at-" + name), RefreshToken: core.NewSecret("rt-" + name), Expiry: expiry, ObtainedAt: t0}))
	}
	account("edge", "B", core.GrantClientCredentials)
	tokens("edge", t0.Add(time.Hour))
	account("x_y", "B", core.GrantAuthorizationCode)
	account("xzy", "B", core.GrantPassword)
	account("Zed", "a", core.GrantClientCredentials)
	account("fresh", "a", core.GrantClientCredentials)
	tokens("fresh", t0.Add(2*time.Hour))
	account("new", "a", core.GrantClientCredentials)
	account("noexp", "a", core.GrantClientCredentials)
	tokens("noexp", time.Time{})
	account("oops", "a", core.GrantClientCredentials)
	tokens("oops", t0.Add(2*time.Hour))
	must(t, e.Store.RecordFailure(e.ctx, "oops", "", core.Failure{Err: "refused", At: t0}))
	account("person", "a", core.GrantAuthorizationCode)
	tokens("person", t0.Add(2*time.Hour))
	must(t, e.Store.RecordFailure(e.ctx, "person", "", core.Failure{Err: "invalid_grant", At: t0, NeedsAuthorization: true}))
}

func (e *env) counts(t *testing.T, q core.AccountQuery) core.AccountCounts {
	t.Helper()
	c, err := e.Store.CountAccounts(e.ctx, q)
	must(t, err)
	return c
}

func (e *env) page(t *testing.T, q core.AccountQuery, offset, limit int) []core.TokenState {
	t.Helper()
	sts, err := e.Store.TokenStatePage(e.ctx, q, offset, limit)
	must(t, err)
	return sts
}

func accountNames(sts []core.TokenState) []string {
	var out []string
	for _, st := range sts {
		out = append(out, st.Account)
	}
	return out
}

// CountAccounts counts per profile (leaving out a profile without
// accounts) and per state, the state judged at the query's Now exactly as
// TokenState.Status judges it: an expiry at Now is expired, one a
// nanosecond later is not; needs authorization goes before failing, and
// failing before the tokens' expiry.
func testCountAccounts(t *testing.T, e *env) {
	if c := e.counts(t, core.AccountQuery{Now: t0}); c.Total != 0 || len(c.Profiles) != 0 || len(c.States) != 0 {
		t.Fatalf("counts of an empty store: %+v", c)
	}
	overviewAccounts(t, e)
	edge := ms(t0.Add(time.Hour)) // as stored
	for _, tc := range []struct {
		now    time.Time
		states map[string]int
	}{
		{t0, map[string]int{core.StateValid: 3, core.StateNone: 4, core.StateFailing: 1, core.StateNeedsAuthorization: 1}},
		{edge.Add(-time.Nanosecond), map[string]int{core.StateValid: 3, core.StateNone: 4, core.StateFailing: 1, core.StateNeedsAuthorization: 1}},
		{edge, map[string]int{core.StateValid: 2, core.StateExpired: 1, core.StateNone: 4, core.StateFailing: 1, core.StateNeedsAuthorization: 1}},
		{t0.Add(3 * time.Hour), map[string]int{core.StateValid: 1, core.StateExpired: 2, core.StateNone: 4, core.StateFailing: 1, core.StateNeedsAuthorization: 1}},
	} {
		c := e.counts(t, core.AccountQuery{Now: tc.now})
		if c.Total != 9 || !maps.Equal(c.Profiles, map[string]int{"a": 6, "B": 3}) || !maps.Equal(c.States, tc.states) {
			t.Errorf("counts at %v: %+v, want 9 in all, a 6, B 3 and states %v", tc.now, c, tc.states)
		}
		// The same as Status says of every account's state.
		all, err := e.Store.TokenStates(e.ctx)
		must(t, err)
		byStatus := map[string]int{}
		for _, st := range all {
			byStatus[st.Status(tc.now)]++
		}
		if !maps.Equal(c.States, byStatus) {
			t.Errorf("states at %v: %v, Status says %v", tc.now, c.States, byStatus)
		}
	}
}

// The query's Text selects accounts whose name, profile name, grant type
// or state contains it, regardless of ASCII case; %, _ and \ in it stand
// for themselves. Counts and pages select the same accounts.
func testOverviewText(t *testing.T, e *env) {
	overviewAccounts(t, e)
	for _, tc := range []struct {
		text string
		now  time.Time
		want []string // in overview order
	}{
		{"", t0, overviewOrder},
		{"xzy", t0, []string{"xzy"}},                       // account name
		{"XZY", t0, []string{"xzy"}},                       // in any case
		{"zE", t0, []string{"Zed"}},                        // the name's case does not matter either
		{"b", t0, []string{"edge", "x_y", "xzy"}},          // profile name "B"
		{"authorization_c", t0, []string{"x_y", "person"}}, // grant type
		{"PASSWORD", t0, []string{"xzy"}},
		{"client_cred", t0, []string{"edge", "Zed", "fresh", "new", "noexp", "oops"}},
		{"None", t0, []string{"x_y", "xzy", "Zed", "new"}}, // state
		{"fail", t0, []string{"oops"}},
		{"needs auth", t0, []string{"person"}},
		{"S AUTH", t0, []string{"person"}},
		{"vali", t0, []string{"edge", "fresh", "noexp"}},
		{"expired", t0, nil},                             // state at Now ...
		{"expired", t0.Add(time.Hour), []string{"edge"}}, // ... and later
		{"expired", t0.Add(3 * time.Hour), []string{"edge", "fresh"}},
		{"x_y", t0, []string{"x_y"}}, // _ is no wildcard ("xzy")
		{"x%y", t0, nil},             // nor is %
		{`x\zy`, t0, nil},            // and \ escapes nothing
		{"%", t0, nil},
		{"nothing-like-it", t0, nil},
	} {
		q := core.AccountQuery{Text: tc.text, Now: tc.now}
		if got := accountNames(e.page(t, q, 0, 100)); !slices.Equal(got, tc.want) {
			t.Errorf("page of %q at %v: %v, want %v", tc.text, tc.now, got, tc.want)
		}
		c := e.counts(t, q)
		want := core.AccountCounts{Total: len(tc.want), Profiles: map[string]int{}, States: map[string]int{}}
		for _, name := range tc.want {
			st := e.state(t, name)
			want.Profiles[st.Profile]++
			want.States[st.Status(tc.now)]++
		}
		if c.Total != want.Total || !maps.Equal(c.Profiles, want.Profiles) || !maps.Equal(c.States, want.States) {
			t.Errorf("counts of %q at %v: %+v, want %+v", tc.text, tc.now, c, want)
		}
	}
}

// Letters beyond ASCII match only as written: the SQL engines fold ASCII
// letters alone (names are ASCII, but a store does not refuse others).
func testOverviewNonASCII(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "Émile", "op")
	e.account(t, "zoé", "op")
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"Émile", []string{"Émile"}},
		{"éMILE", nil}, // É is not folded
		{"ZOé", []string{"zoé"}},
		{"ZOÉ", nil},
	} {
		q := core.AccountQuery{Text: tc.text, Now: t0}
		if got := accountNames(e.page(t, q, 0, 10)); !slices.Equal(got, tc.want) {
			t.Errorf("page of %q: %v, want %v", tc.text, got, tc.want)
		}
		if c := e.counts(t, q); c.Total != len(tc.want) {
			t.Errorf("count of %q: %d, want %d", tc.text, c.Total, len(tc.want))
		}
	}
}

// Pages are slices of the ordered list: by profile name, then account
// name, in byte order across profiles; an offset past the end gives
// none, as does a limit that is not positive; each state is what
// TokenState gives.
func testTokenStatePage(t *testing.T, e *env) {
	overviewAccounts(t, e)
	all := core.AccountQuery{Now: t0}
	full := e.page(t, all, 0, 1000)
	if got := accountNames(full); !slices.Equal(got, overviewOrder) {
		t.Fatalf("order: %v, want %v", got, overviewOrder)
	}
	for _, st := range full {
		if want := e.state(t, st.Account); fmt.Sprintf("%#v", st) != fmt.Sprintf("%#v", want) {
			t.Errorf("page state of %s:\n%#v\nwant\n%#v", st.Account, st, want)
		}
	}
	for _, q := range []core.AccountQuery{all, {Text: "e", Now: t0}} {
		list := e.page(t, q, 0, 1000)
		for offset := range len(list) + 2 {
			for _, limit := range []int{1, 2, 4, len(list), len(list) + 5} {
				want := list[min(offset, len(list)):min(offset+limit, len(list))]
				got := e.page(t, q, offset, limit)
				if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) && (len(got) != 0 || len(want) != 0) {
					t.Errorf("page %q offset %d limit %d: %v, want %v", q.Text, offset, limit, accountNames(got), accountNames(want))
				}
			}
		}
	}
	if got := e.page(t, all, 100, 10); len(got) != 0 {
		t.Errorf("past the end: %v", accountNames(got))
	}
	if got := e.page(t, all, 0, 0); len(got) != 0 {
		t.Errorf("limit 0: %v", accountNames(got))
	}
	if got := e.page(t, all, -3, 2); !slices.Equal(accountNames(got), overviewOrder[:2]) {
		t.Errorf("negative offset: %v, want the first 2", accountNames(got))
	}
}

// A damaged token does not hide its account: it is counted and selected
// by its stored columns, and on a page it comes back with Damaged set,
// the other accounts of the page unharmed.
func testOverviewDamaged(t *testing.T, e *env) {
	if e.CorruptToken == nil {
		t.Fatal("storetest: Opened.CorruptToken is required")
	}
	overviewAccounts(t, e)
	e.CorruptToken(t, "fresh", "access_token")
	c := e.counts(t, core.AccountQuery{Now: t0})
	if c.Total != 9 || c.States[core.StateValid] != 3 || c.States[core.StateDamaged] != 0 {
		t.Errorf("counts with a damaged token: %+v, want it counted by its columns (valid)", c)
	}
	page := e.page(t, core.AccountQuery{Text: "vali", Now: t0}, 0, 10)
	if got := accountNames(page); !slices.Equal(got, []string{"edge", "fresh", "noexp"}) {
		t.Fatalf("valid accounts with a damaged one: %v", got)
	}
	for _, st := range page {
		damaged := st.Account == "fresh"
		if (st.Damaged != nil) != damaged || damaged && (!strings.Contains(st.Damaged.Error(), "access_token") || st.Tokens.AccessToken.IsSet()) ||
			!damaged && st.Tokens.AccessToken.Reveal() != "at-"+st.Account {
			t.Errorf("%s on the page: damaged %v, access token set %v", st.Account, st.Damaged, st.Tokens.AccessToken.IsSet())
		}
	}
	if st := page[1]; st.Status(t0) != core.StateDamaged || st.Tokens.RefreshToken.Reveal() != "rt-fresh" {
		t.Errorf("damaged account: status %q, refresh token kept %v", st.Status(t0), st.Tokens.RefreshToken.IsSet())
	}
}
