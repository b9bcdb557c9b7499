package accounts_test

import (
	"context"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/screens/accounts"
	"oidcctl/screens/internal/screentest"
)

// An account imported without the password it needs is listed as "no
// secret", its detail says how to give it, and once the password is given
// the list shows its tokens' state again.
func TestAccountWithoutSecretIsShown(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	a := core.NewAccount("svc", "idp")
	a.GrantType, a.Username, a.Scopes = core.GrantPassword, "svc", []string{"openid"}
	a.MissingSecrets = []string{core.SecretPassword}
	e.AddAccount(t, a)
	term, _ := e.Open(t, accounts.New(e.Deps), "svc", "no secret", "password missing: press e to give it")

	if _, err := e.Reg().EditAccount(context.Background(), "svc", func(a *core.Account) error {
		a.Password = core.NewSecret("pw")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := screentest.Get(t, e.DB.Account, "svc"); got.NeedsSecret() {
		t.Fatalf("the password was given, and the account still needs %v", got.MissingSecrets)
	}
	term.Type("r")
	f := term.WaitFor("svc", "none")
	if contains(f, "no secret") {
		t.Fatalf("after the password was given:\n%s", f)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
