package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/db/pgtest"
	"oidcctl/internal/testkit"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the console captures in docs/console from the tmux test at 80×24")

// TestConsoleSummaryWithoutTerminal: a pipe gets the text summary, not the
// console (TestTour checks the empty database).
func TestConsoleSummaryWithoutTerminal(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "idp", "--discovery-url", exampleDiscoveryURL, "--client-id", "someapi")
	c.ok("account", "add", "billing", "--profile", "idp")
	out := c.ok()
	for _, want := range []string{"1 profiles, 1 functional accounts", "idp", "billing", "Run oidcctl in a terminal for the console"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// binaries are oidcctl and the provider helper, built once per test run.
var binaries = struct {
	once              sync.Once
	oidcctl, provider string
	err               error
}{}

func buildBinaries(t *testing.T) (oidcctl, provider string) {
	t.Helper()
	binaries.once.Do(func() {
		dir, err := os.MkdirTemp("", "oidcctl-console-test-")
		if err != nil {
			binaries.err = err
			return
		}
		binaries.oidcctl = filepath.Join(dir, "oidcctl")
		binaries.provider = filepath.Join(dir, "oidctest-provider")
		for _, b := range [][2]string{{binaries.oidcctl, "oidcctl/cmd/oidcctl"}, {binaries.provider, "oidcctl/core/oidctest/cmd/oidctest-provider"}} {
			out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput()
			if err != nil {
				binaries.err = fmt.Errorf("go build %s: %v\n%s", b[1], err, out)
				return
			}
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return binaries.oidcctl, binaries.provider
}

func TestMain(m *testing.M) {
	code := pgtest.Main(m) // stops the PostgreSQL server the tests started
	if binaries.oidcctl != "" {
		os.RemoveAll(filepath.Dir(binaries.oidcctl))
	}
	for _, dir := range benchCleanup {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// startProvider runs the provider helper and returns its discovery URL.
func startProvider(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("provider helper: %v", err)
	}
	return strings.TrimSpace(line)
}

// pane is an oidcctl console in a detached tmux session of its own.
type pane struct {
	t      *testing.T
	socket string
	last   string
}

var paneSeq struct {
	sync.Mutex
	n int
}

func startPane(t *testing.T, width, height int, env []string, argv ...string) *pane {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("tmux is not installed, and the console's end-to-end test runs in it: " +
			"install it with scripts/test-deps.sh (make test-deps) or apt-get install tmux")
	}
	paneSeq.Lock()
	paneSeq.n++
	socket := fmt.Sprintf("oidcctl-test-%d-%d", os.Getpid(), paneSeq.n)
	paneSeq.Unlock()
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	// The pane stays after oidcctl exits, so that its exit status and last
	// words can be read; escape-time 0 passes esc at once.
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g escape-time 0\nset -g status off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &pane{t: t, socket: socket}
	args := append([]string{"-L", socket, "-f", conf, "new-session", "-d", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "-s", "console", "--"}, argv...)
	cmd := exec.Command(tmux, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "TMUX=") // a tmux test run from inside tmux starts its own server
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(tmux, "-L", socket, "kill-server").Run() })
	return p
}

func (p *pane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture is the pane's text, without trailing blanks.
func (p *pane) capture() string {
	p.t.Helper()
	lines := strings.Split(p.tmux("capture-pane", "-p", "-t", "console"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

// keys sends tmux key names (Enter, Escape, Tab, Down, C-s …).
func (p *pane) keys(keys ...string) {
	p.t.Helper()
	p.tmux(append([]string{"send-keys", "-t", "console"}, keys...)...)
}

// text types text literally.
func (p *pane) text(s string) {
	p.t.Helper()
	p.tmux("send-keys", "-t", "console", "-l", s)
}

// waitFor polls the pane until it shows every one of texts.
func (p *pane) waitFor(texts ...string) string {
	p.t.Helper()
	return p.waitUntil(strings.Join(texts, " and "), func(s string) bool {
		for _, want := range texts {
			if !strings.Contains(s, want) {
				return false
			}
		}
		return true
	})
}

func (p *pane) waitUntil(what string, ok func(string) bool) string {
	p.t.Helper()
	defer func() {
		if p.t.Failed() {
			p.t.Logf("the pane shows:\n%s", p.last)
		}
	}()
	testkit.Eventually(p.t, 30*time.Second, what, func() bool {
		p.last = p.capture()
		return ok(p.last)
	})
	return p.last
}

// focus waits until the form's focused field (marked ┃) is title.
func (p *pane) focus(title string) string {
	p.t.Helper()
	return p.waitUntil("focus on "+title, func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "┃ "+title) {
				return true
			}
		}
		return false
	})
}

// field waits for a field, types into it and moves on.
func (p *pane) field(title, text string) {
	p.t.Helper()
	p.focus(title)
	if text != "" {
		p.text(text)
	}
	p.keys("Enter")
}

// title waits until the breadcrumb row is title.
func (p *pane) title(title string) string {
	p.t.Helper()
	return p.waitUntil("the screen "+title, func(s string) bool {
		lines := strings.SplitN(s, "\n", 3)
		return len(lines) > 1 && strings.TrimSpace(lines[1]) == title
	})
}

// doc keeps a capture for docs/console when run with -update-docs.
func doc(t *testing.T, width int, name, capture string) {
	t.Helper()
	if !*updateDocs || width != 80 {
		return
	}
	dir := filepath.Join("..", "..", "docs", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(capture), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInTmux drives the real binary in a real terminal: it adds a
// profile at the provider through the form, tests it, adds a
// client_credentials account, gets a token and finds it in the token
// store, at 80×24 and at 200×50.
func TestConsoleInTmux(t *testing.T) {
	oidcctl, provider := buildBinaries(t)
	for _, size := range [][2]int{{80, 24}, {200, 50}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			tour(t, oidcctl, provider, size[0], size[1])
		})
	}
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;]*)m`)

// setsColour reports whether styled text sets a foreground or background
// colour (39 and 49, back to the default, do not count).
func setsColour(styled string) bool {
	for _, m := range sgr.FindAllStringSubmatch(styled, -1) {
		for _, p := range strings.Split(m[1], ";") {
			n, err := strconv.Atoi(p)
			if err == nil && ((n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107)) {
				return true
			}
		}
	}
	return false
}

func tour(t *testing.T, oidcctl, provider string, width, height int) {
	discoveryURL := startProvider(t, provider)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "oidcctl.db")
	// The small terminal has no colour (NO_COLOR), the large one has.
	noColor := width == 80
	env := []string{"TERM=xterm-256color", "NO_COLOR=", "SSH_CONNECTION=10.0.0.1 50000 10.0.0.2 22", "BROWSER=", "DISPLAY=", "WAYLAND_DISPLAY="}
	if noColor {
		env = append(env, "NO_COLOR=1")
	}
	exitFile := filepath.Join(dir, "exit-status")
	p := startPane(t, width, height, env, "sh", "-c", `f=$1; shift; "$@"; echo $? >"$f.tmp" && mv "$f.tmp" "$f"`, "sh", exitFile, oidcctl, "--db", dbPath)

	doc(t, width, "home-empty", p.waitFor("No profile yet.", "press p for Profiles"))
	styled := p.tmux("capture-pane", "-p", "-e", "-t", "console")
	if colored := setsColour(styled); colored == noColor {
		t.Fatalf("NO_COLOR=%v, but colours set: %v:\n%q", noColor, colored, styled)
	}
	if !strings.Contains(styled, "\x1b[7m") && !strings.Contains(styled, ";7m") && noColor {
		t.Fatalf("without colour the active tab is not in reverse video:\n%q", styled)
	}

	// A profile, through the form.
	p.keys("2")
	p.title("Profiles")
	p.waitFor("No profile yet: press a to add one.")
	p.keys("a")
	p.field("Name", "idp")
	p.field("Discovery URL", discoveryURL)
	p.field("Client ID", "sid1")
	p.focus("Client secret")
	p.text("verysecret")
	s := p.waitFor("Client secret: **********")
	if strings.Contains(s, "verysecret") {
		t.Fatalf("the secret shows:\n%s", s)
	}
	p.keys("Enter")
	p.field("Additional scopes", "")
	doc(t, width, "profile-form", p.focus("Provider flavour"))
	if width == 80 {
		// Walk every page with enter, as a person would the first time.
		for _, f := range []string{"Provider flavour", "Discovery cache TTL", "Client authentication", "Assertion audience", "Client certificate", "Client key (PEM", "Client key password",
			"CA file", "CA directory", "Verify the host name", "Verify the certificate", "Allow plain http",
			"Use a nonce", "Rand length", "Rand TTL", "Leeway", "Redirect URI", "UID claim", "Role map", "User map",
			"Claims from userinfo too", "Log token claims", "User login", "Scopes", "Audiences", "Authorized party", "Entra tenants", "DPoP-bound tokens"} {
			p.field(f, "")
		}
		p.focus("Demand a DPoP nonce")
		p.keys("Enter")
	} else {
		p.keys("C-s") // save from any field
	}
	p.title("Profiles")
	s = p.waitFor("Profile idp added.", "sid1", "not fetched")
	doc(t, width, "profiles", s)

	// Test discovery and the JWKS.
	p.keys("t")
	s = p.waitFor("✓ Profile idp works with this provider.", "token endpoint")
	doc(t, width, "profile-test", s)
	p.keys("Escape")
	p.waitFor("ok 0s")

	// A client_credentials account, and a token for it now.
	p.keys("3")
	p.title("Accounts")
	p.waitFor("No functional account yet")
	p.keys("a")
	p.field("Name", "billing")
	p.field("Profile", "")
	p.field("Grant type", "")
	p.field("Scopes", "")
	doc(t, width, "account-form", p.focus("Show advanced settings"))
	p.keys("Enter")
	p.waitFor("Account billing added.", "client_credentials")
	p.keys("f") // f fetches a token: g is the top of the list
	s = p.waitFor("billing: token obtained, expires in ", "valid")
	doc(t, width, "accounts", s)

	// The token store counts down.
	p.keys("4")
	p.title("Tokens")
	countdown := regexp.MustCompile(`in (4m\d+s|5m0s)`)
	p.waitFor("REFRESH EXP", "billing", "valid")
	var before string
	p.waitUntil("the countdown to show", func(s string) bool { before = s; return countdown.MatchString(s) })
	doc(t, width, "tokens", before)
	first := countdown.FindString(before)
	p.waitUntil("the countdown to move from "+first, func(s string) bool {
		c := countdown.FindString(s)
		return c != "" && c != first
	})

	// Home has it all at a glance.
	p.keys("1")
	p.title("Home")
	doc(t, width, "home", p.waitFor("1 profile · 1 functional account · 1 valid", "billing"))

	inspectAndServe(t, p, dbPath, discoveryURL, width)

	// An authorization_code account at the same provider, added from the
	// command line while the console runs: over SSH the login is the
	// device flow, and esc cancels it.
	if out, err := exec.Command(oidcctl, "--db", dbPath, "profile", "add", "web", "--discovery-url", discoveryURL,
		"--client-id", "web", "--client-secret-file", writeFile(t, dir, "secret", "secret")).CombinedOutput(); err != nil {
		t.Fatalf("profile add: %v\n%s", err, out)
	}
	if out, err := exec.Command(oidcctl, "--db", dbPath, "account", "add", "support", "--profile", "web",
		"--grant-type", "authorization_code", "--scope", "openid offline_access").CombinedOutput(); err != nil {
		t.Fatalf("account add: %v\n%s", err, out)
	}
	p.keys("3")
	p.title("Accounts")
	p.waitFor("support", "authorization_code")
	p.keys("Down", "o")
	s = p.waitFor("On any device, open", "and enter the code", "esc cancels")
	if width == 200 && !strings.Contains(s, "█") {
		t.Fatalf("no QR code at 200×50:\n%s", s)
	}
	doc(t, width, "authorize-device", s)
	p.keys("u")
	s = p.waitFor("Open this URL in a browser", "ssh -L", "10.0.0.2", "Waiting for the login")
	doc(t, width, "authorize-remote", s)
	p.keys("Escape")
	p.title("Accounts")

	p.keys("?")
	doc(t, width, "help", p.waitFor("Keys  (? or esc closes)"))
	p.keys("Escape")
	// The next key waits for the screen: esc and a key right after it read
	// as alt+key.
	p.waitUntil("the help to close", func(s string) bool { return !strings.Contains(s, "Keys  (? or esc closes)") })
	p.keys("q")
	// The shell around oidcctl writes its exit status: tmux, under load,
	// at times leaves its exited pane process a zombie for long, with the
	// pane dead and no #{pane_dead_status}.
	var status []byte
	defer func() {
		if len(status) == 0 {
			t.Logf("the pane shows:\n%s", p.capture())
		}
	}()
	testkit.Eventually(t, 30*time.Second, "oidcctl to exit", func() bool {
		status, _ = os.ReadFile(exitFile)
		return len(status) > 0
	})
	if s := strings.TrimSpace(string(status)); s != "0" {
		t.Fatalf("oidcctl exited with %s:\n%s", s, p.capture())
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// inspectAndServe is the second half of the tour: the token of billing in
// the inspector (refused: no local user sid1 yet), the user added in Users,
// the token inspected again (accepted), a provider webservice added, and
// the debugger and serve status with what a serve process records.
func inspectAndServe(t *testing.T, p *pane, dbPath, discoveryURL string, width int) {
	issuer := strings.TrimSuffix(discoveryURL, "/.well-known/openid-configuration")
	p.keys("5")
	p.title("Inspector")
	doc(t, width, "inspector", p.waitFor("press v and paste one", "billing", "valid"))
	p.keys("Enter")
	s := p.waitFor("✗ REFUSED by profile idp: user_unknown (HTTP 403)", "Header", "RS256", "Claims", "iss", issuer)
	exp := regexp.MustCompile(`exp +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · in (4m\d+s|5m0s)`)
	if !exp.MatchString(s) {
		t.Fatalf("no expiry in 4m as a date and a countdown:\n%s", s)
	}
	doc(t, width, "inspector-refused", s)
	if width == 80 {
		p.keys("NPage")
	}
	p.waitFor("sub", "sid1", "Checks against profile idp", "✓ signature")
	if width == 80 {
		p.keys("End")
	}
	p.waitFor("✗ user", "no local user")

	// The user the token maps to, by hand.
	p.keys("6")
	p.title("Users")
	p.waitFor("No user yet")
	p.keys("a")
	p.field("Login", "sid1")
	p.field("Email", "svc@example.test")
	p.field("First name", "Billing")
	p.field("Last name", "Service")
	p.focus("Roles")
	p.text("ticket-reader ticket-writer")
	doc(t, width, "user-form", p.waitFor("Roles: ticket-reader ticket-writer"))
	p.keys("Enter")
	doc(t, width, "users", p.waitFor("User sid1 added.", "svc@example.test", "by hand"))

	// The inspection is still open on its tab: again, now accepted.
	p.keys("5")
	p.title("Inspector › billing")
	p.keys("r")
	s = p.waitFor("✓ ACCEPTED by profile idp", "Accepted as", "ticket-reader")
	doc(t, width, "inspector-accepted", s)
	p.keys("End")
	s = p.waitFor("found, unchanged", "ticket-reader, ticket-writer")
	doc(t, width, "inspector-checks", s)
	p.keys("Escape")
	p.title("Inspector")

	// A provider webservice for serve.
	p.keys("7")
	p.title("Webservices")
	p.waitFor("No webservice yet")
	p.keys("a")
	p.field("Name", "tickets")
	p.field("Kind", "")
	p.field("Profile", "")
	p.focus("Route")
	p.text("/GetTicket/:TicketID")
	doc(t, width, "webservice-form", p.waitFor("Route: /GetTicket/:TicketID"))
	p.keys("Enter")
	p.field("Methods", "")
	p.field("Upstream URL", "http://127.0.0.1:8080/otobo/nph-genericinterface.pl/Webservice/Test")
	p.keys("C-s")
	doc(t, width, "webservices", p.waitFor("Webservice tickets added (/ws/tickets/GetTicket/:TicketID).", "provider", "idp"))

	// What a serve process writes: its calls and its status. The console
	// reads them again on its own.
	p.keys("8")
	p.title("Debugger")
	p.waitFor("No call recorded yet")
	recordServe(t, dbPath)
	s = p.waitFor("/GetTicket/42", "accepted", "refused", "sid1")
	doc(t, width, "debugger", s)
	p.keys("End", "Enter") // the older call, accepted
	s = p.waitFor("Call #1", "Request headers", "Bearer [REDACTED]")
	if width == 200 && !strings.Contains(s, `"Title": "Printer on fire"`) {
		t.Fatalf("the JSON body is not indented:\n%s", s)
	}
	doc(t, width, "debugger-call", s)
	p.keys("Escape")
	p.title("Debugger")

	p.keys("9")
	p.title("Serve")
	s = p.waitFor("running", "127.0.0.1:8085", "2 renewed, 0 failed", "0 * * * * (default)")
	doc(t, width, "serve", s)
}

// recordServe writes to the database what a serve process records: two
// calls of the webservice tickets, and its status.
func recordServe(t *testing.T, dbPath string) {
	t.Helper()
	ctx := context.Background()
	store := openSQLite(t, dbPath)
	defer store.Close()
	now := time.Now()
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	if err := store.AddDebugEntries(ctx, []core.DebugEntry{
		{Time: now.Add(-90 * time.Second), RequestID: "7f3a9c", Webservice: "tickets", Direction: core.DirectionIncoming,
			Method: "GET", Path: "/ws/tickets/GetTicket/42", Status: 200, Duration: 4200 * time.Microsecond, User: "sid1", Verdict: "accepted",
			RequestHeader:  http.Header{"Authorization": {"Bearer [REDACTED]"}, "Accept": {"application/json"}},
			ResponseHeader: jsonHeader,
			ResponseBody:   []byte(`{"Ticket":{"TicketID":42,"Title":"Printer on fire","State":"open"}}`)},
		{Time: now.Add(-30 * time.Second), RequestID: "7f3aa0", Webservice: "tickets", Direction: core.DirectionIncoming,
			Method: "GET", Path: "/ws/tickets/GetTicket/43", Status: 401, Duration: 310 * time.Microsecond, Verdict: "refused",
			Reason:         "bad_signature: the signature does not verify with key of the provider's JWKS",
			RequestHeader:  http.Header{"Authorization": {"Bearer [REDACTED]"}},
			ResponseHeader: http.Header{"Www-Authenticate": {`Bearer error="invalid_token", error_description="the signature does not verify"`}}},
	}); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if err := store.PutServeStatus(ctx, core.ServeStatus{
		Instance: fmt.Sprintf("%s:%d", host, os.Getpid()), Listen: "127.0.0.1:8085", Socket: "/run/oidcctl/token.sock",
		StartedAt: now.Add(-time.Hour), Heartbeat: now, LastRefreshRun: now.Add(-20 * time.Minute), LastRefreshRenewed: 2,
	}); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleKeepsWorkInTmux drives the real binary in a real terminal:
// ctrl+c and esc in a form with changes ask first, :tokens jumps to a tab
// by name, and below 80×24 the console says that it needs more room.
func TestConsoleKeepsWorkInTmux(t *testing.T) {
	oidcctl, _ := buildBinaries(t)
	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit-status")
	env := []string{"TERM=xterm-256color", "NO_COLOR=1"}
	p := startPane(t, 80, 24, env, "sh", "-c", `f=$1; shift; "$@"; echo $? >"$f.tmp" && mv "$f.tmp" "$f"`, "sh", exitFile, oidcctl, "--db", filepath.Join(dir, "oidcctl.db"))
	bar := strings.SplitN(p.waitFor("No profile yet."), "\n", 2)[0]
	for _, tab := range []string{"1 Home", "2 Prof", "3 Acct", "4 Tok", "5 Insp", "6 Users", "7 Web", "8 Debug", "9 Serve"} {
		if !strings.Contains(bar, tab) {
			t.Errorf("the tab bar at 80 columns lacks %q: %q", tab, bar)
		}
	}

	p.keys("2")
	p.title("Profiles")
	p.keys("a")
	p.focus("Name")
	p.text("half-typed")
	p.waitFor("Name: half-typed")
	p.keys("C-c") // asks, rather than quitting
	p.waitFor("Discard changes?", "Cancel (n)")
	p.keys("n")
	p.waitFor("Name: half-typed")
	p.keys("Escape")
	p.waitFor("Discard changes?")
	p.keys("y")
	p.title("Profiles")

	p.text(":tokens")
	p.keys("Enter")
	p.title("Tokens")

	p.tmux("resize-window", "-t", "console", "-x", "70", "-y", "20")
	p.waitFor("terminal too small (need 80×24)", "this one is 70×20")
	p.tmux("resize-window", "-t", "console", "-x", "80", "-y", "24")
	p.title("Tokens")
	p.keys("q")
	var status []byte
	testkit.Eventually(t, 30*time.Second, "oidcctl to exit", func() bool {
		status, _ = os.ReadFile(exitFile)
		return len(status) > 0
	})
	if s := strings.TrimSpace(string(status)); s != "0" {
		t.Fatalf("oidcctl exited with %s:\n%s", s, p.capture())
	}
}
