// Package webservices is the console's webservice screen: the named routes
// of `oidcctl serve`, provider (incoming calls validated with a profile and
// proxied to an upstream) and requester (outgoing calls sent with a token
// of a functional account); adding and editing them in a form that shows
// the fields of their kind; deleting them after a confirmation.
package webservices

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
	"oidcctl/core/config"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Screen is the list of webservices.
type Screen struct {
	id      tui.ID
	deps    screens.Deps
	st      tui.Styles
	table   tui.Table
	confirm tui.Confirm
	busy    tui.Busy
	seq     int
	loaded  bool

	services map[string]core.Webservice
	profiles []string
	accounts []string

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

// New returns the webservices screen.
func New(d screens.Deps) *Screen {
	t := tui.NewTable(d.Styles,
		tui.Column{Title: "NAME", Width: 10, Flex: 1},
		tui.Column{Title: "KIND", Width: 9},
		tui.Column{Title: "WITH", Width: 10, Flex: 1},
		tui.Column{Title: "ROUTE / ENDPOINT", Width: 16, Flex: 3},
		tui.Column{Title: "METHODS", Width: 8, Flex: 1},
		tui.Column{Title: "DEBUG", Width: 5},
	)
	t.SetEmpty("No webservice yet: press a to add one for oidcctl serve.")
	return &Screen{id: tui.NewID(), deps: d, st: d.Styles, table: t, confirm: tui.NewConfirm(d.Styles), busy: tui.NewBusy(d.Styles)}
}

func (s *Screen) ID() tui.ID      { return s.id }
func (s *Screen) Title() string   { return "Webservices" }
func (s *Screen) Init() tea.Cmd   { return s.load() }
func (s *Screen) Capturing() bool { return s.table.Filtering() || s.confirm.Active() }

const detailRows = 4

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
	seq      int
	services []core.Webservice
	profiles []core.Profile
	accounts []core.Account
	err      error
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
		if m.services, m.err = store.Webservices(ctx); m.err != nil {
			return m
		}
		if m.profiles, m.err = store.Profiles(ctx); m.err != nil {
			return m
		}
		m.accounts, m.err = store.Accounts(ctx, "")
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
			return s, tui.ShowError(fmt.Errorf("reading webservices: %w", msg.err))
		}
		s.fill(msg)
		return s, nil
	case deletedMsg:
		s.busy.Stop()
		if msg.err != nil {
			return s, tea.Batch(tui.ShowError(msg.err), s.load())
		}
		return s, tea.Batch(tui.Toast("Webservice "+msg.name+" deleted."), s.load())
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
	w, ok := s.selected()
	switch {
	case key.Matches(k, keys.Add):
		if len(s.profiles) == 0 && len(s.accounts) == 0 {
			return tui.ShowError(errors.New("a webservice needs a profile or an account: add one first (Profiles, Accounts)"))
		}
		return tui.Push(addForm(s.deps, s.profiles, s.accounts))
	case key.Matches(k, keys.Reload):
		return s.load()
	case !ok:
		return nil
	case key.Matches(k, keys.Edit):
		return tui.Push(editForm(s.deps, s.profiles, s.accounts, w))
	case key.Matches(k, keys.Delete):
		s.confirm.Ask(fmt.Sprintf("Delete webservice %s?", w.Name),
			"Its recorded calls go with it, and a running serve stops serving "+servedAt(w)+" within seconds.", "Delete", w.Name)
	}
	return nil
}

func (s *Screen) delete(name string) tea.Cmd {
	to, store := tui.To(s.id), s.deps.Registry.Store
	return tea.Batch(s.busy.Start("Deleting "+name+"…"), func() tea.Msg {
		return deletedMsg{To: to, name: name, err: store.DeleteWebservice(context.Background(), name)}
	})
}

func (s *Screen) selected() (core.Webservice, bool) {
	r, ok := s.table.Selected()
	if !ok {
		return core.Webservice{}, false
	}
	w, ok := s.services[r.Key]
	return w, ok
}

func (s *Screen) fill(m loadedMsg) {
	// New slices: a form opened earlier keeps the lists it was given.
	s.profiles = make([]string, len(m.profiles))
	for i, p := range m.profiles {
		s.profiles[i] = p.Name
	}
	s.accounts = make([]string, len(m.accounts))
	for i, a := range m.accounts {
		s.accounts[i] = a.Name
	}
	s.services = make(map[string]core.Webservice, len(m.services))
	rows := make([]tui.Row, len(m.services))
	for i, w := range m.services {
		s.services[w.Name] = w
		with, at, methods := w.Profile, w.Route, strings.Join(w.Methods, " ")
		if w.Kind == core.Requester {
			with, at, methods = w.Account, w.Endpoint+w.Path, w.Method
		}
		debug, tone := "off", tui.ToneMuted
		if w.Debug.Enabled {
			debug, tone = "on", tui.ToneNormal
		}
		rows[i] = tui.Row{
			Key:   w.Name,
			Cells: []string{w.Name, string(w.Kind), with, at, methods, debug},
			Tones: []tui.Tone{tui.TonePrimary, tui.ToneMuted, 0, 0, 0, tone},
		}
	}
	s.table.SetRows(rows)
}

func (s *Screen) View() string {
	if !s.loaded {
		return s.st.Muted.Render("Reading webservices…")
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

// servedAt is where serve takes a webservice's calls.
func servedAt(w core.Webservice) string {
	if w.Kind == core.Requester {
		return "/invoke/" + w.Name
	}
	return "/ws/" + w.Name + w.Route
}

func (s *Screen) detail() string {
	w, ok := s.selected()
	if !ok {
		return ""
	}
	label := s.st.Muted.Render
	var call, auth string
	if w.Kind == core.Requester {
		call = servedAt(w) + label(" → ") + w.Method + " " + w.Endpoint + w.Path
		auth = "a token of account " + w.Account + " is attached"
	} else {
		call = servedAt(w) + label(" → ") + w.Upstream
		auth = "tokens validated with profile " + w.Profile + " · Authorization "
		if w.PassAuthorization {
			auth += "passed on"
		} else {
			auth += "not passed on"
		}
	}
	debug := label("off")
	if w.Debug.Enabled {
		debug = fmt.Sprintf("on · keeps %s of each body, %s, at most %d calls",
			config.FormatSize(int64(w.Debug.MaxBody)), config.FormatDays(orDefault(w.Debug.MaxAge, core.DefaultDebugMaxAge)), orDefault(w.Debug.MaxEntries, core.DefaultDebugMaxEntries))
	}
	lines := []string{
		label("call     ") + call,
		label("auth     ") + auth,
		label("debugger ") + debug,
		label("changed  ") + tui.Stamp(w.UpdatedAt) + label(" · created ") + tui.Stamp(w.CreatedAt),
	}
	for i, l := range lines {
		lines[i] = tui.Truncate(l, s.width)
	}
	return strings.Join(lines, "\n")
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
