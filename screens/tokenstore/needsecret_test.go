package tokenstore_test

import (
	"testing"

	"oidcctl/core"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/tokenstore"
)

// The token store lists an account whose profile was imported without
// its client secret as "no secret", and says where to give it.
func TestAccountWithoutSecretIsShown(t *testing.T) {
	e := screentest.New(t)
	p := screentest.Profile("idp", screentest.ExampleDiscoveryURL, "someapi", "")
	p.MissingSecrets = []string{core.SecretClientSecret}
	e.AddProfile(t, p)
	a := core.NewAccount("billing", "idp")
	a.Scopes = []string{"openid"}
	e.AddAccount(t, a)
	e.Open(t, tokenstore.New(e.Deps), "billing", "no secret", "the secret of profile idp is missing")
}
