// Package users is the console's users and roles screen: the local API
// users that validated tokens map to, with their email, name, roles and
// where they came from (made by hand, or created from a profile's token);
// adding and editing them in a form; deleting them after a confirmation.
package users

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Screen is the list of users.
type Screen struct {
	id      tui.ID
	deps    screens.Deps
	st      tui.Styles
	table   tui.Table
	confirm tui.Confirm
	busy    tui.Busy
	seq     int
	loaded  bool

	users map[string]core.User

	width, height int
}

type keyMap struct {
	Add, Edit, Delete, Reload key.Binding
}

var keys = keyMap{
	Add:    tui.Keys("a", "add", "a"),
	Edit:   tui.Keys("e", "edit", "e", "enter"),
	Delete: tui.Keys("d", "delete", "d", "delete"),
	Reload: tui.Keys("r", "reload", "r"),
}

// New returns the users screen.
func New(d screens.Deps) *Screen {
	t := tui.NewTable(d.Styles,
		tui.Column{Title: "LOGIN", Width: 12, Flex: 2},
		tui.Column{Title: "EMAIL", Width: 12, Flex: 2},
		tui.Column{Title: "NAME", Width: 10, Flex: 1},
		tui.Column{Title: "ROLES", Width: 10, Flex: 2},
		tui.Column{Title: "FROM", Width: 12},
	)
	t.SetEmpty("No user yet: press a to add one, or let tokens create them (role map).")
	return &Screen{id: tui.NewID(), deps: d, st: d.Styles, table: t, confirm: tui.NewConfirm(d.Styles), busy: tui.NewBusy(d.Styles)}
}

func (s *Screen) ID() tui.ID      { return s.id }
func (s *Screen) Title() string   { return "Users" }
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
	if _, ok := s.selected(); ok {
		own = append(own, keys.Edit, keys.Delete)
	}
	return tui.KeyMap{
		Short: slices.Concat(own, s.table.Bindings()),
		Full:  [][]key.Binding{slices.Concat(own, []key.Binding{keys.Reload}), s.table.FullBindings()},
	}
}

type loadedMsg struct {
	tui.To
	seq   int
	users []core.User
	err   error
}

type deletedMsg struct {
	tui.To
	login string
	err   error
}

func (s *Screen) load() tea.Cmd {
	s.seq++
	seq, to, store := s.seq, tui.To(s.id), s.deps.Registry.Store
	return func() tea.Msg {
		users, err := store.Users(context.Background())
		return loadedMsg{To: to, seq: seq, users: users, err: err}
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
			return s, tui.ShowError(fmt.Errorf("reading users: %w", msg.err))
		}
		s.fill(msg.users)
		return s, nil
	case deletedMsg:
		s.busy.Stop()
		if msg.err != nil {
			return s, tea.Batch(tui.ShowError(msg.err), s.load())
		}
		return s, tea.Batch(tui.Toast("User "+msg.login+" deleted."), s.load())
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
	u, ok := s.selected()
	switch {
	case key.Matches(k, keys.Add):
		return tui.Push(addForm(s.deps))
	case key.Matches(k, keys.Reload):
		return s.load()
	case !ok:
		return nil
	case key.Matches(k, keys.Edit):
		return tui.Push(editForm(s.deps, u))
	case key.Matches(k, keys.Delete):
		detail := "Calls with its tokens are refused from then on"
		if u.Profile != "" {
			detail = "A token of profile " + u.Profile + " whose roles the role map maps creates it again"
		}
		s.confirm.Ask(fmt.Sprintf("Delete user %s?", u.Login), detail+" (serve picks the change up within a minute).", "Delete", u.Login)
	}
	return nil
}

func (s *Screen) delete(login string) tea.Cmd {
	to, store := tui.To(s.id), s.deps.Registry.Store
	return tea.Batch(s.busy.Start("Deleting "+login+"…"), func() tea.Msg {
		return deletedMsg{To: to, login: login, err: store.DeleteUser(context.Background(), login)}
	})
}

func (s *Screen) selected() (core.User, bool) {
	r, ok := s.table.Selected()
	if !ok {
		return core.User{}, false
	}
	u, ok := s.users[r.Key]
	return u, ok
}

func (s *Screen) fill(users []core.User) {
	s.users = make(map[string]core.User, len(users))
	rows := make([]tui.Row, len(users))
	for i, u := range users {
		s.users[u.Login] = u
		rows[i] = tui.Row{
			Key:   u.Login,
			Cells: []string{u.Login, cmp.Or(u.Email, "-"), cmp.Or(fullName(u), "-"), cmp.Or(strings.Join(u.Roles, " "), "-"), from(u)},
			Tones: []tui.Tone{tui.TonePrimary, 0, 0, 0, tui.ToneMuted},
		}
	}
	s.table.SetRows(rows)
}

func (s *Screen) View() string {
	if !s.loaded {
		return s.st.Muted.Render("Reading users…")
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
	u, ok := s.selected()
	if !ok {
		return ""
	}
	label := s.st.Muted.Render
	roles := "none: its calls carry no role"
	if len(u.Roles) > 0 {
		roles = tui.Escape(strings.Join(u.Roles, ", "))
	}
	origin := "made by hand"
	if u.Profile != "" {
		origin = "from a token of profile " + tui.Escape(u.Profile)
	}
	origin += label(" · created ") + tui.Stamp(u.CreatedAt)
	if !u.UpdatedAt.Equal(u.CreatedAt) {
		origin += label(" · changed ") + tui.Stamp(u.UpdatedAt)
	}
	lines := []string{
		// Users are made from tokens: every value is escaped.
		label("user    ") + tui.Escape(u.Login) + label(" · ") + tui.Escape(cmp.Or(u.Email, "-")) + label(" · ") + tui.Escape(cmp.Or(fullName(u), "-")),
		label("roles   ") + roles,
		label("origin  ") + origin,
	}
	for i, l := range lines {
		lines[i] = tui.Truncate(l, s.width)
	}
	return strings.Join(lines, "\n")
}

func fullName(u core.User) string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// from says where a user came from, as `oidcctl user list` does.
func from(u core.User) string {
	if u.Profile != "" {
		return "profile " + u.Profile
	}
	return "by hand"
}
