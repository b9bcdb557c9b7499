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
	"sync"
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
	src   *source
	st    tui.Styles
	table tui.PagedTable
	loads tui.Loads
	err   error

	profiles int
	counts   core.AccountCounts // of every account, at the last load

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

// Store is what the home screen reads: the profiles, how many accounts
// are in each profile and state, and the accounts a page at a time, so
// that the first frame of 100,000 accounts reads the twenty it shows.
type Store interface {
	Profiles(ctx context.Context) ([]core.Profile, error)
	core.OverviewStore
}

// New returns the home screen.
func New(d screens.Deps) *Screen {
	s := &Screen{id: tui.NewID(), src: &source{store: d.Registry.Store, now: d.Clockf()}, st: d.Styles}
	s.table = tui.NewPagedTable(d.Styles, s.id, s.src.fetch,
		tui.Column{Title: "PROFILE / ACCOUNT", Width: 18, Flex: 2},
		tui.Column{Title: "CLIENT ID / GRANT", Width: 18, Flex: 1},
		tui.Column{Title: "STATE", Width: 12},
		tui.Column{Title: "PROVIDER / EXPIRES", Width: 16, Flex: 2},
	)
	return s
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

// loaded is what a load reads: the profiles, and how many accounts are
// in each profile and state at the time of the load.
type loaded struct {
	at       time.Time
	profiles []core.Profile
	counts   core.AccountCounts
}

// load reads the profiles and the counts; the table then reads the rows
// in view (source.fetch). The two reads run side by side (SQLite in WAL
// mode lets readers share the file).
func (s *Screen) load() tea.Cmd {
	store, at := s.src.store, s.src.now()
	return tui.Load(&s.loads, s.id, func(ctx context.Context) (m loaded, err error) {
		var countErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.counts, countErr = store.CountAccounts(ctx, core.AccountQuery{Now: at})
		}()
		m.profiles, err = store.Profiles(ctx)
		<-done
		m.at = at
		return m, errors.Join(err, countErr)
	})
}

// source reads the tree a window at a time for the table: each profile,
// then the accounts the filter selects, indented. What the last load read
// is handed to it under its lock, since fetches run in commands.
type source struct {
	store Store
	now   func() time.Time

	mu     sync.Mutex
	base   loaded
	cached tree // the tree of the last filter fetched
}

// tree is the shape of the tree for one filter: the profiles shown, in
// order, each with how many of its accounts the filter selects.
type tree struct {
	filter   string
	at       time.Time
	branches []branch
}

type branch struct {
	profile      core.Profile
	total, shown int // its accounts, and of them the ones the filter selects
}

// rows is how many rows the tree has.
func (t tree) rows() int {
	n := 0
	for _, b := range t.branches {
		n += 1 + b.shown
	}
	return n
}

// reset takes a new load's result: the trees read before it are stale.
func (src *source) reset(m loaded) {
	src.mu.Lock()
	defer src.mu.Unlock()
	src.base, src.cached = m, tree{}
}

// tree returns the shape of the tree for filter: with no filter, from the
// load's counts; with one, from a count of the accounts it selects, and
// each profile whose name, client id or provider host contains it.
func (src *source) tree(ctx context.Context, filter string) (tree, error) {
	src.mu.Lock()
	base, cached := src.base, src.cached
	src.mu.Unlock()
	if cached.at.Equal(base.at) && cached.filter == filter && cached.branches != nil {
		return cached, nil
	}
	t := tree{filter: filter, at: base.at, branches: make([]branch, 0, len(base.profiles))}
	shown := base.counts
	if filter != "" {
		var err error
		if shown, err = src.store.CountAccounts(ctx, core.AccountQuery{Text: filter, Now: base.at}); err != nil {
			return tree{}, err
		}
	}
	q := strings.ToLower(filter)
	for _, p := range base.profiles {
		b := branch{profile: p, total: base.counts.Profiles[p.Name], shown: shown.Profiles[p.Name]}
		if b.shown > 0 || q == "" || strings.Contains(strings.ToLower(p.Name+"\x00"+p.ClientID+"\x00"+host(p.DiscoveryURL)), q) {
			t.branches = append(t.branches, b)
		}
	}
	src.mu.Lock()
	if src.base.at.Equal(base.at) {
		src.cached = t
	}
	src.mu.Unlock()
	return t, nil
}

// fetch reads rows from..from+n-1 of the tree for filter: the profile
// rows from the load, the accounts' rows from one page of token states.
func (src *source) fetch(ctx context.Context, filter string, from, n int) (tui.RowPage, error) {
	t, err := src.tree(ctx, filter)
	if err != nil {
		return tui.RowPage{}, err
	}
	page := tui.RowPage{From: from, Total: t.rows()}
	end := min(from+n, page.Total)
	// Walk the tree to the window: the profile rows are known; the
	// accounts in it are one run of the accounts in tree order.
	var rows []tui.Row
	var accounts []int // indexes in rows of the accounts' places
	first, pos, before := -1, 0, 0
	for _, b := range t.branches {
		if pos >= end {
			break
		}
		if pos >= from {
			rows = append(rows, profileRow(b))
		}
		pos++
		if lo, hi := max(from, pos), min(end, pos+b.shown); lo < hi {
			if first < 0 {
				first = before + lo - pos
			}
			for range hi - lo {
				accounts = append(accounts, len(rows))
				rows = append(rows, tui.Row{})
			}
		}
		pos += b.shown
		before += b.shown
	}
	if len(accounts) > 0 {
		sts, err := src.store.TokenStatePage(ctx, core.AccountQuery{Text: filter, Now: t.at}, first, len(accounts))
		if err != nil {
			return tui.RowPage{}, err
		}
		now := src.now()
		for i, st := range sts {
			rows[accounts[i]] = accountRow(st, now)
		}
		if len(sts) < len(accounts) {
			// Accounts went since the load: the window ends at the first gap.
			rows = rows[:accounts[len(sts)]]
		}
	}
	page.Rows = rows
	return page, nil
}

func profileRow(b branch) tui.Row {
	p := b.profile
	return tui.Row{
		Key:   "p/" + p.Name,
		Cells: []string{p.Name, p.ClientID, plural(b.total, "account"), host(p.DiscoveryURL)},
		Tone:  tui.TonePrimary,
	}
}

// accountRow is the row of an account in the tree.
func accountRow(st core.TokenState, now time.Time) tui.Row {
	word, tone := screens.TokenState(st, now)
	exp := ""
	if st.Tokens.AccessToken.IsSet() {
		exp = "expires " + tui.Relative(st.Tokens.Expiry, now)
		if st.Tokens.Expiry.IsZero() {
			exp = "no expiry given"
		}
	}
	return tui.Row{
		Key:   "a/" + st.Account,
		Cells: []string{"  " + st.Account, string(st.GrantType), word, exp},
		Tones: []tui.Tone{tui.ToneNormal, tui.ToneMuted, tone, tui.ToneMuted},
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
		s.profiles, s.counts = len(msg.Value.profiles), msg.Value.counts
		s.src.reset(msg.Value)
		return s, s.table.Reload()
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
		// The table's own page reads, and the filter's cursor blink.
		_, cmd := s.table.Update(msg)
		return s, cmd
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

// summary counts the profiles, the accounts and the accounts in each
// state; the states in the order a person reads them.
func (s *Screen) summary() string {
	parts := []string{plural(s.profiles, "profile"), plural(s.counts.Total, "functional account")}
	for _, st := range []struct{ word, label string }{
		{core.StateValid, "valid"}, {core.StateExpired, "expired"}, {core.StateFailing, "failing"},
		{core.StateNeedsAuthorization, screens.NeedsAuth}, {core.StateNone, "without tokens"},
	} {
		if n := s.counts.States[st.word]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st.label))
		}
	}
	return strings.Join(parts, " · ")
}

func (s *Screen) View() string {
	switch {
	case s.err != nil:
		return s.st.Error.Render("✗ Cannot read the database: " + s.err.Error())
	case !s.loads.Done() || s.profiles > 0 && !s.table.Loaded():
		return s.st.Muted.Render("Reading the database…")
	case s.profiles == 0:
		return s.empty()
	}
	head := s.st.Bold.Render(s.summary())
	if s.counts.Total == 0 {
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
