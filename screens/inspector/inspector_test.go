package inspector_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/screens/inspector"
	"oidcctl/screens/internal/screentest"
	"oidcctl/tui/tuitest"
)

// masked makes a frame independent of the provider's port and key id, so
// that it can be a golden file; both keep their length.
func masked(prov *oidctest.Provider, frame string) string {
	port := prov.Issuer[strings.LastIndex(prov.Issuer, ":")+1:]
	frame = strings.ReplaceAll(frame, prov.Issuer, strings.TrimSuffix(prov.Issuer, port)+strings.Repeat("9", len(port)))
	return strings.ReplaceAll(frame, prov.KeyID(), "00000000-0000-0000-0000-000000000000")
}

// signed is a token the provider signs with claims for the clock T0.
func signed(t *testing.T, prov *oidctest.Provider, exp time.Time) string {
	t.Helper()
	t0 := screentest.T0
	tok, err := prov.SignJWT(map[string]any{
		"iss":   prov.Issuer,
		"sub":   "svc-billing",
		"aud":   []string{oidctest.ServiceClientID, "https://api.example"},
		"azp":   oidctest.ServiceClientID,
		"iat":   t0.Add(-48 * time.Second).Unix(),
		"exp":   exp.Unix(),
		"scope": "openid api",
		"email": "billing@example.test",
		"realm_access": map[string]any{
			"roles": []string{"admin", "offline_access"},
		},
		"resource_access": map[string]any{
			"api": map[string]any{"roles": []string{"reader"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPastedToken(t *testing.T) {
	prov := oidctest.Start(t)
	e := screentest.New(t)
	p := screentest.Profile("idp", prov.DiscoveryURL, oidctest.ServiceClientID, oidctest.ServiceClientSecret)
	p.RoleMap = core.RoleMap{"realm_access.roles": {"admin": "Admin"}}
	p.UserMap = core.UserMap{"email": core.UserEmail}
	e.AddProfile(t, p)
	term, _ := e.OpenGolden(t, inspector.New(e.Deps), "empty", "press v and paste one", "No functional account")

	// A paste with the Bearer prefix and the line breaks of a wrapped
	// terminal line.
	tok := signed(t, prov, screentest.T0.Add(4*time.Minute+12*time.Second))
	term.Paste("Bearer " + tok[:40] + "\n" + tok[40:] + "\n")
	term.WaitFor("enter inspect")
	term.Press("enter")
	f := term.WaitFor("✓ ACCEPTED by profile idp", "Header")
	tuitest.Golden(t, "accepted", masked(prov, f))
	term.Press("end")
	f = term.WaitFor("would be created from the token", "of 50 · end")
	tuitest.Golden(t, "accepted-end", masked(prov, f))
	for _, want := range []string{"token roles  Admin", "roles        Admin"} {
		if !strings.Contains(f, want) {
			t.Errorf("no %q in\n%s", want, f)
		}
	}
	term.Press("pgup")
	term.WaitFor("Checks against profile idp", "✓ signature", "✓ issuer")
	if _, err := e.DB.User(context.Background(), "svc-billing"); err == nil {
		t.Fatal("inspecting created a user")
	}

	// An expired token is refused, with the reason on top.
	term.Press("esc")
	term.WaitTitle("Inspector")
	term.Paste(signed(t, prov, screentest.T0.Add(-10*time.Minute)))
	term.Press("enter")
	f = term.WaitFor("✗ REFUSED by profile idp: expired (HTTP 401)", "10m0s ago")
	tuitest.Golden(t, "refused", masked(prov, f))

	// Something that is no token at all, typed.
	term.Press("esc")
	term.WaitTitle("Inspector")
	term.Type("v")
	term.Press("ctrl+u")
	term.Type("not.a.token")
	term.Press("enter")
	term.WaitFor("✗ REFUSED by profile idp: malformed (HTTP 401)", "could not be decoded")
}

func TestAccountTokenAgainstEachProfile(t *testing.T) {
	prov := oidctest.Start(t)
	e := screentest.New(t)
	e.Clock.Set(time.Now()) // the provider's tokens are for the real time
	e.AddProfile(t, screentest.Profile("idp", prov.DiscoveryURL, oidctest.ServiceClientID, oidctest.ServiceClientSecret))
	e.AddProfile(t, screentest.Profile("web", prov.DiscoveryURL, oidctest.WebClientID, oidctest.WebClientSecret))
	e.AddAccount(t, core.NewAccount("billing", "idp"))
	code := core.NewAccount("support", "web")
	code.GrantType = core.GrantAuthorizationCode
	e.AddAccount(t, code)
	if err := e.DB.CreateUser(context.Background(), core.User{Login: oidctest.ServiceClientID, Email: "svc@example.test", Roles: []string{"ticket-reader"}}); err != nil {
		t.Fatal(err)
	}
	term, _ := e.Open(t, inspector.New(e.Deps), "billing", "support", "none")

	// billing has no token yet: it is obtained, then judged by its profile.
	term.Press("enter")
	f := term.WaitFor("✓ ACCEPTED by profile idp", "Accepted as")
	for _, want := range []string{"sub", oidctest.ServiceClientID, "iss", prov.Issuer, "exp"} {
		if !strings.Contains(f, want) {
			t.Errorf("no %q in\n%s", want, f)
		}
	}
	// A token issued within the same second still has its full 5m0s.
	if !regexp.MustCompile(`· in (4m\d+s|5m0s)`).MatchString(f) {
		t.Errorf("no countdown to exp in\n%s", f)
	}
	if st, err := e.DB.TokenState(context.Background(), "billing"); err != nil || !st.Tokens.AccessToken.IsSet() {
		t.Fatalf("the token was not obtained and kept: %+v %v", st, err)
	}
	term.Press("end")
	term.WaitFor("found, unchanged", "ticket-reader")

	// Every profile: the one that accepts comes first, ←/→ show the others.
	term.Press("esc")
	term.WaitTitle("Inspector")
	term.Type("ppp")
	term.WaitFor("every profile · p to change")
	term.Press("enter")
	f = term.WaitFor("✓ ACCEPTED by profile idp · 1/2", "Verdicts", "▸ idp")
	if !strings.Contains(f, "web            ✗ REFUSED     audience_mismatch") {
		t.Errorf("verdicts:\n%s", f)
	}
	term.Press("right")
	term.WaitFor("✗ REFUSED by profile web: audience_mismatch (HTTP 401) · 2/2", "▸ web")
	term.Press("left")
	term.WaitFor("✓ ACCEPTED by profile idp · 1/2")
	term.Press("esc")
	term.Type("P")
	term.WaitFor("web · p to change")

	// An account that needs a login says so in the screen.
	term.Press("down", "enter")
	term.WaitFor("✗ support has no token yet and needs a person to log in")
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  eyJa.eyJb.sig \n":                  "eyJa.eyJb.sig",
		"Bearer eyJa.eyJb.sig":                "eyJa.eyJb.sig",
		"bearer\teyJa.\neyJb.\r\nsig":         "eyJa.eyJb.sig",
		"Authorization: Bearer eyJa.eyJb.sig": "eyJa.eyJb.sig",
		"eyJa.ey Jb.s ig":                     "eyJa.eyJb.sig",
		"Bearer":                              "Bearer",
	} {
		if got := inspector.Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// esc leaves the token field without throwing the pasted token away: the
// Token line keeps it, and v then enter inspects it (so esc needs no
// "discard?" question, unlike a form's).
func TestEscKeepsPastedToken(t *testing.T) {
	term, tok := pasteToken(t)
	term.Press("esc")
	term.WaitFor(fmt.Sprintf("(%d chars) · v, enter to inspect it", len(tok)))
	term.Type("v")
	term.WaitFor("enter inspect")
	term.Press("enter")
	term.WaitFor("Inspector › Pasted token", "by profile idp", "svc-billing")
}

// ctrl+c in the token field holding a pasted token asks before throwing it
// away, as a form with changes does, instead of quitting: n keeps it, y
// empties the field.
func TestCtrlCAsksBeforeDiscardingPastedToken(t *testing.T) {
	term, tok := pasteToken(t)
	term.Press("ctrl+c")
	term.WaitFor("Discard the pasted token?", "Cancel (n)")
	term.Type("n")
	term.WaitFor("enter inspect")
	term.Press("esc")
	term.WaitFor(fmt.Sprintf("(%d chars) · v, enter to inspect it", len(tok)))
	term.Type("v")
	term.Press("ctrl+c")
	term.WaitFor("Discard the pasted token?")
	term.Type("y")
	term.WaitFor("press v and paste one")
}

// pasteToken opens the inspector on a profile of a fresh provider and
// pastes a token of it into the token field.
func pasteToken(t *testing.T) (*tuitest.Term, string) {
	t.Helper()
	prov := oidctest.Start(t)
	e := screentest.New(t)
	e.AddProfile(t, screentest.Profile("idp", prov.DiscoveryURL, oidctest.ServiceClientID, oidctest.ServiceClientSecret))
	term := e.Shell(t, 80, 24, inspector.New(e.Deps))
	term.WaitFor("press v and paste one")
	tok := signed(t, prov, screentest.T0.Add(4*time.Minute))
	term.Paste(tok)
	term.WaitFor("enter inspect")
	return term, tok
}
