// Package profiles is the console's profile screen: the list of OIDC
// provider profiles with their issuer, client id, accounts and discovery
// state; adding (prefilled from another profile, never its secret) and
// editing them in a form; testing discovery and the JWKS; deleting them,
// which core refuses while accounts use the profile.
package profiles

import (
	"cmp"
	"context"
	"encoding/json"
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
	"oidcctl/screens"
	"oidcctl/tui"
)

// Screen is the list of profiles.
type Screen struct {
	id      tui.ID
	deps    screens.Deps
	st      tui.Styles
	table   tui.Table
	confirm tui.Confirm
	busy    tui.Busy
	seq     int
	loaded  bool

	rows     map[string]row
	profiles []core.Profile
	// tested keeps the last test of each profile in this session: a failed
	// test leaves no trace in the discovery cache.
	tested map[string]testResult

	width, height int
}

// row is what the list knows of one profile.
type row struct {
	profile  core.Profile
	accounts []string
	issuer   string
	fetched  time.Time // of the cached document; zero when none
}

type testResult struct {
	at  time.Time
	err error
}

type keyMap struct {
	Add, Edit, Test, Delete, Reload key.Binding
}

var keys = keyMap{
	Add:    tui.Keys("a", "add", "a"),
	Edit:   tui.Keys("e", "edit", "e", "enter"),
	Test:   tui.Keys("t", "test", "t"),
	Delete: tui.Keys("d", "delete", "d", "delete"),
	Reload: tui.Keys("r", "reload", "r"),
}

// New returns the profiles screen.
func New(d screens.Deps) *Screen {
	t := tui.NewTable(d.Styles,
		tui.Column{Title: "NAME", Width: 12, Flex: 1},
		tui.Column{Title: "ISSUER", Width: 16, Flex: 3},
		tui.Column{Title: "CLIENT ID", Width: 12, Flex: 1},
		tui.Column{Title: "ACCTS", Width: 5},
		tui.Column{Title: "DISCOVERY", Width: 15},
	)
	t.SetEmpty("No profile yet: press a to add one.")
	return &Screen{
		id: tui.NewID(), deps: d, st: d.Styles, table: t,
		confirm: tui.NewConfirm(d.Styles), busy: tui.NewBusy(d.Styles),
		tested: map[string]testResult{},
	}
}

func (s *Screen) ID() tui.ID    { return s.id }
func (s *Screen) Title() string { return "Profiles" }
func (s *Screen) Init() tea.Cmd { return s.load() }

func (s *Screen) Capturing() bool { return s.table.Filtering() || s.confirm.Active() }

// detailRows is the height of the pane under the table.
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
	own := []key.Binding{keys.Add, keys.Reload}
	if _, ok := s.selected(); ok {
		own = []key.Binding{keys.Add, keys.Edit, keys.Test, keys.Delete, keys.Reload}
	}
	return tui.KeyMap{
		Short: slices.Concat(own, s.table.Bindings()),
		Full:  [][]key.Binding{own, s.table.FullBindings()},
	}
}

type loadedMsg struct {
	tui.To
	seq  int
	rows []row
	err  error
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
		rows, err := loadRows(context.Background(), store)
		return loadedMsg{To: to, seq: seq, rows: rows, err: err}
	}
}

// loadRows reads the profiles, who uses them and their cached discovery
// documents.
func loadRows(ctx context.Context, store core.Store) ([]row, error) {
	profiles, err := store.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	accounts, err := store.Accounts(ctx, "")
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, a := range accounts {
		users[a.Profile] = append(users[a.Profile], a.Name)
	}
	rows := make([]row, len(profiles))
	for i, p := range profiles {
		rows[i] = row{profile: p, accounts: users[p.Name]}
		doc, err := store.CachedDiscovery(ctx, p.Name)
		switch {
		case errors.Is(err, core.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		if doc.URL != p.DiscoveryURL {
			continue // cached for an older URL: as good as none
		}
		var d struct {
			Issuer string `json:"issuer"`
		}
		if json.Unmarshal(doc.Body, &d) == nil {
			rows[i].issuer = d.Issuer
		}
		rows[i].fetched = doc.FetchedAt
	}
	return rows, nil
}

func (s *Screen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.seq != s.seq {
			return s, nil
		}
		s.loaded = true
		if msg.err != nil {
			return s, tui.ShowError(fmt.Errorf("reading profiles: %w", msg.err))
		}
		s.fill(msg.rows)
		return s, nil
	case deletedMsg:
		s.busy.Stop()
		if msg.err != nil {
			return s, tui.ShowError(msg.err)
		}
		delete(s.tested, msg.name)
		return s, tea.Batch(tui.Toast("Profile "+msg.name+" deleted."), s.load())
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
	sel, ok := s.selected()
	switch {
	case key.Matches(k, keys.Add):
		if len(s.profiles) == 0 {
			return tui.Push(addForm(s.deps, newValues(nil)))
		}
		return tui.Push(newChooser(s.deps, s.profiles))
	case key.Matches(k, keys.Reload):
		return s.load()
	case !ok:
		return nil
	case key.Matches(k, keys.Edit):
		return tui.Push(editForm(s.deps, sel.profile))
	case key.Matches(k, keys.Test):
		return tui.Push(newTestScreen(s.deps, sel.profile, func(r testResult) { s.tested[sel.profile.Name] = r }))
	case key.Matches(k, keys.Delete):
		detail := "Its cached discovery document goes with it."
		if n := len(sel.accounts); n > 0 {
			detail = fmt.Sprintf("It is used by %s: oidcctl will refuse until they are removed or moved.", strings.Join(sel.accounts, ", "))
		}
		s.confirm.Ask(fmt.Sprintf("Delete profile %s?", sel.profile.Name), detail, "Delete", sel.profile.Name)
	}
	return nil
}

func (s *Screen) delete(name string) tea.Cmd {
	to, reg := tui.To(s.id), s.deps.Registry
	return tea.Batch(s.busy.Start("Deleting "+name+"…"), func() tea.Msg {
		return deletedMsg{To: to, name: name, err: reg.DeleteProfile(context.Background(), name)}
	})
}

func (s *Screen) selected() (row, bool) {
	r, ok := s.table.Selected()
	if !ok {
		return row{}, false
	}
	sel, ok := s.rows[r.Key]
	return sel, ok
}

func (s *Screen) fill(rows []row) {
	now := s.deps.Clock()
	s.rows = make(map[string]row, len(rows))
	s.profiles = make([]core.Profile, len(rows))
	out := make([]tui.Row, len(rows))
	for i, r := range rows {
		s.rows[r.profile.Name] = r
		s.profiles[i] = r.profile
		state, tone := s.discoveryState(r, now)
		issuer := r.issuer
		if issuer == "" {
			issuer = "-"
		}
		out[i] = tui.Row{
			Key:   r.profile.Name,
			Cells: []string{r.profile.Name, issuer, r.profile.ClientID, fmt.Sprint(len(r.accounts)), state},
			Tones: []tui.Tone{tui.TonePrimary, tui.ToneNormal, tui.ToneNormal, tui.ToneNormal, tone},
		}
	}
	s.table.SetRows(out)
}

// discoveryState says whether the profile's discovery document is known
// and fresh.
func (s *Screen) discoveryState(r row, now time.Time) (string, tui.Tone) {
	if t, ok := s.tested[r.profile.Name]; ok && t.err != nil && !t.at.Before(r.fetched) {
		return "test failed", tui.ToneError
	}
	if r.fetched.IsZero() {
		return "not fetched", tui.ToneMuted
	}
	age := now.Sub(r.fetched)
	if age < r.profile.DiscoveryTTL {
		return "ok " + ago(age), tui.ToneSuccess
	}
	return "stale " + ago(age), tui.ToneWarning
}

// ago is a short age: "12s", "3m", "5h", "2d".
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func (s *Screen) View() string {
	if !s.loaded {
		return s.st.Muted.Render("Reading profiles…")
	}
	if s.confirm.Active() {
		// The question takes the room it needs from the table.
		box := s.confirm.View(s.width)
		t := s.table
		t.SetSize(s.width, max(3, s.height-lipgloss.Height(box)-1))
		return t.View() + "\n" + box
	}
	var b strings.Builder
	b.WriteString(s.table.View())
	b.WriteString("\n")
	switch {
	case s.busy.Active():
		b.WriteString(s.busy.View())
	default:
		b.WriteString(s.detail())
	}
	return b.String()
}

// detail describes the selected profile under the table.
func (s *Screen) detail() string {
	r, ok := s.selected()
	if !ok {
		return ""
	}
	p := r.profile
	label := s.st.Muted.Render
	secret := "no secret (public client)"
	if p.ClientSecret.IsSet() {
		secret = "secret set"
	}
	tls := "system CAs"
	switch {
	case p.TLS.SkipVerifyPeer:
		tls = s.st.Error.Render("certificate NOT verified (tests only)")
	case p.TLS.SkipVerifyHostname:
		tls = s.st.Warning.Render("host name not verified")
	case p.TLS.CAFile != "" || p.TLS.CADir != "":
		tls = "extra CAs"
	}
	if p.TLS.ClientCert != "" {
		tls += ", client certificate"
	}
	accounts := "none"
	if len(r.accounts) > 0 {
		accounts = strings.Join(r.accounts, ", ")
	}
	lines := []string{
		label("URL      ") + p.DiscoveryURL,
		label("client   ") + p.ClientID + " · " + secret + " · " + string(p.Flavour) + " · scopes: " + cmp.Or(strings.Join(p.Scopes, " "), "-"),
		label("TLS      ") + tls + label(" · UID claim ") + p.UIDClaim,
		label("accounts ") + accounts,
	}
	return strings.Join(lines, "\n")
}
