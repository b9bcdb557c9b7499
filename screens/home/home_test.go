package home_test

import (
	"context"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/screens/home"
	"oidcctl/screens/internal/screentest"
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
	f := term.WaitFor("filter", "1/1 (of 5)")
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
