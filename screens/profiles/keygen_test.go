package profiles_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/profiles"
)

// K on a private_key_jwt profile asks, then makes a key sealed in the
// database as the signing key (the older one kept) and shows the public
// keys to register, which c copies by OSC 52; on a profile with a client
// secret it refuses, saying what to do; the help lists the key.
func TestKeygen(t *testing.T) {
	e := screentest.New(t)
	e.AddProfile(t, screentest.Profile("idp", "https://idp.example/.well-known/openid-configuration", "someapi", "s3cret"))
	keyed := screentest.Profile("keyed", "https://idp.example/.well-known/openid-configuration", "keyed-client", "")
	keyed.TokenAuthMethod = core.AuthPrivateKeyJWT
	old, err := clientauth.Generate(core.KeyES256, "keyed-client", false, e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyed.AddClientKey(old, false)
	e.AddProfile(t, keyed)
	term, _ := e.Open(t, profiles.New(e.Deps), "idp.example", "keyed-client")

	// idp has a client secret: no key for it.
	term.Type("K")
	term.WaitFor("does not authenticate by private_key_jwt")
	if got := screentest.Get(t, e.DB.Profile, "idp"); len(got.ClientKeys) != 0 {
		t.Fatalf("a key was made for a secret profile: %+v", got.ClientKeys)
	}

	term.Press("down")
	term.Type("?")
	term.WaitFor("K", "new client key")
	term.Press("esc")
	term.Type("K")
	term.WaitFor("Make a new client key for keyed?", "1 older key(s) stay")
	term.Press("esc") // Cancel: nothing made
	if got := screentest.Get(t, e.DB.Profile, "keyed"); len(got.ClientKeys) != 1 {
		t.Fatalf("cancel made a key: %d keys", len(got.ClientKeys))
	}
	term.Type("K")
	term.WaitFor("Make a new client key for keyed?")
	term.Type("y")
	f := term.WaitFor("created for profile", "Public keys (JWKS)", "1 older key(s) kept")
	if strings.Contains(f, "PRIVATE KEY") || strings.Contains(f, `"d":`) {
		t.Fatalf("the screen shows a private key:\n%s", f)
	}
	p := screentest.Get(t, e.DB.Profile, "keyed")
	signing, ok := p.SigningKey()
	if len(p.ClientKeys) != 2 || !ok || signing.ID == old.ID || !strings.Contains(f, signing.ID) {
		t.Fatalf("stored keys %d, signing %s (old %s):\n%s", len(p.ClientKeys), signing.ID, old.ID, f)
	}
	jwks, err := clientauth.PublicJWKS(p.ClientKeys)
	if err != nil {
		t.Fatal(err)
	}
	term.Type("c")
	term.WaitOutput("\x1b]52;c;" + base64.StdEncoding.EncodeToString(jwks))
	term.WaitFor("copied")
}
