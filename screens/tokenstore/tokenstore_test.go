package tokenstore_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/db/dbtest"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/tokenstore"
)

func TestStatesAndCountdown(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	code := core.NewAccount("support", "idp")
	code.GrantType = core.GrantAuthorizationCode
	code.Scopes = []string{"openid", "offline_access"}
	for _, a := range []core.Account{core.NewAccount("billing", "idp"), core.NewAccount("old", "idp"), core.NewAccount("reports", "idp"), code, core.NewAccount("zero", "idp")} {
		e.AddAccount(t, a)
	}
	ctx, t0 := context.Background(), screentest.T0
	save := func(name string, set core.TokenSet) {
		t.Helper()
		if err := e.DB.SaveTokens(ctx, name, "", set); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Set(t0.Add(-time.Hour))
	save("billing", core.TokenSet{AccessToken: core.NewSecret("at-billing"), Expiry: t0.Add(4*time.Minute + 12*time.Second), Scope: "api"})
	save("old", core.TokenSet{AccessToken: core.NewSecret("at-old"), Expiry: t0.Add(-10 * time.Minute)})
	save("support", core.TokenSet{AccessToken: core.NewSecret("at"), RefreshToken: core.NewSecret("rt"), IDToken: core.NewSecret("id"),
		Expiry: t0.Add(3 * time.Minute), RefreshExpiry: t0.Add(30 * time.Hour), Scope: "openid offline_access"})
	if err := e.DB.RecordFailure(ctx, "reports", "", core.Failure{Err: "client_credentials for reports: the provider refused: invalid_client (HTTP 401)",
		At: t0.Add(-2 * time.Minute), NextAttempt: t0.Add(28 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(t0)

	term, f := e.OpenGolden(t, tokenstore.New(e.Deps), "states", "billing", "in 4m12s")
	for _, want := range []string{"expired", "failing", "valid", "none", "in 30h0m", "client_cred"} {
		if !strings.Contains(f, want) {
			t.Errorf("no %q in\n%s", want, f)
		}
	}
	// The countdown moves with the clock, once a second.
	e.Clock.Add(time.Second)
	term.WaitFor("in 4m11s")

	// The detail of the failing account says when it is tried again.
	term.Press("down", "down")
	term.WaitFor("error (1 failure, next try in 27s): client_credentials for reports", "refused: invalid_client (HTTP 401)")

	// Copying needs a token and a yes.
	term.Press("down", "down")
	term.Type("c")
	term.WaitFor("✗ zero has no access_token to copy")
	term.Press("home")
	term.Ask("c", "copy-warning", "Copy the access_token of billing to the clipboard?", "live credential")
	term.Type("y")
	term.WaitFor("The access_token of billing is on your clipboard.")
	term.WaitOutput("\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte("at-billing")))
}

func TestRefreshAndRevoke(t *testing.T) {
	e, prov := screentest.WithProvider(t)
	term, _ := e.Open(t, tokenstore.New(e.Deps), "billing", "none")

	// r reloads the list, as on every tab; f goes to the provider.
	term.WaitFor("f refresh token")
	term.Type("r")
	term.WaitFor("billing", "none")
	if n := len(prov.TokenRequests()); n != 0 {
		t.Fatalf("r asked the provider for tokens %d times", n)
	}
	term.Type("f")
	term.WaitFor("billing refreshed: expires in ", "valid")
	st, err := e.DB.TokenState(context.Background(), "billing")
	if err != nil || !st.Tokens.AccessToken.IsSet() {
		t.Fatalf("after refresh: %+v, %v", st, err)
	}
	n := len(prov.TokenRequests())

	term.Type("x")
	term.WaitFor("Revoke the tokens of billing?")
	term.Type("n")
	term.WaitGone("Revoke the tokens of billing?")
	term.Confirm("x", "Revoke the tokens of billing?")
	term.WaitFor("Tokens of billing revoked (1 at the provider) and forgotten.", "none")
	if st, err = e.DB.TokenState(context.Background(), "billing"); err != nil || st.Tokens.AccessToken.IsSet() {
		t.Fatalf("after revoke: %+v, %v", st, err)
	}
	if len(prov.TokenRequests()) != n {
		t.Fatalf("revoking asked for tokens")
	}
	// Nothing left to revoke.
	term.Type("x")
	term.WaitFor("✗ billing has no tokens to revoke")
}

// TestDamagedRow: an account whose stored tokens cannot be opened is shown
// as damaged with the reason, beside the others, and f obtains new tokens.
func TestDamagedRow(t *testing.T) {
	e, _ := screentest.WithProvider(t)
	e.AddAccount(t, core.NewAccount("reports", "idp"))
	ctx := context.Background()
	for _, n := range []string{"billing", "reports"} {
		if err := e.DB.SaveTokens(ctx, n, "", core.TokenSet{AccessToken: core.NewSecret("at-" + n), Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	dbtest.CorruptToken(t, e.Dir, "billing", "access_token")

	term, _ := e.Open(t, tokenstore.New(e.Deps), "billing", "damaged", "stored token", "reports", "valid")
	f := term.WaitFor("damaged (press f to obtain new tokens): the stored access_token cannot be")
	// The detail pane cuts the error; enter shows the whole of it.
	st, err := e.DB.TokenState(ctx, "billing")
	if err != nil || st.Damaged == nil {
		t.Fatalf("not damaged: %v", err)
	}
	whole := strings.Join(strings.Fields(st.Damaged.Error()), " ")
	if strings.Contains(strings.Join(strings.Fields(f), " "), whole) {
		t.Fatalf("the error is not long enough to be cut at 80 columns: %s", whole)
	}
	term.Press("enter")
	f = term.WaitTitle("Tokens › billing")
	if !strings.Contains(strings.Join(strings.Fields(f), " "), whole) {
		t.Fatalf("the page lacks the whole error %q:\n%s", whole, f)
	}
	term.Press("esc")
	term.WaitTitle("Tokens")
	term.Type("f")
	term.WaitFor("billing refreshed: expires in ")
	term.WaitGone("damaged")
	if st, err := e.DB.TokenState(ctx, "billing"); err != nil || st.Damaged != nil || !st.Tokens.AccessToken.IsSet() {
		t.Fatalf("after refresh: damaged %v, %v", st.Damaged, err)
	}
}

// An account that needs a person to log in says so in short words that
// fit the state column at 80 columns, not "needs au…".
func TestNeedsAuthFitsAt80(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	code := core.NewAccount("support", "idp")
	code.GrantType = core.GrantAuthorizationCode
	e.AddAccount(t, code)
	if err := e.DB.RecordFailure(context.Background(), "support", "", core.Failure{Err: "the refresh token was revoked",
		At: screentest.T0, NeedsAuthorization: true}); err != nil {
		t.Fatal(err)
	}
	_, f := e.Open(t, tokenstore.New(e.Deps), "support")
	if !strings.Contains(f, "needs auth ") || strings.Contains(f, "needs au…") {
		t.Fatalf("the state is cut or long:\n%s", f)
	}
}

// The page that enter opens wraps every line, not only the error: a long
// granted scope shows whole.
func TestLongScopeWholeOnEnter(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	e.AddAccount(t, core.NewAccount("billing", "idp"))
	scope := "openid offline_access api://6e2bbc7d-1a1b-4c8a-9b1e-00000000a001/tickets.read api://6e2bbc7d-1a1b-4c8a-9b1e-00000000a001/tickets.write"
	if err := e.DB.SaveTokens(context.Background(), "billing", "", core.TokenSet{AccessToken: core.NewSecret("at"),
		Scope: scope, Expiry: screentest.T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	term, f := e.Open(t, tokenstore.New(e.Deps), "▸billing", "valid")
	screentest.WholeOnEnter(t, term, f, "Tokens › billing", "Tokens", "scope "+scope)
}
