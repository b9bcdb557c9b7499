// Package accounts is the console's functional account screen: the list of
// accounts with their grant and token state; adding and editing them in a
// form whose Advanced page (resources, resource parameter name, token
// type) shows only when asked for; getting a token now; and, for
// authorization_code accounts, the login (browser, device code, or a URL
// for a browser elsewhere).
package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
	"oidcctl/core/tokens"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Screen is the list of accounts.
type Screen struct {
	id      tui.ID
	deps    screens.Deps
	st      tui.Styles
	table   tui.Table
	confirm tui.Confirm
	busy    tui.Busy
	seq     int
	loaded  bool

	accounts map[string]core.Account
	states   map[string]core.TokenState
	profiles []string

	width, height int
}

type keyMap struct {
	Add, Edit, Token, Authorize, Delete, Reload key.Binding
}

var keys = keyMap{
	Add:       tui.Keys("a", "add", "a"),
	Edit:      tui.Keys("e", "edit", "e", "enter"),
	Token:     tui.Keys("g", "get token", "g"),
	Authorize: tui.Keys("o", "authorize (log in)", "o"),
	Delete:    tui.Keys("d", "delete", "d", "delete"),
	Reload:    tui.Keys("r", "reload", "r"),
}

// New returns the accounts screen.
func New(d screens.Deps) *Screen {
	t := tui.NewTable(d.Styles,
		tui.Column{Title: "NAME", Width: 12, Flex: 2},
		tui.Column{Title: "PROFILE", Width: 10, Flex: 1},
		tui.Column{Title: "GRANT", Width: 18},
		tui.Column{Title: "SCOPES", Width: 8, Flex: 2},
		tui.Column{Title: "TOKEN", Width: 10},
	)
	t.SetEmpty("No functional account yet: press a to add one.")
	return &Screen{id: tui.NewID(), deps: d, st: d.Styles, table: t, confirm: tui.NewConfirm(d.Styles), busy: tui.NewBusy(d.Styles)}
}

func (s *Screen) ID() tui.ID      { return s.id }
func (s *Screen) Title() string   { return "Accounts" }
func (s *Screen) Init() tea.Cmd   { return s.load() }
func (s *Screen) Capturing() bool { return s.table.Filtering() || s.confirm.Active() }

const detailRows = 3

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
	own := []key.Binding{keys.Add}
	if a, ok := s.selected(); ok {
		own = append(own, keys.Edit, keys.Token)
		if a.GrantType == core.GrantAuthorizationCode {
			own = append(own, keys.Authorize)
		}
		own = append(own, keys.Delete)
	}
	return tui.KeyMap{Short: slices.Concat(own, s.table.Bindings()), Full: [][]key.Binding{slices.Concat(own, []key.Binding{keys.Reload}), s.table.FullBindings()}}
}

type loadedMsg struct {
	tui.To
	seq      int
	accounts []core.Account
	states   []core.TokenState
	profiles []core.Profile
	err      error
}

type tokenMsg struct {
	tui.To
	account string
	set     core.TokenSet
	err     error
}

type deletedMsg struct {
	tui.To
	name string
	err  error
}

func (s *Screen) load() tea.Cmd {
	s.seq++
	seq, to, store := s.seq, tui.To(s.id), s.deps.Registry.Store
	return func() tea.Msg {
		ctx := context.Background()
		m := loadedMsg{To: to, seq: seq}
		if m.accounts, m.err = store.Accounts(ctx, ""); m.err != nil {
			return m
		}
		if m.states, m.err = store.TokenStates(ctx); m.err != nil {
			return m
		}
		m.profiles, m.err = store.Profiles(ctx)
		return m
	}
}

func (s *Screen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.seq != s.seq {
			return s, nil
		}
		s.loaded = true
		if msg.err != nil {
			return s, tui.ShowError(fmt.Errorf("reading accounts: %w", msg.err))
		}
		s.fill(msg)
		return s, nil
	case tokenMsg:
		s.busy.Stop()
		if errors.Is(msg.err, tokens.ErrNeedsAuthorization) {
			msg.err = fmt.Errorf("%s needs a person to log in: press o to authorize it (%w)", msg.account, msg.err)
		}
		if msg.err != nil {
			return s, tea.Batch(tui.ShowError(msg.err), s.load())
		}
		return s, tea.Batch(tui.Toast(fmt.Sprintf("%s: token obtained, expires %s.", msg.account, tui.Relative(msg.set.Expiry, s.deps.Clock()))), s.load())
	case deletedMsg:
		s.busy.Stop()
		if msg.err != nil {
			return s, tui.ShowError(msg.err)
		}
		return s, tea.Batch(tui.Toast("Account "+msg.name+" deleted."), s.load())
	case tui.ActivatedMsg:
		return s, tea.Batch(s.load(), s.busy.Resume())
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
		if answered, yes := s.confirm.Update(k); answered && yes {
			return s.delete(s.confirm.Tag)
		}
		return nil
	}
	if used, cmd := s.table.Update(k); used {
		return cmd
	}
	if s.busy.Active() {
		return nil
	}
	a, ok := s.selected()
	switch {
	case key.Matches(k, keys.Add):
		if len(s.profiles) == 0 {
			return tui.ShowError(fmt.Errorf("an account obtains tokens from a profile: add a profile first (Profiles tab, a)"))
		}
		return tui.Push(addForm(s.deps, s.profiles, ""))
	case key.Matches(k, keys.Reload):
		return s.load()
	case !ok:
		return nil
	case key.Matches(k, keys.Edit):
		return tui.Push(editForm(s.deps, s.profiles, a))
	case key.Matches(k, keys.Token):
		return s.getToken(a.Name)
	case key.Matches(k, keys.Authorize):
		if a.GrantType != core.GrantAuthorizationCode {
			return tui.ShowError(fmt.Errorf("account %s uses the %s grant, which needs no login: press g to get a token", a.Name, a.GrantType))
		}
		return tui.Push(newAuthScreen(s.deps, a))
	case key.Matches(k, keys.Delete):
		s.confirm.Ask(fmt.Sprintf("Delete account %s?", a.Name), "Its tokens are forgotten here (not revoked: use the token store's revoke first).", "Delete", a.Name)
	}
	return nil
}

// getToken hands out a valid token as `oidcctl token get` does: the stored
// one while valid, else refreshed or obtained.
func (s *Screen) getToken(name string) tea.Cmd {
	to, m := tui.To(s.id), s.deps.Tokens
	return tea.Batch(s.busy.Start("Getting a token for "+name+"…"), func() tea.Msg {
		set, err := m.Token(context.Background(), name)
		return tokenMsg{To: to, account: name, set: set, err: err}
	})
}

func (s *Screen) delete(name string) tea.Cmd {
	to, reg := tui.To(s.id), s.deps.Registry
	return tea.Batch(s.busy.Start("Deleting "+name+"…"), func() tea.Msg {
		return deletedMsg{To: to, name: name, err: reg.DeleteAccount(context.Background(), name)}
	})
}

func (s *Screen) selected() (core.Account, bool) {
	r, ok := s.table.Selected()
	if !ok {
		return core.Account{}, false
	}
	a, ok := s.accounts[r.Key]
	return a, ok
}

func (s *Screen) fill(m loadedMsg) {
	now := s.deps.Clock()
	s.accounts = make(map[string]core.Account, len(m.accounts))
	s.states = make(map[string]core.TokenState, len(m.states))
	for _, st := range m.states {
		s.states[st.Account] = st
	}
	s.profiles = make([]string, len(m.profiles))
	for i, p := range m.profiles {
		s.profiles[i] = p.Name
	}
	rows := make([]tui.Row, len(m.accounts))
	for i, a := range m.accounts {
		s.accounts[a.Name] = a
		word, tone := screens.TokenState(s.states[a.Name], now)
		rows[i] = tui.Row{
			Key:   a.Name,
			Cells: []string{a.Name, a.Profile, string(a.GrantType), strings.Join(a.Scopes, " "), word},
			Tones: []tui.Tone{tui.TonePrimary, 0, tui.ToneMuted, 0, tone},
		}
	}
	s.table.SetRows(rows)
}

func (s *Screen) View() string {
	if !s.loaded {
		return s.st.Muted.Render("Reading accounts…")
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
	a, ok := s.selected()
	if !ok {
		return ""
	}
	label := s.st.Muted.Render
	st := s.states[a.Name]
	now := s.deps.Clock()
	who := ""
	if a.GrantType == core.GrantPassword {
		who = " · user " + a.Username
	}
	res := "-"
	if len(a.Resources) > 0 {
		res = strings.Join(a.Resources, " ") + " (as " + a.ResourceParam + ")"
	}
	tok := "no token yet"
	switch {
	case st.Tokens.AccessToken.IsSet():
		tok = "expires " + tui.Relative(st.Tokens.Expiry, now)
		if st.Tokens.RefreshToken.IsSet() {
			tok += " · refresh token held"
		}
	case a.GrantType == core.GrantAuthorizationCode:
		tok = "no token yet: press o to authorize"
	}
	if st.LastError != "" {
		tok = s.st.Error.Render("last error: " + st.LastError)
	}
	lines := []string{
		label("hands out ") + string(a.TokenType) + who,
		label("resources ") + res,
		label("token     ") + tok,
	}
	return strings.Join(lines, "\n")
}
