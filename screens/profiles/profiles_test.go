package profiles_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/profiles"
	"oidcctl/tui/tuitest"
)

func TestAddWalkingEveryPage(t *testing.T) {
	prov := oidctest.Start(t)
	e := screentest.New(t)
	term, _ := e.OpenGolden(t, profiles.New(e.Deps), "empty", "No profile yet: press a to add one.")

	term.Type("a")
	tuitest.Golden(t, "add-basic", term.WaitFocus("Name"))
	term.Fill(
		tuitest.Field{"Name", "idp"},
		tuitest.Field{"Discovery URL", prov.DiscoveryURL},
		tuitest.Field{"Client ID", oidctest.ServiceClientID},
		tuitest.Field{"Client secret", oidctest.ServiceClientSecret},
	)
	f := term.WaitFocus("Additional scopes")
	if strings.Contains(f, oidctest.ServiceClientSecret) || !strings.Contains(f, "Client secret: **********") {
		t.Fatalf("the secret is not masked:\n%s", f)
	}
	term.Fill(
		tuitest.Field{"Additional scopes", "api offline_access"},
		tuitest.Field{"Provider flavour", ""},
		tuitest.Field{"Discovery cache TTL", ""},
	)
	term.WaitFocus("Client authentication")
	term.Press("right", "right") // auto, client_secret_basic, client_secret_post
	term.WaitFor("← client_secret_post →")
	term.Press("enter")
	term.WaitFocus("Assertion audience")
	term.Press("right")
	term.WaitFor("← issuer →")
	term.Press("enter")
	tuitest.Golden(t, "add-tls", term.WaitFocus("Client certificate"))
	term.Fill(
		tuitest.Field{"Client certificate", ""}, tuitest.Field{"Client key (PEM", ""}, tuitest.Field{"Client key password", ""},
		tuitest.Field{"CA file", ""}, tuitest.Field{"CA directory", ""}, tuitest.Field{"Verify the host name", ""},
		tuitest.Field{"Verify the certificate", ""}, tuitest.Field{"Allow plain http", ""},
		tuitest.Field{"Use a nonce", "y"}, // the select takes no letters: stays no
	)
	term.WaitFocus("Rand length")
	term.Press("backspace", "backspace")
	term.Type("32")
	term.Press("enter")
	term.Fill(tuitest.Field{"Rand TTL", ""}, tuitest.Field{"Leeway", ""}, tuitest.Field{"Redirect URI", "http://[::1]:8400/cb"})
	tuitest.Golden(t, "add-mapping", term.WaitFocus("UID claim"))
	term.Fill(tuitest.Field{"UID claim", ""})
	term.WaitFocus("Role map")
	term.Paste("realm_access.roles:\n  admin: Admin")
	term.Press("enter")
	term.WaitFocus("User map")
	term.Paste("email: Email")
	term.Press("enter")
	term.WaitFocus("Claims from userinfo too")
	term.Press("left", "enter") // yes
	term.WaitFocus("Log token claims")
	term.Press("left", "enter") // yes
	term.Fill(tuitest.Field{"User login", ""}, tuitest.Field{"Scopes", ""}, tuitest.Field{"Audiences", "billing"}, tuitest.Field{"Authorized party", ""},
		tuitest.Field{"Entra tenants", "t1 t2"})
	term.WaitFocus("DPoP-bound tokens")
	term.Press("right", "enter") // allow
	term.WaitFocus("Demand a DPoP nonce")
	term.Press("left", "enter") // yes

	f = term.WaitFor("Profile idp added.", "not fetched")
	if !strings.Contains(f, "secret set") || !strings.Contains(f, "scopes: api offline_access") {
		t.Fatalf("list after add:\n%s", f)
	}
	p := screentest.Get(t, e.DB.Profile, "idp")
	if p.ClientSecret.Reveal() != oidctest.ServiceClientSecret || p.Misc.RandLength != 32 ||
		!slices.Equal(p.Scopes, []string{"api", "offline_access"}) || !slices.Equal(p.Restrictions.Audiences, []string{"billing"}) ||
		p.RoleMap["realm_access.roles"]["admin"] != "Admin" || p.UserMap["email"] != core.UserEmail ||
		p.RedirectURI != "http://[::1]:8400/cb" || p.DPoP != core.DPoPAllow || !p.DPoPNonce ||
		!p.UserinfoClaims || !p.LogTokenClaims || !slices.Equal(p.Restrictions.Tenants, []string{"t1", "t2"}) ||
		p.TokenAuthMethod != core.AuthSecretPost || p.AssertionAudience != core.AudienceIssuer {
		t.Fatalf("stored profile: %+v", p)
	}

	// Test: discovery and the JWKS of the real provider.
	term.Type("t")
	term.WaitFor("✓ Profile idp works with this provider.", "issuer", prov.Issuer, "client_credentials")
	term.Press("pgdown")
	term.WaitFor("JWKS: 1 keys", prov.KeyID(), "RSA", "2048 bits")
	term.Press("esc")
	term.WaitFor("ok 0s")
}

func TestEditKeepsSecretAndPrefillSkipsIt(t *testing.T) {
	e := screentest.New(t)
	src := screentest.Profile("idp", "https://idp.example/.well-known/openid-configuration", "someapi", "s3cret")
	src.Scopes = []string{"openid"}
	src.TLS.SkipVerifyHostname = true
	e.AddProfile(t, src)
	term, _ := e.OpenGolden(t, profiles.New(e.Deps), "list", "idp.example", "someapi")

	// Edit: the secret field is empty and says the secret is kept.
	term.Type("e")
	f := term.WaitFocus("Discovery URL")
	tuitest.Golden(t, "edit", f)
	if !strings.Contains(f, "(set: leave empty to keep)") || strings.Contains(f, "s3cret") {
		t.Fatalf("edit form:\n%s", f)
	}
	term.Fill(tuitest.Field{"Discovery URL", ""}, tuitest.Field{"Client ID", ""}, tuitest.Field{"Client secret", ""})
	term.WaitFocus("Additional scopes")
	term.Type(" api")
	term.Press("ctrl+s")
	term.WaitFor("Profile idp saved.")
	p := screentest.Get(t, e.DB.Profile, "idp")
	if p.ClientSecret.Reveal() != "s3cret" || !slices.Equal(p.Scopes, []string{"openid", "api"}) || !p.TLS.SkipVerifyHostname {
		t.Fatalf("after edit: secret %q scopes %v skip hostname %v", p.ClientSecret.Reveal(), p.Scopes, p.TLS.SkipVerifyHostname)
	}

	// Add, prefilled from idp: its URL and settings, not its client or secret.
	term.Type("a")
	term.WaitFor("a blank profile", "settings of idp")
	term.Press("down", "enter")
	f = term.WaitFocus("Name")
	if !strings.Contains(f, "Discovery URL: https://idp.example/") || !strings.Contains(f, "Client secret: (leave empty") {
		t.Fatalf("prefilled form:\n%s", f)
	}
	term.Fill(tuitest.Field{"Name", "idp2"}, tuitest.Field{"Discovery URL", ""}, tuitest.Field{"Client ID", "other"})
	term.Press("ctrl+s")
	term.WaitFor("Profile idp2 added.")
	p2 := screentest.Get(t, e.DB.Profile, "idp2")
	if p2.DiscoveryURL != src.DiscoveryURL || p2.ClientSecret.IsSet() || p2.ClientID != "other" || !p2.TLS.SkipVerifyHostname {
		t.Fatalf("prefilled profile: %+v", p2)
	}
}

func TestRefusals(t *testing.T) {
	e := screentest.New(t)
	e.AddProfile(t, screentest.Profile("idp", "https://idp.example/.well-known/openid-configuration", "someapi", ""))
	e.AddAccount(t, core.NewAccount("billing", "idp"))
	term, _ := e.Open(t, profiles.New(e.Deps), "someapi")

	// Delete is refused while an account uses the profile: core says why.
	term.Ask("d", "delete-confirm", "Delete profile idp?", "used by billing")
	term.Type("y")
	term.WaitFor(`✗ profile "idp" is used by account billing; remove it or move it to another`, "profile first")
	if _, err := e.DB.Profile(context.Background(), "idp"); err != nil {
		t.Fatal(err)
	}
	// n and esc answer no.
	term.Type("d")
	term.WaitFor("Delete profile idp?")
	term.Press("esc")
	term.WaitGone("Delete profile idp?")

	// An invalid profile is refused with every problem, and the form stays.
	term.Type("a")
	term.WaitFor("a blank profile")
	term.Press("enter")
	term.Fill(tuitest.Field{"Name", "bad name!"}, tuitest.Field{"Discovery URL", "ftp://x"}, tuitest.Field{"Client ID", "c"})
	term.WaitFocus("Client secret")
	term.Press("ctrl+s")
	f := term.WaitFor("✗ name", "✗ discovery URL")
	tuitest.Golden(t, "invalid", f)
	term.Discard() // what was typed would be lost: it asks
	term.WaitFor("someapi")
	if ps, _ := e.DB.Profiles(context.Background()); len(ps) != 1 {
		t.Fatalf("profiles after refusal: %v", ps)
	}

	// Delete works once the account is gone.
	if err := e.DB.DeleteAccount(context.Background(), "billing"); err != nil {
		t.Fatal(err)
	}
	term.Type("r")
	term.WaitFor("  0 ")
	term.Confirm("d", "Delete profile idp?", "cached discovery document goes with it")
	term.WaitFor("Profile idp deleted.", "No profile yet")
}

// After "Profile op2 added. Press t to test it." the cursor is on op2, so
// that t tests op2, not the profile selected before.
func TestAddedProfileIsSelected(t *testing.T) {
	e, prov := screentest.WithProvider(t)
	term, _ := e.Open(t, profiles.New(e.Deps), "▸idp")
	term.Type("a")
	term.WaitFor("settings of idp")
	term.Press("down", "enter")
	term.Fill(tuitest.Field{"Name", "op2"}, tuitest.Field{"Discovery URL", ""},
		tuitest.Field{"Client ID", oidctest.ServiceClientID}, tuitest.Field{"Client secret", oidctest.ServiceClientSecret})
	term.WaitFocus("Additional scopes")
	term.Press("ctrl+s")
	term.WaitFor("✓ Profile op2 added. Press t to test it.", "▸op2", "2/2")
	term.Type("t")
	term.WaitTitle("Profiles › Test op2")
	term.WaitFor("issuer", prov.Issuer)
}

// A form left untouched, or only walked through with enter, has nothing
// to lose: esc leaves it at once, without "Discard changes?".
func TestUntouchedFormsLeaveAtOnce(t *testing.T) {
	e := screentest.WithProfile(t, "idp")
	term, _ := e.Open(t, profiles.New(e.Deps), "▸idp")
	for _, from := range [][]string{{"enter"}, {"down", "enter"}} {
		term.Press("a")
		term.WaitFor("a blank profile")
		term.Press(from...)
		term.WaitFocus("Name")
		term.Press("esc")
		term.WaitTitle("Profiles")
	}
	term.Press("e")
	term.WaitFocus("Discovery URL")
	term.Press("enter")
	term.WaitFocus("Client ID")
	term.Press("enter")
	term.WaitFocus("Client secret")
	term.Press("esc")
	term.WaitTitle("Profiles")
	// One change, and esc asks.
	term.Press("e")
	term.WaitFocus("Discovery URL")
	term.Type("x")
	term.Discard()
	term.WaitTitle("Profiles")
}

// What the columns and the detail pane cut at 80 columns (a long
// discovery URL, many scopes) is a key away: enter opens the profile
// whole; e still edits.
func TestLongValuesWholeOnEnter(t *testing.T) {
	e := screentest.New(t)
	url := "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration"
	p := screentest.Profile("entra-contoso-production", url, "6e2bbc7d-1a1b-4c8a-9b1e-00000000a001", "s")
	p.Scopes = []string{"api://6e2bbc7d-1a1b-4c8a-9b1e-00000000a001/tickets.read", "offline_access"}
	e.AddProfile(t, p)
	term, f := e.Open(t, profiles.New(e.Deps), "▸entra-contoso")
	screentest.WholeOnEnter(t, term, f, "Profiles › entra-contoso-production", "Profiles",
		url, "scopes: "+strings.Join(p.Scopes, " "))
	term.Press("e")
	term.WaitFocus("Discovery URL")
}

// The detail under the list names a key or certificate method and how
// many client keys the profile has.
func TestDetailNamesClientAuth(t *testing.T) {
	e := screentest.New(t)
	p := screentest.Profile("keyed", "https://idp.example/.well-known/openid-configuration", "someapi", "")
	p.TokenAuthMethod = core.AuthPrivateKeyJWT
	p.ClientKeys = []core.ClientKey{{ID: "k1", Algorithm: core.KeyES256, PrivateKey: core.NewSecret("x")}}
	e.AddProfile(t, p)
	e.Open(t, profiles.New(e.Deps), "someapi · private_key_jwt (1 key(s))")
}
