// Package tokenstore is the console's token store screen: every account
// with the state of its tokens, a live expiry countdown, when its refresh
// token expires, the last refresh and the last error; refreshing now,
// revoking (at the provider, then forgetting the tokens) and copying a
// token to the terminal's clipboard after a warning.
package tokenstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
	"oidcctl/core/tokens"
	"oidcctl/screens"
	"oidcctl/tui"
)

// ReloadEvery is how often the screen reads the store again while shown,
// so that refreshes by serve or the scheduler appear.
const ReloadEvery = 5 * time.Second

// Screen is the token store.
type Screen struct {
	id      tui.ID
	deps    screens.Deps
	st      tui.Styles
	table   tui.Table
	confirm tui.Confirm
	busy    tui.Busy
	seq     int
	ticks   int
	ticking bool
	visible bool
	loaded  bool

	states   []core.TokenState
	byName   map[string]core.TokenState
	accounts map[string]core.Account

	width, height int
}

type keyMap struct {
	Refresh, Revoke, Copy key.Binding
}

var keys = keyMap{
	Refresh: tui.Keys("r", "refresh now", "r"),
	Revoke:  tui.Keys("x", "revoke", "x"),
	Copy:    tui.Keys("c", "copy token", "c"),
}

// New returns the token store screen.
func New(d screens.Deps) *Screen {
	t := tui.NewTable(d.Styles,
		tui.Column{Title: "ACCOUNT", Width: 11, Flex: 2},
		tui.Column{Title: "STATE", Width: 9},
		tui.Column{Title: "EXPIRES", Width: 11},
		tui.Column{Title: "REFRESH EXP", Width: 11},
		tui.Column{Title: "LAST REFRESH", Width: 12},
		tui.Column{Title: "LAST ERROR", Width: 6, Flex: 3},
	)
	t.SetEmpty("No functional account yet: add one in Accounts.")
	return &Screen{id: tui.NewID(), deps: d, st: d.Styles, table: t, confirm: tui.NewConfirm(d.Styles), busy: tui.NewBusy(d.Styles)}
}

func (s *Screen) ID() tui.ID      { return s.id }
func (s *Screen) Title() string   { return "Tokens" }
func (s *Screen) Capturing() bool { return s.table.Filtering() || s.confirm.Active() }

func (s *Screen) Init() tea.Cmd {
	s.visible = true
	return tea.Batch(s.load(), s.startTick())
}

const detailRows = 5

func (s *Screen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.table.SetSize(w, max(3, h-detailRows-1))
}

func (s *Screen) KeyMap() help.KeyMap {
	switch {
	case s.confirm.Active():
		return tui.KeyMap{Short: s.confirm.Bindings()}
	case s.table.Filtering():
		return tui.KeyMap{Short: s.table.Bindings()}
	}
	var own []key.Binding
	if _, ok := s.selected(); ok {
		own = []key.Binding{keys.Refresh, keys.Revoke, keys.Copy}
	}
	return tui.KeyMap{Short: slices.Concat(own, s.table.Bindings()), Full: [][]key.Binding{own, s.table.FullBindings()}}
}

type (
	loadedMsg struct {
		tui.To
		seq      int
		states   []core.TokenState
		accounts []core.Account
		err      error
	}
	tickMsg      struct{ tui.To }
	refreshedMsg struct {
		tui.To
		account string
		set     core.TokenSet
		err     error
	}
	revokedMsg struct {
		tui.To
		account string
		note    string
		err     error
	}
)

func (s *Screen) load() tea.Cmd {
	s.seq++
	seq, to, store := s.seq, tui.To(s.id), s.deps.Registry.Store
	return func() tea.Msg {
		ctx := context.Background()
		m := loadedMsg{To: to, seq: seq}
		if m.states, m.err = store.TokenStates(ctx); m.err != nil {
			return m
		}
		m.accounts, m.err = store.Accounts(ctx, "")
		return m
	}
}

// startTick starts the one-second tick of the countdown, unless it runs.
func (s *Screen) startTick() tea.Cmd {
	if s.ticking {
		return nil
	}
	s.ticking = true
	return s.tick()
}

func (s *Screen) tick() tea.Cmd {
	to := tui.To(s.id)
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{to} })
}

func (s *Screen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.seq != s.seq {
			return s, nil
		}
		s.loaded = true
		if msg.err != nil {
			return s, tui.ShowError(fmt.Errorf("reading the token store: %w", msg.err))
		}
		s.states = msg.states
		s.accounts = make(map[string]core.Account, len(msg.accounts))
		for _, a := range msg.accounts {
			s.accounts[a.Name] = a
		}
		s.fill()
		return s, nil
	case tickMsg:
		// The countdown moves only while it is shown; coming back reloads.
		if !s.visible {
			s.ticking = false
			return s, nil
		}
		s.ticks++
		s.fill()
		cmd := s.tick()
		if s.ticks%int(ReloadEvery/time.Second) == 0 {
			cmd = tea.Batch(cmd, s.load())
		}
		return s, cmd
	case refreshedMsg:
		s.busy.Stop()
		if errors.Is(msg.err, tokens.ErrNeedsAuthorization) {
			msg.err = fmt.Errorf("%s needs a person to log in: press o on it in Accounts (%w)", msg.account, msg.err)
		}
		if msg.err != nil {
			return s, tea.Batch(tui.ShowError(msg.err), s.load())
		}
		return s, tea.Batch(tui.Toast(fmt.Sprintf("%s refreshed: expires %s.", msg.account, tui.Relative(msg.set.Expiry, s.deps.Clock()))), s.load())
	case revokedMsg:
		s.busy.Stop()
		if msg.err != nil {
			return s, tea.Batch(tui.ShowError(msg.err), s.load())
		}
		return s, tea.Batch(tui.Toast(msg.note), s.load())
	case tui.ActivatedMsg:
		s.visible = true
		return s, tea.Batch(s.load(), s.busy.Resume(), s.startTick())
	case tui.DeactivatedMsg:
		s.visible = false
		return s, nil
	case tea.KeyPressMsg:
		return s, s.handleKey(msg)
	}
	if s.table.Filtering() {
		_, cmd := s.table.Update(msg)
		return s, cmd
	}
	return s, s.busy.Update(msg)
}

func (s *Screen) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if s.confirm.Active() {
		answered, yes := s.confirm.Update(k)
		if !answered || !yes {
			return nil
		}
		name := s.confirm.Tag
		if strings.HasPrefix(name, "copy:") {
			return s.copyToken(strings.TrimPrefix(name, "copy:"))
		}
		return s.revoke(name)
	}
	if used, cmd := s.table.Update(k); used {
		return cmd
	}
	if s.busy.Active() {
		return nil
	}
	st, ok := s.selected()
	if !ok {
		return nil
	}
	now := s.deps.Clock()
	switch {
	case key.Matches(k, keys.Refresh):
		return s.refresh(st.Account)
	case key.Matches(k, keys.Revoke):
		if !st.Tokens.AccessToken.IsSet() && !st.Tokens.RefreshToken.IsSet() && st.Damaged == nil {
			return tui.ShowError(fmt.Errorf("%s has no tokens to revoke", st.Account))
		}
		detail := "The refresh and access tokens are revoked at the provider (RFC 7009), then forgotten here."
		if st.GrantType == core.GrantAuthorizationCode {
			detail += " The account then needs a new login."
		}
		s.confirm.Ask("Revoke the tokens of "+st.Account+"?", detail, "Revoke", st.Account)
	case key.Matches(k, keys.Copy):
		kind := s.tokenType(st.Account)
		tok := st.Tokens.Token(kind)
		if !tok.IsSet() {
			return tui.ShowError(fmt.Errorf("%s has no %s to copy: press r to get one", st.Account, kind))
		}
		life := "until it expires " + tui.Relative(st.Tokens.Expiry, now)
		if st.Tokens.Expiry.IsZero() {
			life = "for as long as the provider accepts it"
		}
		s.confirm.Ask(fmt.Sprintf("Copy the %s of %s to the clipboard?", kind, st.Account),
			"It is a live credential: whoever reads your clipboard can call APIs as "+st.Account+" "+life+
				". It goes to your terminal by OSC 52, also over SSH. Clear the clipboard when done.", "Copy", "copy:"+st.Account)
	}
	return nil
}

func (s *Screen) tokenType(account string) core.TokenType {
	if a, ok := s.accounts[account]; ok && a.TokenType != "" {
		return a.TokenType
	}
	return core.TokenAccess
}

// refresh renews an account's tokens now, as `oidcctl token refresh` does.
func (s *Screen) refresh(name string) tea.Cmd {
	to, m := tui.To(s.id), s.deps.Tokens
	return tea.Batch(s.busy.Start("Refreshing "+name+"…"), func() tea.Msg {
		set, err := m.Refresh(context.Background(), name)
		return refreshedMsg{To: to, account: name, set: set, err: err}
	})
}

// revoke revokes the refresh token, then the access token, at the
// provider's revocation endpoint, and forgets them, as `oidcctl token
// revoke` does. A provider without revocation only gets them forgotten.
//
// TODO(core): this repeats the steps of cmd/oidcctl/token.go's revoke;
// a tokens.Manager.Revoke would serve both.
func (s *Screen) revoke(name string) tea.Cmd {
	to, d := tui.To(s.id), s.deps
	return tea.Batch(s.busy.Start("Revoking the tokens of "+name+"…"), func() tea.Msg {
		note, err := revoke(context.Background(), d, name)
		return revokedMsg{To: to, account: name, note: note, err: err}
	})
}

func revoke(ctx context.Context, d screens.Deps, name string) (string, error) {
	r, err := d.Tokens.Revoke(ctx, name)
	if err != nil {
		return "", err
	}
	if r.Unsupported {
		return fmt.Sprintf("The provider offers no revocation: the tokens of %s are only forgotten here.", name), nil
	}
	note := fmt.Sprintf("Tokens of %s revoked (%d at the provider) and forgotten.", name, r.AtProvider)
	if len(r.NotRevocable) > 0 {
		note += fmt.Sprintf(" The provider does not revoke the %s: it stays valid there until it expires.", strings.Join(r.NotRevocable, " or "))
	}
	return note, nil
}

func (s *Screen) copyToken(name string) tea.Cmd {
	st, ok := s.byName[name]
	if !ok {
		return nil
	}
	kind := s.tokenType(name)
	return tea.Batch(tui.Copy(st.Tokens.Token(kind).Reveal()),
		tui.Toast(fmt.Sprintf("The %s of %s is on your clipboard. Clear it when done.", kind, name)))
}

func (s *Screen) selected() (core.TokenState, bool) {
	r, ok := s.table.Selected()
	if !ok {
		return core.TokenState{}, false
	}
	st, ok := s.byName[r.Key]
	return st, ok
}

// fill makes the rows for the clock's now: the countdown moves on every
// tick without reading the store.
func (s *Screen) fill() {
	if !s.loaded {
		return
	}
	now := s.deps.Clock()
	s.byName = make(map[string]core.TokenState, len(s.states))
	rows := make([]tui.Row, len(s.states))
	for i, st := range s.states {
		s.byName[st.Account] = st
		word, tone := screens.TokenState(st, now)
		exp, expTone := "-", tui.ToneNormal
		if st.Tokens.AccessToken.IsSet() {
			exp = tui.Relative(st.Tokens.Expiry, now)
			if st.Tokens.Expiry.IsZero() {
				exp = "unknown"
			}
			if !st.Tokens.Expiry.IsZero() && st.Tokens.Expiry.Sub(now) < 2*time.Minute {
				expTone = tui.ToneWarning
			}
		}
		refresh := tui.Relative(st.Tokens.RefreshExpiry, now)
		if st.Tokens.RefreshToken.IsSet() && st.Tokens.RefreshExpiry.IsZero() {
			refresh = "unknown"
		} else if !st.Tokens.RefreshToken.IsSet() {
			refresh = "-"
		}
		lastErr := st.LastError
		if st.Damaged != nil {
			lastErr = "stored tokens cannot be opened"
		}
		rows[i] = tui.Row{
			Key:   st.Account,
			Cells: []string{st.Account, word, exp, refresh, tui.Relative(st.LastSuccess, now), cmp.Or(lastErr, "-")},
			Tones: []tui.Tone{tui.TonePrimary, tone, expTone, 0, tui.ToneMuted, errTone(lastErr)},
		}
	}
	s.table.SetRows(rows)
}

func errTone(e string) tui.Tone {
	if e != "" {
		return tui.ToneError
	}
	return tui.ToneMuted
}

func (s *Screen) View() string {
	if !s.loaded {
		return s.st.Muted.Render("Reading the token store…")
	}
	if s.confirm.Active() {
		box := s.confirm.View(s.width)
		t := s.table
		t.SetSize(s.width, max(3, s.height-lipgloss.Height(box)-1))
		return t.View() + "\n" + box
	}
	bottom := s.detail()
	if s.busy.Active() {
		bottom = s.busy.View()
	}
	return s.table.View() + "\n" + bottom
}

func (s *Screen) detail() string {
	st, ok := s.selected()
	if !ok {
		return ""
	}
	label := s.st.Muted.Render
	now := s.deps.Clock()
	held := []string{}
	for _, t := range []struct {
		name string
		set  bool
	}{{"access", st.Tokens.AccessToken.IsSet()}, {"refresh", st.Tokens.RefreshToken.IsSet()}, {"id", st.Tokens.IDToken.IsSet()}} {
		if t.set {
			held = append(held, t.name)
		}
	}
	tokens := "none"
	if len(held) > 0 {
		tokens = strings.Join(held, ", ") + " · scope " + cmp.Or(st.Tokens.Scope, "-")
	}
	lines := []string{
		label("account  ") + st.Account + label(" · profile ") + st.Profile + label(" · ") + string(st.GrantType),
		label("tokens   ") + tokens,
		label("expires  ") + tui.Stamp(st.Tokens.Expiry) + label(" · last refresh ") + tui.Stamp(st.LastSuccess),
	}
	for i, l := range lines {
		lines[i] = tui.Truncate(l, s.width)
	}
	switch {
	case st.NeedsAuthorization:
		lines = append(lines, s.st.Warning.Render(tui.Truncate("needs a login: press o on the account in Accounts", s.width)))
	case st.Damaged != nil:
		fix := "press r to obtain new tokens"
		if st.GrantType == core.GrantAuthorizationCode {
			fix = "press o on the account in Accounts to log in again"
		}
		lines = append(lines, s.errorLines("damaged ("+fix+")", st.Damaged.Error())...)
	case st.LastError != "":
		head := "error"
		if !st.NextAttempt.IsZero() {
			head = fmt.Sprintf("error (%s, next try %s)", plural(st.Failures, "failure"), tui.Relative(st.NextAttempt, now))
		}
		lines = append(lines, s.errorLines(head, st.LastError)...)
	default:
		lines = append(lines, label("no error"))
	}
	return strings.Join(lines, "\n")
}

// errorLines renders head: msg as two rows at most: the rest is in
// `oidcctl token list -o json`.
func (s *Screen) errorLines(head, msg string) []string {
	// The provider wrote part of the error: escaped.
	wrapped := strings.Split(lipgloss.Wrap(head+": "+tui.EscapeText(msg), s.width, " "), "\n")
	if len(wrapped) > 2 {
		wrapped = append(wrapped[:1], tui.Truncate(strings.TrimSpace(strings.Join(wrapped[1:], " ")), s.width-1)+"…")
	}
	lines := make([]string, len(wrapped))
	for i, l := range wrapped {
		lines[i] = s.st.Error.Render(strings.TrimRight(l, " "))
	}
	return lines
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
