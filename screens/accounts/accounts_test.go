package accounts_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/screens/accounts"
	"oidcctl/screens/internal/screentest"
	"oidcctl/tui/tuitest"
)

func TestAddAndEditWithAdvanced(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	e.AddProfile(t, screentest.Profile("other", "https://other.example/.well-known/openid-configuration", "x", "s"))
	term, _ := e.OpenGolden(t, accounts.New(e.Deps), "empty", "No functional account yet")

	term.Type("a")
	tuitest.Golden(t, "add", term.WaitFocus("Name"))
	term.Type("billing")
	term.Press("enter")
	term.WaitFocus("Profile")
	term.Press("enter") // idp, the first
	term.WaitFocus("Grant type")
	term.Press("enter") // client_credentials
	term.WaitFocus("Scopes")
	term.Type("openid api")
	term.Press("enter")
	f := term.WaitFocus("Show advanced settings")
	if strings.Contains(f, "Resources") {
		t.Fatalf("the advanced page shows before it is asked for:\n%s", f)
	}
	term.Press("enter") // no
	f = term.WaitFor("Account billing added.", "billing", "client_credentials", "none")
	tuitest.Golden(t, "list", f)
	a := screentest.Get(t, e.DB.Account, "billing")
	if a.Profile != "idp" || a.GrantType != core.GrantClientCredentials || !slices.Equal(a.Scopes, []string{"openid", "api"}) ||
		a.ResourceParam != "resource" || a.TokenType != core.TokenAccess {
		t.Fatalf("stored: %+v", a)
	}

	// Edit: move to the password grant and open the advanced page.
	term.Type("e")
	term.WaitFocus("Profile")
	term.Press("down", "enter") // other
	term.WaitFocus("Grant type")
	term.Press("right", "enter") // password
	term.WaitFocus("Scopes")
	term.Press("enter")
	term.WaitFocus("Show advanced settings")
	term.Press("left", "enter") // yes
	term.WaitFocus("Username")
	term.Type("svc")
	term.Press("enter")
	term.WaitFocus("Password")
	term.Type("pw")
	term.Press("enter")
	tuitest.Golden(t, "advanced", term.WaitFocus("Resources"))
	term.Type("https://api.example")
	term.Press("enter")
	term.WaitFocus("Resource parameter name")
	term.Press("enter")
	term.WaitFocus("Token to hand out")
	term.Press("right", "enter") // id_token
	term.WaitFocus("Redirect URI")
	term.Type("http://localhost:8400/cb")
	term.Press("enter")
	term.WaitFocus("Obtain DPoP-bound tokens")
	term.Press("left", "enter") // yes
	term.WaitFor("Account billing saved.")
	a = screentest.Get(t, e.DB.Account, "billing")
	if a.Profile != "other" || a.GrantType != core.GrantPassword || a.Username != "svc" || a.Password.Reveal() != "pw" ||
		!slices.Equal(a.Resources, []string{"https://api.example"}) || a.TokenType != core.TokenID ||
		a.RedirectURI != "http://localhost:8400/cb" || !a.DPoP || !a.DPoPKey.IsSet() {
		t.Fatalf("after edit: %+v (password %q)", a, a.Password.Reveal())
	}

	// Edit again: the password is not shown and is kept when left empty.
	term.Type("e")
	term.WaitFocus("Profile")
	term.Press("ctrl+s")
	term.WaitTitle("Accounts")
	if a = screentest.Get(t, e.DB.Account, "billing"); a.Password.Reveal() != "pw" {
		t.Fatalf("password after an edit that left it empty: %q", a.Password.Reveal())
	}

	// Delete asks first.
	term.Confirm("d", "Delete account billing?")
	term.WaitFor("Account billing deleted.", "No functional account yet")
}

func TestAddNeedsProfile(t *testing.T) {
	e := screentest.New(t)
	term, _ := e.Open(t, accounts.New(e.Deps), "No functional account yet")
	term.Type("a")
	term.WaitFor("✗ an account obtains tokens from a profile: add a profile first")
}

func TestGetTokenNow(t *testing.T) {
	e, prov := screentest.WithProvider(t)
	e.AddProfile(t, screentest.Profile("bad", prov.DiscoveryURL, oidctest.ServiceClientID, "wrong"))
	e.AddAccount(t, core.NewAccount("broken", "bad"))
	term, _ := e.Open(t, accounts.New(e.Deps), "billing", "broken")
	term.Type("f") // billing, the first
	term.WaitFor("billing: token obtained, expires in ", "valid")
	st, err := e.DB.TokenState(context.Background(), "billing")
	if err != nil || !st.Tokens.AccessToken.IsSet() {
		t.Fatalf("token state: %+v, %v", st, err)
	}

	// A failure is shown on the screen and kept in the store.
	term.Press("down")
	term.Type("f")
	term.WaitFor("✗ renew tokens of broken", "failing", "last error: client_credentials for broken")
}

// The edit form shows the account as stored, not as the list last read
// it: a save the list has not yet reloaded (or a change by the command
// line or serve) is not written back over by a form made from the old
// row. Before, saving such a form at once reverted the password grant.
func TestEditReadsTheStoredAccount(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	e.AddAccount(t, core.NewAccount("billing", "idp"))
	term, _ := e.Open(t, accounts.New(e.Deps), "billing", "client_credentials")

	// The list keeps its row: nothing tells it of this change.
	if _, err := e.Reg().EditAccount(context.Background(), "billing", func(a *core.Account) error {
		a.GrantType, a.Username, a.Password = core.GrantPassword, "svc", core.NewSecret("pw")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	term.Type("e")
	term.WaitFocus("Profile")
	term.Press("ctrl+s")
	term.WaitFor("Account billing saved.")
	if a := screentest.Get(t, e.DB.Account, "billing"); a.GrantType != core.GrantPassword || a.Username != "svc" || a.Password.Reveal() != "pw" {
		t.Fatalf("after saving an unchanged form: grant %s, user %q, password %q", a.GrantType, a.Username, a.Password.Reveal())
	}
}

// A form left untouched, or only walked through with enter, has nothing
// to lose: esc leaves it at once, without "Discard changes?".
func TestUntouchedFormsLeaveAtOnce(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	e.AddAccount(t, core.NewAccount("billing", "idp"))
	term, _ := e.Open(t, accounts.New(e.Deps), "▸billing")
	term.Press("a")
	term.WaitFocus("Name")
	term.Press("esc")
	term.WaitTitle("Accounts")
	term.Press("e")
	term.WaitFocus("Profile")
	term.Press("enter")
	term.WaitFocus("Grant type")
	term.Press("enter")
	term.WaitFocus("Scopes")
	term.Press("esc")
	term.WaitTitle("Accounts")
}

// What the columns and the detail pane cut at 80 columns (many scopes,
// long resources, a long error) is a key away: enter opens the account
// whole; e still edits.
func TestLongValuesWholeOnEnter(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	a := core.NewAccount("billing-nightly-export", "idp")
	a.Scopes = []string{"openid", "offline_access", "api://6e2bbc7d-1a1b-4c8a-9b1e-00000000a001/tickets.read"}
	a.Resources = []string{"https://tickets.internal.example.org/api/v2", "https://billing.internal.example.org/api/v1"}
	e.AddAccount(t, a)
	failure := "the provider at https://idp.example/token answers 400 invalid_scope: the requested scope api://6e2bbc7d-1a1b-4c8a-9b1e-00000000a001/tickets.read is not granted to this client"
	if err := e.DB.RecordFailure(context.Background(), a.Name, "", core.Failure{Err: failure, At: screentest.T0}); err != nil {
		t.Fatal(err)
	}
	term, f := e.Open(t, accounts.New(e.Deps), "▸billing-nightly")
	screentest.WholeOnEnter(t, term, f, "Accounts › billing-nightly-export", "Accounts",
		strings.Join(a.Scopes, " "), strings.Join(a.Resources, " "), failure)
	term.Press("e")
	term.WaitFocus("Profile")
}
