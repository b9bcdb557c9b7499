package home_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/screens/accounts"
	"oidcctl/screens/home"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/profiles"
)

func TestEmptyDatabase(t *testing.T) {
	e := screentest.New(t)
	e.OpenGolden(t, home.New(e.Deps), "empty", "No profile yet.")
}

func TestProfilesAndAccounts(t *testing.T) {
	e := screentest.New(t)
	e.AddProfile(t, screentest.Profile("keycloak", "https://idp.example/realms/master/.well-known/openid-configuration", "someapi", "s3cret"))
	e.AddProfile(t, screentest.Profile("entra", "https://login.microsoftonline.com/tid/v2.0/.well-known/openid-configuration", "app-1", ""))
	for _, a := range []core.Account{
		{Name: "billing", Profile: "keycloak", GrantType: core.GrantClientCredentials},
		{Name: "reports", Profile: "keycloak", GrantType: core.GrantClientCredentials},
		{Name: "support-bot", Profile: "entra", GrantType: core.GrantAuthorizationCode, Scopes: []string{"openid", "offline_access"}},
	} {
		a.ResourceParam, a.TokenType = core.DefaultResourceParam, core.TokenAccess
		e.AddAccount(t, a)
	}
	ctx := context.Background()
	if err := e.DB.SaveTokens(ctx, "billing", "", core.TokenSet{
		AccessToken: core.NewSecret("at"), TokenType: "Bearer", Expiry: screentest.T0.Add(4*time.Minute + 12*time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.RecordFailure(ctx, "reports", "", core.Failure{Err: "boom", At: screentest.T0}); err != nil {
		t.Fatal(err)
	}
	term, _ := e.OpenGolden(t, home.New(e.Deps), "tree", "support-bot")

	// A wider terminal gives the columns the room.
	term.Resize(120, 30)
	term.WaitFor("login.microsoftonline.com")
	term.Resize(80, 24)
	term.WaitFor("login.microsoftonli…")

	term.Type("/")
	term.Type("bill")
	f := term.WaitFor("filter", "▸keycloak", "  billing", "1/2")
	if !contains(f, "billing") || contains(f, "support-bot") {
		t.Fatalf("filter bill shows:\n%s", f)
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || (len(s) >= len(sub) && index(s, sub) >= 0) }

func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// What the tree's columns cut at 80 columns is a key away: enter opens
// the row in its tab, the cursor on it, where the detail pane and enter
// show it whole.
func TestEnterOpensTheRowInItsTab(t *testing.T) {
	e := screentest.New(t)
	url := "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration"
	e.AddProfile(t, screentest.Profile("a-first", "https://idp.example/.well-known/openid-configuration", "someapi", "s"))
	e.AddProfile(t, screentest.Profile("entra", url, "app-1", ""))
	e.AddAccount(t, core.NewAccount("billing", "a-first"))
	e.AddAccount(t, core.NewAccount("support-bot-nightly-export", "entra"))
	term := e.Shell(t, 80, 24, home.New(e.Deps), profiles.New(e.Deps), accounts.New(e.Deps))
	term.WaitFor("login.microsoftonli…")

	term.Press("down", "down")
	term.WaitFor("▸entra")
	term.Press("enter")
	f := term.WaitFor("Profiles\n", "▸entra")
	screentest.WholeOnEnter(t, term, f, "Profiles › entra", "Profiles", url)

	term.Press("1")
	term.WaitTitle("Home")
	term.Press("down")
	term.WaitFor("▸  support-bot")
	term.Press("enter")
	f = term.WaitFor("Accounts\n", "▸support-bot-night…")
	screentest.WholeOnEnter(t, term, f, "Accounts › support-bot-nightly-export", "Accounts", "support-bot-nightly-export · profile entra")
}

// pagingStore is the test's database, except that it refuses to read
// every account's token state and counts the states it gives.
type pagingStore struct {
	core.Store
	read *atomic.Int64
}

func (pagingStore) TokenStates(context.Context) ([]core.TokenState, error) {
	return nil, errors.New("the home screen asked for every token state at once")
}

func (pagingStore) EachTokenState(context.Context, func(core.TokenState) error) error {
	return errors.New("the home screen read every token state")
}

func (s pagingStore) TokenStatePage(ctx context.Context, q core.AccountQuery, offset, limit int) ([]core.TokenState, error) {
	sts, err := s.Store.TokenStatePage(ctx, q, offset, limit)
	s.read.Add(int64(len(sts)))
	return sts, err
}

// The home screen reads what it shows: the counts, and the token states
// of the accounts in view, not those of every account: reading them all
// (tokens opened) made the console's first frame take most of a second
// and 100 MB at 100,000 accounts. The filter is a query of the store.
func TestReadsOnlyWhatItShows(t *testing.T) {
	e := screentest.New(t)
	ctx := context.Background()
	for _, p := range []string{"alpha", "beta", "gamma"} {
		e.AddProfile(t, screentest.Profile(p, "https://idp.example/realms/"+p+"/.well-known/openid-configuration", p+"-client", "s3cret"))
		for i := range 200 {
			e.AddAccount(t, core.NewAccount(fmt.Sprintf("%s-%03d", p, i), p))
		}
	}
	if err := e.DB.SaveTokens(ctx, "alpha-000", "", core.TokenSet{
		AccessToken: core.NewSecret("at"), TokenType: "Bearer", Expiry: screentest.T0.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.RecordFailure(ctx, "gamma-123", "", core.Failure{Err: "boom", At: screentest.T0}); err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	e.Deps.Registry.Store = pagingStore{e.DB, &read}
	term := e.Shell(t, 80, 24, home.New(e.Deps))
	f := term.WaitFor("3 profiles · 600 functional accounts · 1 valid · 1 failing · 598 without tokens", "  alpha-005", "1/603")
	if !contains(f, "expires in 1h") {
		t.Fatalf("alpha-000's row lacks its expiry:\n%s", f)
	}
	if n := read.Load(); n > 3*24 {
		t.Fatalf("the first frame read %d token states; it shows about 20", n)
	}

	// A taller terminal shows the rows its size brings without a key.
	term.Resize(80, 80)
	term.WaitFor("  alpha-070", "1/603")
	term.Resize(80, 24)
	term.WaitFor("  alpha-005", "1/603")

	// The end of the tree: what is read is around it.
	read.Store(0)
	term.Press("end")
	term.WaitFor("▸  gamma-199", "603/603")
	if n := read.Load(); n > 3*24 {
		t.Fatalf("going to the end read %d token states", n)
	}

	// The filter selects by state too, and keeps each account's profile.
	term.Press("home")
	term.Type("/")
	term.Type("failing")
	f = term.WaitFor("filter", "  gamma-123", "/2")
	if contains(f, "alpha") || contains(f, "beta") {
		t.Fatalf("filter failing shows:\n%s", f)
	}
}
