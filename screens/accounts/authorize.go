package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/login"
	"oidcctl/screens"
	"oidcctl/tui"
)

// authScreen runs the login of an authorization_code account (login.Runner,
// as `oidcctl account authorize` does), by the method grant.ChooseMethod
// picks (or the one asked for with d, u, b):
//
//   - browser: a local browser opens the login page, the loopback
//     callback receives the code;
//   - device: the code and URL to enter on any device (RFC 8628), with a
//     QR code of the URL where the terminal has room;
//   - remote: the URL for a browser on another machine, copied by OSC 52,
//     with a QR code where there is room and the ssh -L line that makes the
//     loopback callback reachable; the address the browser ends on can be
//     pasted instead;
//   - serve: for an https redirect URI, the URL (copied, with a QR code)
//     and the waiting for the oidcctl serve that the browser returns to
//     (login.Runner's pending login).
//
// It waits with a spinner; esc cancels the login (the callback server
// closes with it). The login runs in a goroutine; its events come back as
// messages, one command at a time (next).
type authScreen struct {
	id      tui.ID
	deps    screens.Deps
	st      tui.Styles
	account core.Account
	busy    tui.Busy

	seq    int
	cancel context.CancelFunc
	ctx    context.Context
	events chan login.Event
	pastes chan string

	method     grant.Method
	url        string // the login URL (browser, remote) or verification URL (device)
	qrText     string
	device     *login.ShowDeviceCode
	redirect   string // remote: the loopback callback; serve: the https redirect URI
	forward    string // remote: the ssh -L line
	browserErr error
	deadline   time.Time
	// pollFailed is the last failed poll of the device flow, which the
	// login tries again: said on screen so that a slow login is explained.
	pollFailed *login.PollFailed

	paste   textinput.Model
	pasting bool

	done bool
	set  core.TokenSet
	err  error

	width, height int
}

var authKeys = struct {
	Copy, Paste, Device, Remote, Browser, Again, Submit, Leave key.Binding
}{
	Copy:    tui.Keys("c", "copy URL", "c"),
	Paste:   tui.Keys("p", "paste redirect", "p"),
	Device:  tui.Keys("d", "device code", "d"),
	Remote:  tui.Keys("u", "URL for elsewhere", "u"),
	Browser: tui.Keys("b", "local browser", "b"),
	Again:   tui.Keys("r", "try again", "r"),
	Submit:  tui.Keys("enter", "use it", "enter"),
	Leave:   tui.Keys("esc", "cancel", "esc"),
}

func newAuthScreen(d screens.Deps, a core.Account) *authScreen {
	ti := textinput.New()
	ti.Prompt = "> "
	ti.Placeholder = "http://127.0.0.1:…/callback?code=…&state=…"
	return &authScreen{id: tui.NewID(), deps: d, st: d.Styles, account: a, busy: tui.NewBusy(d.Styles), paste: ti}
}

func (s *authScreen) ID() tui.ID    { return s.id }
func (s *authScreen) Title() string { return "Authorize " + s.account.Name }
func (s *authScreen) Init() tea.Cmd { return s.start(grant.MethodAuto) }

// Capturing: the pasted address takes every key, and while the login runs
// esc must cancel it here rather than leave it running.
func (s *authScreen) Capturing() bool { return s.pasting }

func (s *authScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.paste.SetWidth(max(10, w-4))
}

// Close cancels a login in flight.
func (s *authScreen) Close() {
	if s.cancel != nil {
		s.cancel()
	}
}

func (s *authScreen) KeyMap() help.KeyMap {
	if s.pasting {
		return tui.KeyMap{Short: []key.Binding{authKeys.Submit, authKeys.Leave}}
	}
	if s.done {
		if s.err != nil {
			return tui.KeyMap{Short: []key.Binding{authKeys.Again}}
		}
		return tui.KeyMap{}
	}
	var b []key.Binding
	if s.url != "" {
		b = append(b, authKeys.Copy)
	}
	if s.canPaste() {
		b = append(b, authKeys.Paste)
	}
	if s.method != grant.MethodDevice {
		b = append(b, authKeys.Device)
	}
	if s.method != grant.MethodRemote && s.method != grant.MethodServe {
		b = append(b, authKeys.Remote)
	}
	if s.method != grant.MethodBrowser && s.method != grant.MethodServe && s.deps.OpenBrowser != nil {
		b = append(b, authKeys.Browser)
	}
	return tui.KeyMap{Short: b}
}

// canPaste: the remote method's URL is shown, so the address the browser
// ends on can be pasted.
func (s *authScreen) canPaste() bool { return s.method == grant.MethodRemote && s.redirect != "" }

// authMsg carries one event of login seq to the screen.
type authMsg struct {
	tui.To
	seq int
	ev  login.Event
}

// prompter hands the events of one login to the screen and the addresses
// pasted on the screen to the login.
type prompter struct {
	ctx    context.Context
	events chan<- login.Event
	pastes <-chan string
}

func (p prompter) Event(ev login.Event) {
	select {
	case p.events <- ev:
	case <-p.ctx.Done():
	}
}

func (p prompter) Pasted(ctx context.Context) (string, error) {
	select {
	case text := <-p.pastes:
		return text, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// runner is the login runner on the screen's dependencies.
func runner(d screens.Deps) *login.Runner {
	return &login.Runner{Store: d.Registry, Discovery: d.Discovery, Grants: d.Grants, Getenv: d.Env, OpenBrowser: d.OpenBrowser, Now: d.Now}
}

func (s *authScreen) start(method grant.Method) tea.Cmd {
	s.Close()
	s.seq++
	ctx, cancel := context.WithCancel(context.Background())
	s.ctx, s.cancel = ctx, cancel
	s.events, s.pastes = make(chan login.Event, 8), make(chan string)
	s.url, s.qrText, s.device, s.redirect, s.forward, s.browserErr, s.deadline = "", "", nil, "", "", nil, time.Time{}
	s.done, s.err, s.pasting, s.pollFailed = false, nil, false, nil
	if method != grant.MethodAuto {
		s.method = method
	}
	r, name, wait := runner(s.deps), s.account.Name, s.next()
	p := prompter{ctx: ctx, events: s.events, pastes: s.pastes}
	run := func() tea.Msg {
		go func() {
			defer close(p.events)
			_, _ = r.Run(ctx, name, login.Options{Method: method}, p) // the outcome comes as login.Done
		}()
		return wait()
	}
	return tea.Batch(s.busy.Start("Reading the provider's discovery document…"), run)
}

// next waits for the next event of the current login.
func (s *authScreen) next() tea.Cmd {
	ch, to, seq := s.events, tui.To(s.id), s.seq
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return nil
		}
		return authMsg{To: to, seq: seq, ev: ev}
	}
}

func (s *authScreen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case authMsg:
		if msg.seq != s.seq {
			return s, nil
		}
		return s, tea.Batch(s.handle(msg.ev), s.next())
	case tui.ActivatedMsg:
		return s, s.busy.Resume()
	case tea.KeyPressMsg:
		return s, s.handleKey(msg)
	}
	if s.pasting {
		var cmd tea.Cmd
		s.paste, cmd = s.paste.Update(msg)
		return s, cmd
	}
	return s, s.busy.Update(msg)
}

func (s *authScreen) handle(ev login.Event) tea.Cmd {
	switch ev := ev.(type) {
	case login.ShowURL:
		s.method, s.url, s.redirect, s.forward = ev.Method, ev.URL, ev.RedirectURI, ev.Forward
		if ev.Method == grant.MethodRemote || ev.Method == grant.MethodServe {
			// The browser is elsewhere: the URL goes to the clipboard of
			// the admin's own terminal and into a QR code (a local
			// browser needs neither).
			s.qrText = ev.URL
			return tui.Copy(ev.URL)
		}
	case login.ShowDeviceCode:
		s.method, s.device = grant.MethodDevice, &ev
		s.url, s.qrText = ev.VerificationURI, ev.VerificationURI
		if ev.VerificationURIComplete != "" {
			s.qrText = ev.VerificationURIComplete
		}
	case login.Waiting:
		s.deadline = ev.Deadline
		switch ev.Method {
		case grant.MethodBrowser:
			return s.busy.Start("Waiting for the login in your browser…")
		case grant.MethodDevice:
			return s.busy.Start("Waiting for the code to be entered…")
		case grant.MethodServe:
			return s.busy.Start("Waiting for serve to complete the login…")
		}
		return s.busy.Start("Waiting for the login…")
	case login.BrowserFailed:
		s.browserErr = ev.Err
	case login.PollFailed:
		s.pollFailed = &ev
	case login.PasteRefused:
		// The login ends here, on screen: no spinner goes on waiting
		// under the error, and r starts a new one.
		s.Close()
		s.paste.Blur()
		s.paste.SetValue("")
		return s.finish(core.TokenSet{}, ev.Err)
	case login.Done:
		if s.done {
			return nil
		}
		if errors.As(ev.Err, new(*login.GrantError)) {
			// Refused as `oidcctl account authorize` refuses it; the list
			// offers g for such an account.
			ev.Err = fmt.Errorf("%w: press f on the list to get a token", ev.Err)
		}
		return s.finish(ev.Set, ev.Err)
	}
	return nil
}

func (s *authScreen) finish(set core.TokenSet, err error) tea.Cmd {
	s.busy.Stop()
	s.done, s.set, s.err, s.pasting = true, set, err, false
	if err != nil {
		return nil
	}
	return tui.Toast(fmt.Sprintf("%s authorized: %s.", s.account.Name, stored(set, s.deps.Clock())))
}

// stored says what a login stored.
func stored(set core.TokenSet, now time.Time) string {
	what := "access token"
	if set.RefreshToken.IsSet() {
		what += " and refresh token"
	}
	return what + " stored, expires " + tui.Relative(set.Expiry, now)
}

func (s *authScreen) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if s.pasting {
		switch {
		case key.Matches(k, authKeys.Leave):
			s.pasting = false
			s.paste.Blur()
			return nil
		case key.Matches(k, authKeys.Submit):
			text := s.paste.Value()
			s.pasting = false
			s.paste.Blur()
			s.paste.SetValue("")
			// The login takes it (login.Prompter.Pasted) and answers with
			// PasteRefused or Done.
			pastes, ctx := s.pastes, s.ctx
			return func() tea.Msg {
				select {
				case pastes <- text:
				case <-ctx.Done():
				}
				return nil
			}
		}
		var cmd tea.Cmd
		s.paste, cmd = s.paste.Update(k)
		return cmd
	}
	switch {
	case s.done && s.err != nil && key.Matches(k, authKeys.Again):
		return s.start(s.method)
	case s.done:
		return nil
	case key.Matches(k, authKeys.Copy) && s.url != "":
		return tea.Batch(tui.Copy(s.url), tui.Toast("URL copied to your terminal's clipboard (OSC 52), where it supports that."))
	case key.Matches(k, authKeys.Paste) && s.canPaste():
		s.pasting = true
		return s.paste.Focus()
	case key.Matches(k, authKeys.Device) && s.method != grant.MethodDevice:
		return s.start(grant.MethodDevice)
	case key.Matches(k, authKeys.Remote) && s.method != grant.MethodRemote && s.method != grant.MethodServe:
		return s.start(grant.MethodRemote)
	case key.Matches(k, authKeys.Browser) && s.method != grant.MethodBrowser && s.method != grant.MethodServe && s.deps.OpenBrowser != nil:
		return s.start(grant.MethodBrowser)
	}
	return nil
}

func (s *authScreen) View() string {
	st := s.st
	if s.done {
		if s.err != nil {
			return st.Error.Render(strings.Join(tui.Wrap("✗ The login failed: "+s.err.Error(), s.width), "\n")) + "\n\n" + st.Muted.Render("r tries again, esc goes back.")
		}
		return st.Success.Render("✓ "+s.account.Name+" is authorized: "+stored(s.set, s.deps.Clock())+".") + "\n\n" + st.Muted.Render("esc goes back.")
	}
	footer := s.busy.View()
	if !s.deadline.IsZero() && s.busy.Active() {
		footer += st.Muted.Render(" (gives up " + tui.Relative(s.deadline, s.deps.Clock()) + "; esc cancels)")
	}
	if p := s.pollFailed; p != nil && s.busy.Active() {
		msg := fmt.Sprintf("! poll failed, retrying in %s (%d of %d failed in a row): %v", p.Retry, p.Failures, p.MaxFailures, p.Err)
		lines := tui.Wrap(msg, max(20, s.width))
		if len(lines) > 2 {
			lines = lines[:2]
			lines[1] = ansi.Truncate(lines[1], max(20, s.width)-1, "") + "…"
		}
		footer = st.Warning.Render(strings.Join(lines, "\n")) + "\n" + footer
	}
	if s.pasting {
		footer += "\n" + st.Bold.Render("Paste the address the browser ended on:") + "\n" + s.paste.View()
	}
	if s.device == nil && s.url == "" {
		return footer
	}
	return s.withQR(footer)
}

// text is what to do, for a text column width wide.
func (s *authScreen) text(width int) string {
	if s.device != nil {
		return strings.Join(s.deviceText(), "\n")
	}
	return strings.Join(s.urlText(width), "\n")
}

func (s *authScreen) deviceText() []string {
	f, st := s.device, s.st
	lines := []string{
		"On any device, open",
		"",
		"  " + st.Primary.Render(f.VerificationURI),
		"",
		"and enter the code",
		"",
		"  " + st.Bold.Render(f.UserCode),
	}
	if f.VerificationURIComplete != "" {
		lines = append(lines, "", st.Muted.Render("(the QR code has the code in it)"))
	}
	return lines
}

func (s *authScreen) urlText(width int) []string {
	st := s.st
	var lines []string
	if s.method == grant.MethodBrowser {
		if s.browserErr != nil {
			lines = append(lines, st.Warning.Render("! Could not open a browser ("+s.browserErr.Error()+"): open this URL yourself:"))
		} else {
			lines = append(lines, "Your browser shows the login page. If it did not open, visit:")
		}
	} else {
		lines = append(lines, "Open this URL in a browser and log in (copied to your terminal's clipboard):")
	}
	// The URL is never broken over lines, which would put line breaks
	// into what a mouse selection copies: it is one line, cut to fit with
	// "…" where it must be, and a link (OSC 8) to the whole URL; c copies
	// it whole (OSC 52).
	lines = append(lines, "", link(st, s.url, max(20, width)),
		st.Muted.Render(lipgloss.Wrap("(c copies it whole; where the terminal shows links, a click opens it)", width, " ")), "")
	if s.method == grant.MethodServe {
		lines = append(lines, lipgloss.Wrap("The provider then returns the browser to "+s.redirect+
			", where oidcctl serve completes the login (on any host that shares this database).", width, " "))
	}
	if s.method == grant.MethodRemote {
		lines = append(lines,
			lipgloss.Wrap("The provider then redirects to "+s.redirect+". Make that reach this machine by connecting with", width, " "),
			"",
			"  "+st.Bold.Render(s.forward),
			"",
			lipgloss.Wrap("or press p and paste the address the browser ends on (it fails to load).", width, " "),
		)
	}
	return lines
}

// link shows url on one line at most width wide, cut with "…" where it
// must be, as a terminal hyperlink (OSC 8) to the whole of it.
func link(st tui.Styles, url string, width int) string {
	return st.Primary.Hyperlink(url).Render(ansi.Truncate(url, width, "…"))
}

// withQR puts a QR code of the URL beside the text, or under it, where
// the terminal has room; otherwise it says that a larger one would show it.
func (s *authScreen) withQR(footer string) string {
	footH := lipgloss.Height(footer) + 1
	if s.qrText == "" || s.pasting {
		return s.text(s.width) + "\n\n" + footer
	}
	// Beside: the text keeps at least 44 columns.
	if qr := tui.QR(s.st, s.qrText, s.width-46, s.height-footH); qr != "" {
		body := s.text(s.width - lipgloss.Width(qr) - 2)
		if lipgloss.Height(body) <= s.height-footH && lipgloss.Width(body)+2+lipgloss.Width(qr) <= s.width {
			return lipgloss.JoinHorizontal(lipgloss.Top, body, "  ", qr) + "\n\n" + footer
		}
	}
	// Under: the QR code gets what the text leaves.
	body := s.text(s.width)
	if qr := tui.QR(s.st, s.qrText, s.width, s.height-lipgloss.Height(body)-footH-1); qr != "" {
		return body + "\n" + qr + "\n\n" + footer
	}
	return body + "\n" + s.st.Muted.Render("(a larger terminal shows a QR code of this URL)") + "\n\n" + footer
}
