// Package inspector is the console's token inspector: paste a token, or
// pick a functional account to take its token (obtained first when it has
// none), choose the profile to check against, and see what the token holds
// and whether serve would accept it: the header, the claims as a tree, the
// times as dates and relative to now, every check with its outcome, the
// local user and roles it maps to, and the verdict with its reason.
//
// It runs validate.Validator.Inspect, as `oidcctl token inspect` does:
// nothing is written, a user that would be created is only shown.
package inspector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"oidcctl/core"
	"oidcctl/core/validate"
	"oidcctl/screens"
	"oidcctl/tui"
)

// MaxPaste bounds what the token field takes: four times the validator's
// default limit, so that a token that is too long is refused with a reason
// rather than cut.
const MaxPaste = 64 << 10

// Screen is the inspector's first page: where the token comes from and
// which profile judges it.
type Screen struct {
	id    tui.ID
	deps  deps
	st    tui.Styles
	table tui.Table[string, screens.AccountState]
	input textinput.Model
	loads tui.Loads
	// discard asks before ctrl+c throws a pasted token away (esc keeps it).
	discard tui.Confirm

	profiles []string
	// choice is the profile to check against: 0 the default (the
	// account's profile; every profile for a pasted token), 1…n a
	// profile, n+1 every profile.
	choice int

	width, height int
}

type keyMap struct {
	Inspect, Paste, Profile, PrevProfile, Reload key.Binding
	InspectPasted, Leave                         key.Binding
}

var keys = keyMap{
	Inspect:       tui.Keys("enter", "inspect its token", "enter"),
	Paste:         tui.Keys("v", "paste a token", "v", "i"),
	Profile:       tui.Keys("p", "profile", "p"),
	PrevProfile:   tui.Keys("P", "previous profile", "P"),
	Reload:        tui.Keys("r", "reload", "r"),
	InspectPasted: tui.Keys("enter", "inspect", "enter"),
	Leave:         tui.Keys("esc", "leave the field", "esc"),
}

// guardKey is ctrl+c, which the shell hands to the token field holding a
// token instead of quitting.
var guardKey = tui.Keys("ctrl+c", "quit", "ctrl+c")

// Store is what the inspector reads: the accounts with their token
// states, and the profiles.
type Store interface {
	screens.AccountStore
	Account(ctx context.Context, name string) (core.Account, error)
	Profile(ctx context.Context, name string) (core.Profile, error)
	Profiles(ctx context.Context) ([]core.Profile, error)
}

// Tokens hands out an account's token, obtaining it when needed.
type Tokens interface {
	Token(ctx context.Context, account string) (core.TokenSet, error)
}

// Validator judges a token as serve would, writing nothing.
type Validator interface {
	Inspect(ctx context.Context, p core.Profile, token string) *validate.Result
}

// deps are what the inspector's pages are built with.
type deps struct {
	Store     Store
	Tokens    Tokens
	Validator Validator
	Styles    tui.Styles
	Clock     func() time.Time
}

// New returns the inspector.
func New(d screens.Deps) *Screen {
	return newScreen(deps{Store: d.Registry.Store, Tokens: d.Tokens, Validator: d.Validator, Styles: d.Styles, Clock: d.Clockf()})
}

// newScreen returns the inspector on d.
func newScreen(d deps) *Screen {
	now := d.Clock
	row := func(a screens.AccountState) tui.Row {
		word, tone := a.Word(now())
		return tui.Row{
			Cells: []string{a.Name, a.Profile, string(a.GrantType), word},
			Tones: []tui.Tone{tui.TonePrimary, 0, tui.ToneMuted, tone},
		}
	}
	t := tui.NewTable(d.Styles, func(a screens.AccountState) string { return a.Name }, row,
		tui.Column{Title: "ACCOUNT", Width: 12, Flex: 2},
		tui.Column{Title: "PROFILE", Width: 10, Flex: 1},
		tui.Column{Title: "GRANT", Width: 18},
		tui.Column{Title: "TOKEN", Width: 19},
	)
	t.SetEmpty("No functional account: press v to paste a token instead.")
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = "paste or type the token, then press enter"
	in.CharLimit = MaxPaste
	return &Screen{id: tui.NewID(), deps: d, st: d.Styles, table: t, input: in, discard: tui.NewConfirm(d.Styles)}
}

func (s *Screen) ID() tui.ID    { return s.id }
func (s *Screen) Title() string { return "Inspector" }

// ShortTitle is the name in the tab bar at 80 columns.
func (s *Screen) ShortTitle() string { return "Insp" }
func (s *Screen) Init() tea.Cmd      { return s.load() }
func (s *Screen) Capturing() bool {
	return s.input.Focused() || s.table.Filtering() || s.discard.Active()
}

// Guards implements tui.Guard: ctrl+c in the token field holding a token
// asks before throwing it away; while it asks, ctrl+c quits.
func (s *Screen) Guards() bool {
	return s.input.Focused() && Clean(s.input.Value()) != "" && !s.discard.Active()
}

// headRows are the rows above the table: the token, the profile and a gap.
const headRows = 3

func (s *Screen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.input.SetWidth(max(10, w-10))
	s.table.SetSize(w, max(3, h-headRows))
}

func (s *Screen) KeyMap() help.KeyMap {
	switch {
	case s.discard.Active():
		return tui.KeyMap{Short: s.discard.Bindings()}
	case s.input.Focused():
		return tui.KeyMap{Short: []key.Binding{keys.InspectPasted, keys.Leave}}
	case s.table.Filtering():
		return tui.KeyMap{Short: s.table.Bindings()}
	}
	own := []key.Binding{keys.Paste}
	if _, ok := s.table.Selected(); ok {
		own = []key.Binding{keys.Inspect, keys.Paste}
	}
	own = append(own, keys.Profile)
	return tui.KeyMap{
		Short: slices.Concat(own, s.table.Bindings()),
		Full:  [][]key.Binding{slices.Concat(own, []key.Binding{keys.PrevProfile, keys.Reload}), s.table.FullBindings()},
	}
}

// loaded is what a load reads.
type loaded struct {
	accounts []screens.AccountState
	profiles []core.Profile
}

func (s *Screen) load() tea.Cmd {
	store := s.deps.Store
	return tui.Load(&s.loads, s.id, func(ctx context.Context) (m loaded, err error) {
		if m.accounts, err = screens.AccountStates(ctx, store); err != nil {
			return m, err
		}
		m.profiles, err = store.Profiles(ctx)
		return m, err
	})
}

func (s *Screen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tui.Loaded[loaded]:
		m, cmd, ok := tui.Take(&s.loads, msg, "accounts and profiles")
		if ok {
			s.fill(m)
		}
		return s, cmd
	case tui.ActivatedMsg:
		return s, s.load()
	case tea.PasteMsg:
		if s.table.Filtering() {
			_, cmd := s.table.Update(msg)
			return s, cmd
		}
		// A paste anywhere on the page goes into the token field.
		if !s.input.Focused() {
			s.input.SetValue("")
		}
		cmd := s.input.Focus()
		var icmd tea.Cmd
		s.input, icmd = s.input.Update(msg)
		return s, tea.Batch(cmd, icmd)
	case tea.KeyPressMsg:
		return s, s.handleKey(msg)
	}
	if s.input.Focused() {
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return s, cmd
	}
	if s.table.Filtering() {
		_, cmd := s.table.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *Screen) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if s.discard.Active() {
		if answered, yes := s.discard.Update(k); answered && yes {
			s.input.SetValue("")
			s.input.Blur()
		}
		return nil
	}
	if s.input.Focused() {
		switch {
		case key.Matches(k, guardKey):
			if Clean(s.input.Value()) != "" {
				s.discard.Ask("Discard the pasted token?", "It is not kept anywhere else; esc leaves the field and keeps it.", "Discard", "")
			}
			return nil
		case key.Matches(k, keys.Leave):
			s.input.Blur()
			return nil
		case key.Matches(k, keys.InspectPasted):
			token := Clean(s.input.Value())
			if token == "" {
				return tui.ShowError(errors.New("the token field is empty: paste a token first"))
			}
			s.input.Blur()
			return s.inspect(source{token: token})
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(k)
		return cmd
	}
	if used, cmd := s.table.Update(k); used {
		return cmd
	}
	switch {
	case key.Matches(k, keys.Paste):
		return s.input.Focus()
	case key.Matches(k, keys.Profile):
		s.choice = (s.choice + 1) % (len(s.profiles) + 2)
	case key.Matches(k, keys.PrevProfile):
		s.choice = (s.choice + len(s.profiles) + 1) % (len(s.profiles) + 2)
	case key.Matches(k, keys.Reload):
		return s.load()
	case key.Matches(k, keys.Inspect):
		if a, ok := s.table.Selected(); ok {
			return s.inspect(source{account: a.Name})
		}
	}
	return nil
}

// inspect opens the result page for the token and the chosen profiles.
func (s *Screen) inspect(src source) tea.Cmd {
	if len(s.profiles) == 0 {
		return tui.ShowError(errors.New("a token is checked against a profile: add one in Profiles first"))
	}
	return tui.Push(newResult(s.deps, src, s.pick()))
}

// pick is the profile choice.
func (s *Screen) pick() pick {
	switch {
	case s.choice == 0:
		return pick{}
	case s.choice > len(s.profiles):
		return pick{every: true}
	}
	return pick{profile: s.profiles[s.choice-1]}
}

func (s *Screen) fill(m loaded) {
	chosen := s.pick()
	s.profiles = make([]string, len(m.profiles))
	for i, p := range m.profiles {
		s.profiles[i] = p.Name
	}
	// Keep the choice on the same profile when the list changes.
	s.choice = 0
	switch {
	case chosen.every:
		s.choice = len(s.profiles) + 1
	case chosen.profile != "":
		if i := slices.Index(s.profiles, chosen.profile); i >= 0 {
			s.choice = i + 1
		}
	}
	s.table.SetItems(m.accounts)
}

func (s *Screen) View() string {
	if !s.loads.Done() {
		return s.st.Muted.Render("Reading accounts and profiles…")
	}
	if s.discard.Active() {
		return s.discard.View(s.width)
	}
	label := s.st.Muted.Render
	var b strings.Builder
	b.WriteString(label("Token    "))
	switch v := s.input.Value(); {
	case s.input.Focused():
		b.WriteString(s.input.View())
	case v == "":
		b.WriteString(label("press v and paste one (a Bearer prefix and line breaks are fine)"))
	default:
		b.WriteString(preview(Clean(v), s.width-9-26) + label(" · v, enter to inspect it"))
	}
	b.WriteString("\n" + label("Profile  "))
	switch p := s.pick(); {
	case len(s.profiles) == 0:
		b.WriteString(s.st.Warning.Render("no profile yet: add one in Profiles to check tokens against"))
	case p.every:
		b.WriteString(s.st.Primary.Render("every profile") + label(" · p to change"))
	case p.profile != "":
		b.WriteString(s.st.Primary.Render(p.profile) + label(" · p to change"))
	default:
		b.WriteString(s.st.Primary.Render("default") + label(": the account's; every profile for a pasted one · p"))
	}
	b.WriteString("\n\n")
	b.WriteString(s.table.View())
	return b.String()
}

// preview shows the start and the end of a token in width columns.
func preview(token string, width int) string {
	n := len(token)
	suffix := fmt.Sprintf(" (%d chars)", n)
	room := max(12, width-len(suffix))
	if n <= room {
		return token + suffix
	}
	half := (room - 1) / 2
	return ansi.Truncate(token, half, "") + "…" + token[n-half:] + suffix
}

// Clean makes a pasted token what the validator takes: without the
// "Authorization:" and "Bearer" prefixes a header line or a curl command
// has, and without the spaces and line breaks a terminal adds when it
// wraps a long line.
func Clean(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 14 && strings.EqualFold(s[:14], "authorization:") {
		s = strings.TrimSpace(s[14:])
	}
	if len(s) > 6 && strings.EqualFold(s[:6], "bearer") && unicode.IsSpace(rune(s[6])) {
		s = s[6:]
	}
	return strings.Join(strings.Fields(s), "")
}
