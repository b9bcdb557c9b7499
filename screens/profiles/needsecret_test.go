package profiles_test

import (
	"testing"

	"oidcctl/core"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/profiles"
)

// A profile imported without the client secret it needs is listed as
// "no secret", and its detail says how to give it.
func TestProfileWithoutSecretIsShown(t *testing.T) {
	e := screentest.New(t)
	p := screentest.Profile("idp", screentest.ExampleDiscoveryURL, "someapi", "")
	p.MissingSecrets = []string{core.SecretClientSecret}
	e.AddProfile(t, p)
	e.Open(t, profiles.New(e.Deps), "idp", "no secret", "client secret missing: press e to give it")
}
