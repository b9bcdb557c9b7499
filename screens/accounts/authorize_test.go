package accounts_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/screens/accounts"
	"oidcctl/screens/internal/screentest"
	"oidcctl/tui/tuitest"
)

// loginSetup is a provider, a profile with its web client and an
// authorization_code account that asks for a refresh token.
func loginSetup(t *testing.T) (*oidctest.Provider, *screentest.Env) {
	t.Helper()
	prov := oidctest.Start(t, oidctest.WithDevicePollInterval(time.Second))
	e := screentest.New(t)
	e.Clock.Set(time.Now())
	e.AddProfile(t, screentest.Profile("idp", prov.DiscoveryURL, oidctest.WebClientID, oidctest.WebClientSecret))
	a := core.NewAccount("support", "idp")
	a.GrantType = core.GrantAuthorizationCode
	a.Scopes = []string{"openid", "offline_access"}
	e.AddAccount(t, a)
	return prov, e
}

func authorized(t *testing.T, e *screentest.Env) {
	t.Helper()
	st, err := e.DB.TokenState(context.Background(), "support")
	if err != nil || !st.Tokens.AccessToken.IsSet() || !st.Tokens.RefreshToken.IsSet() {
		t.Fatalf("after the login: %+v, %v", st, err)
	}
}

// userCode is a device flow user code as the provider makes them.
var userCode = regexp.MustCompile(`[A-Z]{4}-[A-Z]{4}`)

// approveShownCode approves, as the provider's user, the device flow
// user code shown in frame, as a person would after reading it there.
func approveShownCode(t *testing.T, prov *oidctest.Provider, frame string) {
	t.Helper()
	code := userCode.FindString(frame)
	if code == "" {
		t.Fatalf("no code on screen:\n%s", frame)
	}
	if err := prov.ApproveDevice(code, prov.Username()); err != nil {
		t.Fatal(err)
	}
}

func TestAuthorizeDeviceFlow(t *testing.T) {
	prov, e := loginSetup(t)
	term, _ := e.Open(t, accounts.New(e.Deps), "support", "authorization_code")
	term.Type("o")
	f := term.WaitFor("On any device, open", prov.Issuer+"/device", "and enter the code", "Waiting for the code to be entered…")
	approveShownCode(t, prov, f)
	term.WaitFor("✓ support is authorized: access token and refresh token stored, expires in ")
	authorized(t, e)
	term.Press("esc")
	term.WaitFor("valid")
}

func TestAuthorizeDeviceFlowShowsQRWhenLarge(t *testing.T) {
	prov, e := loginSetup(t)
	term := e.Shell(t, 200, 50, accounts.New(e.Deps))
	term.WaitFor("support")
	term.Type("o")
	f := term.WaitFor("and enter the code", "█", prov.Issuer+"/device")
	if strings.Contains(f, "a larger terminal shows a QR code") {
		t.Fatalf("no QR code at 200×50:\n%s", f)
	}
	// Below 80×24 the shell says so rather than cut the code.
	term.Resize(60, 20)
	term.WaitFor("terminal too small (need 80×24)")
	term.Resize(80, 24) // the device code's QR code fits at 80×24
	term.WaitFor("and enter the code", "█", prov.Issuer+"/device")
	term.Press("esc") // cancels the login
	term.WaitTitle("Accounts")
}

func TestAuthorizeRemoteByPastedRedirect(t *testing.T) {
	prov, e := loginSetup(t)
	e.Vars["SSH_CONNECTION"] = "10.0.0.1 50000 10.0.0.2 22"
	term, _ := e.Open(t, accounts.New(e.Deps), "support")
	term.Type("o")
	term.WaitFor("and enter the code") // the device flow first: the provider has it
	term.Type("u")
	f := term.WaitFor("Open this URL in a browser", "ssh -L ", "10.0.0.2", "press p and paste", "c copies it whole")
	authURL := shownURL(t, term, f, prov.Issuer+"/auth?")
	if _, err := prov.Authorize(context.Background(), authURL, prov.Username(), oidctest.Password); err != nil {
		t.Fatal(err)
	}
	// A wrong paste ends the login on screen: no spinner waits on under
	// the error, and r offers a new login.
	term.Type("p")
	term.WaitFor("Paste the address the browser ended on:")
	term.Paste("http://127.0.0.1:1/elsewhere?code=x")
	term.Press("enter")
	f = term.WaitFor("✗ The login failed: authorization_code for support: the pasted URL is not the", "r tries again")
	if strings.Contains(f, "Waiting") || strings.Contains(f, "gives up") {
		t.Fatalf("the login still waits after the refused paste:\n%s", f)
	}
	term.Type("r")
	f = term.WaitFor("Open this URL in a browser", "press p and paste")
	authURL2 := shownURL(t, term, f, prov.Issuer+"/auth?")
	if authURL2 == authURL {
		t.Fatal("trying again showed the same login")
	}
	loc, err := prov.Authorize(context.Background(), authURL2, prov.Username(), oidctest.Password)
	if err != nil {
		t.Fatal(err)
	}
	term.Type("p")
	term.WaitFor("Paste the address the browser ended on:")
	term.Paste(loc.String())
	term.Press("enter")
	term.WaitFor("✓ support is authorized: access token and refresh token stored")
	authorized(t, e)
}

func TestAuthorizeInLocalBrowser(t *testing.T) {
	prov, e := loginSetup(t)
	e.Vars["BROWSER"] = "firefox"
	e.Deps.OpenBrowser = prov.BrowserFunc(prov.Username(), oidctest.Password)
	term, _ := e.Open(t, accounts.New(e.Deps), "support")
	term.Type("o")
	term.WaitFor("✓ support is authorized: access token and refresh token stored")
	authorized(t, e)
}

func TestAuthorizeCancelAndRefusals(t *testing.T) {
	_, e := loginSetup(t)
	e.AddAccount(t, core.NewAccount("billing", "idp"))
	term, _ := e.Open(t, accounts.New(e.Deps), "support", "billing")
	term.Type("o") // billing: client_credentials
	term.WaitFor("✗ account billing uses the client_credentials grant, which needs no login")
	term.Press("down")
	term.Type("f") // support cannot get a token without a login
	term.WaitFor("✗ support needs a person to log in: press o to authorize it")
	term.Type("o")
	f := term.WaitFor("and enter the code", "esc cancels")
	tuitest.Golden(t, "device", redact(f))
	term.Press("esc")
	term.WaitTitle("Accounts")
	st, err := e.DB.TokenState(context.Background(), "support")
	if err != nil || st.Tokens.AccessToken.IsSet() {
		t.Fatalf("after a cancelled login: %+v, %v", st, err)
	}
}

// redact replaces what changes from run to run (port, code, countdown)
// so that a frame can be a golden file.
func redact(f string) string {
	f = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(f, "127.0.0.1:PORT ")
	f = userCode.ReplaceAllString(f, "CODE-CODE")
	f = regexp.MustCompile(`gives up in [0-9ms]+;`).ReplaceAllString(f, "gives up in …;")
	// The spinner turns while the frame is taken: one glyph stands for all.
	f = regexp.MustCompile(`[\x{2801}-\x{28FF}]`).ReplaceAllString(f, "⠙")
	// The QR code holds the port and the code too.
	return regexp.MustCompile(`[█▀▄][█▀▄ ]*`).ReplaceAllString(f, "[QR]")
}

// TestAuthorizeRefusesGrantChangedMeanwhile: the login reads the account
// afresh and refuses it, as `oidcctl account authorize` does, when its
// grant no longer needs a person, even though the list still shows the
// grant it had when loaded.
func TestAuthorizeRefusesGrantChangedMeanwhile(t *testing.T) {
	_, e := loginSetup(t)
	term, _ := e.Open(t, accounts.New(e.Deps), "support", "authorization_code")
	if _, err := e.Reg().EditAccount(context.Background(), "support", func(a *core.Account) error {
		a.GrantType = core.GrantClientCredentials
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	term.Type("o") // the list has not reloaded: it still offers the login
	term.WaitFor("✗ The login failed: account support uses the client_credentials grant, which", "needs no login: press f on the list to get a token")
	st, err := e.DB.TokenState(context.Background(), "support")
	if err != nil || st.Tokens.AccessToken.IsSet() {
		t.Fatalf("after a refused login: %+v, %v", st, err)
	}
}

// osc8 is a terminal hyperlink: OSC 8, parameters, the URL, ended by BEL
// or ST.
var osc8 = regexp.MustCompile(`\x1b\]8;[^;]*;([^\x07\x1b]+)(?:\x07|\x1b\\)`)

// shownURL is the URL that starts with prefix in frame: one line, never
// broken, cut with "…" at 80 columns, and a link (OSC 8) to the whole
// URL, which is the last link to it in the output.
func shownURL(t *testing.T, term *tuitest.Term, frame, prefix string) string {
	t.Helper()
	var line string
	lines := strings.Split(frame, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			line = l
			if i+1 < len(lines) && lines[i+1] != "" && !strings.HasPrefix(lines[i+1], "(c copies") {
				t.Fatalf("the URL goes on on the next line (%q):\n%s", lines[i+1], frame)
			}
			break
		}
	}
	if !strings.HasSuffix(line, "…") || ansi.StringWidth(line) > 80 {
		t.Fatalf("the URL line %q is not one line cut to fit:\n%s", line, frame)
	}
	cut := strings.TrimSuffix(line, "…")
	var whole string
	deadline := time.Now().Add(tuitest.Timeout)
	for whole == "" {
		for _, m := range osc8.FindAllStringSubmatch(term.Output(), -1) {
			if strings.HasPrefix(m[1], cut) {
				whole = m[1]
			}
		}
		if whole == "" && time.Now().After(deadline) {
			t.Fatalf("no OSC 8 link to a URL starting %q in the output", cut)
		}
	}
	if _, err := url.Parse(whole); err != nil || !strings.Contains(whole, "code_challenge=") || !strings.Contains(whole, "state=") {
		t.Fatalf("the link is not the whole authorization URL: %q", whole)
	}
	return whole
}
