// Package home is the console's first screen: every profile with its
// accounts and the state of their tokens, at a glance. An empty database
// says how to add the first profile.
package home

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oidcctl/core"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Screen is the home screen.
type Screen struct {
	id    tui.ID
	now   func() time.Time
	store Store
	st    tui.Styles
	table tui.RowTable
	loads tui.Loads
	err   error

	profiles, accounts int
	counts             map[string]int // state word → accounts

	width, height int
}

type keyMap struct {
	Open, Profiles, Accounts, Tokens, Reload key.Binding
}

var keys = keyMap{
	// enter opens the row in its own tab, where the detail pane and enter
	// show all that the tree's columns cut.
	Open:     tui.Keys("enter", "open in its tab", "enter"),
	Profiles: tui.Keys("p", "profiles", "p"),
	Accounts: tui.Keys("a", "accounts", "a"),
	Tokens:   tui.Keys("t", "tokens", "t"),
	Reload:   tui.Keys("r", "reload", "r"),
}

// Store is what the home screen reads: the profiles, and the token
// state of every account (which names its profile and grant), one at a
// time: the screen keeps only its row of each account and the counts,
// not the token states (tokens included) of every account at once.
type Store interface {
	Profiles(ctx context.Context) ([]core.Profile, error)
	EachTokenState(ctx context.Context, fn func(core.TokenState) error) error
}

// New returns the home screen.
func New(d screens.Deps) *Screen {
	t := tui.NewRowTable(d.Styles,
		tui.Column{Title: "PROFILE / ACCOUNT", Width: 18, Flex: 2},
		tui.Column{Title: "CLIENT ID / GRANT", Width: 18, Flex: 1},
		tui.Column{Title: "STATE", Width: 12},
		tui.Column{Title: "PROVIDER / EXPIRES", Width: 16, Flex: 2},
	)
	return &Screen{id: tui.NewID(), now: d.Clockf(), store: d.Registry.Store, st: d.Styles, table: t}
}

func (s *Screen) ID() tui.ID      { return s.id }
func (s *Screen) Title() string   { return "Home" }
func (s *Screen) Init() tea.Cmd   { return s.load() }
func (s *Screen) Capturing() bool { return s.table.Filtering() }

func (s *Screen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.table.SetSize(w, max(3, h-2))
}

func (s *Screen) KeyMap() help.KeyMap {
	if s.table.Filtering() {
		return tui.KeyMap{Short: s.table.Bindings()}
	}
	short := slices.Concat(s.table.Bindings(), []key.Binding{keys.Profiles, keys.Accounts, keys.Tokens, keys.Reload})
	full := []key.Binding{keys.Profiles, keys.Accounts, keys.Tokens, keys.Reload}
	if _, ok := s.table.Selected(); ok {
		full = append([]key.Binding{keys.Open}, full...)
	}
	return tui.KeyMap{Short: short, Full: [][]key.Binding{s.table.FullBindings(), full}}
}

// loaded is what a load reads: the profiles, and each profile's
// accounts as rows of the tree, with how many accounts are in each state.
type loaded struct {
	profiles []core.Profile
	accounts map[string][]tui.Row // profile name → its accounts' rows, by name
	n        int                  // accounts
	counts   map[string]int       // state word → accounts
}

// load reads the profiles and the token state of every account, which
// names the account's profile and grant: all the screen shows. The two
// reads run side by side (SQLite in WAL mode lets readers share the file).
// Each token state becomes the account's row as it is read, so that no
// more than one is held at a time: with 100,000 accounts, holding them all
// (and their tokens) took most of the first frame's time and memory.
func (s *Screen) load() tea.Cmd {
	store, now := s.store, s.now
	return tui.Load(&s.loads, s.id, func(ctx context.Context) (m loaded, err error) {
		var stateErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.accounts, m.counts = map[string][]tui.Row{}, map[string]int{}
			at := now()
			stateErr = store.EachTokenState(ctx, func(st core.TokenState) error {
				word, r := accountRow(st, at)
				m.accounts[st.Profile] = append(m.accounts[st.Profile], r)
				m.counts[word]++
				m.n++
				return nil
			})
		}()
		m.profiles, err = store.Profiles(ctx)
		<-done
		return m, errors.Join(err, stateErr)
	})
}

// tones are the cell tones of an account's row by the tone of its state,
// shared by the rows (a table only reads them).
var tones = func() map[tui.Tone][]tui.Tone {
	m := map[tui.Tone][]tui.Tone{}
	for _, t := range []tui.Tone{tui.ToneSuccess, tui.ToneWarning, tui.ToneError, tui.ToneMuted} {
		m[t] = []tui.Tone{tui.ToneNormal, tui.ToneMuted, t, tui.ToneMuted}
	}
	return m
}()

// accountRow is the row of an account in the tree and its state's word.
func accountRow(st core.TokenState, now time.Time) (string, tui.Row) {
	word, tone := screens.TokenState(st, now)
	exp := ""
	if st.Tokens.AccessToken.IsSet() {
		exp = "expires " + tui.Relative(st.Tokens.Expiry, now)
		if st.Tokens.Expiry.IsZero() {
			exp = "no expiry given"
		}
	}
	ts, ok := tones[tone]
	if !ok {
		ts = []tui.Tone{tui.ToneNormal, tui.ToneMuted, tone, tui.ToneMuted}
	}
	return word, tui.Row{
		Key:   "a/" + st.Account,
		Cells: []string{"  " + st.Account, string(st.GrantType), word, exp},
		Tones: ts,
	}
}

func (s *Screen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tui.Loaded[loaded]:
		if !s.loads.Take(msg.Seq) {
			return s, nil // an older load
		}
		if s.err = msg.Err; s.err != nil {
			return s, tui.ShowError(fmt.Errorf("reading the database: %w", msg.Err))
		}
		s.fill(msg.Value)
		return s, nil
	case tui.ActivatedMsg:
		return s, s.load()
	case tea.KeyPressMsg:
		if used, cmd := s.table.Update(msg); used {
			return s, cmd
		}
		switch {
		case key.Matches(msg, keys.Open):
			return s, s.open()
		case key.Matches(msg, keys.Profiles):
			return s, tui.SwitchTab("Profiles")
		case key.Matches(msg, keys.Accounts):
			return s, tui.SwitchTab("Accounts")
		case key.Matches(msg, keys.Tokens):
			return s, tui.SwitchTab("Tokens")
		case key.Matches(msg, keys.Reload):
			return s, s.load()
		}
	default:
		if s.table.Filtering() {
			_, cmd := s.table.Update(msg)
			return s, cmd
		}
	}
	return s, nil
}

// open shows the selected row in its tab, the cursor on it: a profile in
// Profiles, an account in Accounts.
func (s *Screen) open() tea.Cmd {
	r, ok := s.table.Selected()
	if !ok {
		return nil
	}
	kind, name, _ := strings.Cut(r.Key, "/")
	tab := "Profiles"
	if kind == "a" {
		tab = "Accounts"
	}
	return tea.Sequence(tui.SwitchTab(tab), tui.Select(name))
}

// fill builds the rows: each profile, then its accounts indented.
func (s *Screen) fill(m loaded) {
	s.profiles, s.accounts, s.counts = len(m.profiles), m.n, m.counts
	rows := make([]tui.Row, 0, len(m.profiles)+m.n)
	for _, p := range m.profiles {
		accs := m.accounts[p.Name]
		rows = append(rows, tui.Row{
			Key:   "p/" + p.Name,
			Cells: []string{p.Name, p.ClientID, plural(len(accs), "account"), host(p.DiscoveryURL)},
			Tone:  tui.TonePrimary,
		})
		rows = append(rows, accs...)
	}
	s.table.SetItems(rows)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// host is the provider's host in a discovery URL.
func host(discoveryURL string) string {
	u, err := url.Parse(discoveryURL)
	if err != nil || u.Host == "" {
		return discoveryURL
	}
	return u.Host
}

func (s *Screen) summary() string {
	parts := []string{plural(s.profiles, "profile"), plural(s.accounts, "functional account")}
	for _, w := range []string{"valid", "expired", "failing", screens.NeedsAuth, "none"} {
		if n := s.counts[w]; n > 0 {
			label := w
			if w == "none" {
				label = "without tokens"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, label))
		}
	}
	return strings.Join(parts, " · ")
}

func (s *Screen) View() string {
	switch {
	case !s.loads.Done():
		return s.st.Muted.Render("Reading the database…")
	case s.err != nil:
		return s.st.Error.Render("✗ Cannot read the database: " + s.err.Error())
	case s.profiles == 0:
		return s.empty()
	}
	head := s.st.Bold.Render(s.summary())
	if s.accounts == 0 {
		head += "\n" + s.st.Muted.Render("No functional account yet: press a for Accounts, then a to add one.")
	} else {
		head += "\n"
	}
	return head + "\n" + s.table.View()
}

func (s *Screen) empty() string {
	b := s.st.Bold.Render("No profile yet.") + `

A profile is one OpenID provider plus one client registration: the
provider's discovery URL, your client id and its secret. Functional
accounts then obtain tokens from it.

Add the first profile: press ` + s.st.Primary.Render("p") + ` for Profiles, then ` + s.st.Primary.Render("a") + ` to add one.

Or from a shell:

  oidcctl profile add keycloak --client-id someapi \
      --discovery-url https://idp.example/.well-known/openid-configuration \
      --client-secret-file ./secret`
	return b
}
