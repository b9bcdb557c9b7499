package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/aymanbagabas/go-osc52/v2"
	"github.com/charmbracelet/x/ansi"
)

// Options configure the shell.
type Options struct {
	// Name is shown at the left of the tab bar; "" means "oidcctl".
	Name string
	// Getenv reads the environment (NO_COLOR, TMUX); nil means none set.
	Getenv func(string) string
	// Styles overrides the styles built from Getenv.
	Styles *Styles
	// ToastFor is how long a toast stays; 0 means 4 s.
	ToastFor time.Duration
}

// Model is the root model: one navigation stack per top-level tab.
type Model struct {
	name     string
	getenv   func(string) string
	styles   Styles
	keys     GlobalKeys
	help     help.Model
	toastFor time.Duration

	stacks  [][]Screen
	started map[ID]bool
	active  int

	width, height int
	showHelp      bool

	// jump is the ":name" prompt in the status line, while jumping.
	jump    textinput.Model
	jumping bool

	status    string
	statusErr bool
	statusSeq int
}

// maxStatusRows bounds the status line, so that a long error cannot push
// the screen away.
const maxStatusRows = 3

// New returns the shell with one tab per screen, the first one active.
func New(opts Options, tabs ...Screen) *Model {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	st := StylesFromEnv(opts.Getenv)
	if opts.Styles != nil {
		st = *opts.Styles
	}
	if opts.Name == "" {
		opts.Name = "oidcctl"
	}
	if opts.ToastFor <= 0 {
		opts.ToastFor = 4 * time.Second
	}
	h := help.New()
	h.Styles = st.Help
	jump := textinput.New()
	jump.Prompt = ":"
	jump.Placeholder = "tab name (enter goes, esc cancels)"
	m := &Model{
		name: opts.Name, getenv: opts.Getenv, styles: st, keys: DefaultGlobalKeys(),
		help: h, toastFor: opts.ToastFor, started: map[ID]bool{}, jump: jump,
	}
	for _, s := range tabs {
		m.stacks = append(m.stacks, []Screen{s})
	}
	return m
}

// Styles returns the shell's styles, for building screens that match.
func (m *Model) Styles() Styles { return m.styles }

// Init starts the first tab's screen.
func (m *Model) Init() tea.Cmd {
	if len(m.stacks) == 0 {
		return nil
	}
	return m.activate(m.current())
}

// current is the active screen: the top of the active tab's stack.
func (m *Model) current() Screen {
	if len(m.stacks) == 0 {
		return nil
	}
	st := m.stacks[m.active]
	return st[len(st)-1]
}

// activate inits a screen the first time it is shown and tells it that it
// is active again afterwards.
func (m *Model) activate(s Screen) tea.Cmd {
	s.SetSize(m.contentSize())
	if !m.started[s.ID()] {
		m.started[s.ID()] = true
		return s.Init()
	}
	return m.update(s, ActivatedMsg{})
}

// update hands msg to s and puts what Update returns in s's place. A
// panicking screen shows an error instead of taking the console down.
func (m *Model) update(s Screen, msg tea.Msg) (cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			cmd = ShowError(fmt.Errorf("internal error in %s: %v", s.Title(), r))
		}
	}()
	next, cmd := s.Update(msg)
	if next != s && next != nil && m.replace(s, next) {
		delete(m.started, s.ID())
		closeScreen(s)
		if next == m.current() {
			return tea.Batch(cmd, m.activate(next))
		}
		next.SetSize(m.contentSize())
	}
	return cmd
}

// replace puts next where old is; a screen may hand over to another (a
// chooser to the form it chose) by returning it from Update.
func (m *Model) replace(old, next Screen) bool {
	for _, st := range m.stacks {
		for i := range st {
			if st[i] == old {
				st[i] = next
				return true
			}
		}
	}
	return false
}

func closeScreen(s Screen) {
	if c, ok := s.(Closer); ok {
		c.Close()
	}
}

// Close closes every screen; Run calls it when the console ends.
func (m *Model) Close() {
	for _, st := range m.stacks {
		for _, s := range st {
			closeScreen(s)
		}
	}
}

// find returns the live screen with this ID.
func (m *Model) find(id ID) Screen {
	for _, st := range m.stacks {
		for _, s := range st {
			if s.ID() == id {
				return s
			}
		}
	}
	return nil
}

// Update routes messages: keys to the active screen after the global keys,
// addressed results to their screen, the rest to the active screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.resize()
		if s := m.current(); s != nil && m.started[s.ID()] {
			return m, m.update(s, ResizedMsg{})
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if m.jumping {
			// A tab's name pasted after ":" goes to the prompt.
			var cmd tea.Cmd
			m.jump, cmd = m.jump.Update(msg)
			return m, cmd
		}
	case PushMsg:
		return m, m.push(msg.Screen)
	case PopMsg:
		return m, m.pop()
	case SwitchTabMsg:
		for i, st := range m.stacks {
			if st[0].Title() == msg.Title {
				return m, m.switchTab(i)
			}
		}
		return m, nil
	case ErrorMsg:
		m.setStatus(msg.Err.Error(), true)
		return m, nil
	case ToastMsg:
		m.setStatus(msg.Text, false)
		seq := m.statusSeq
		return m, tea.Tick(m.toastFor, func(time.Time) tea.Msg { return clearToastMsg{seq} })
	case clearToastMsg:
		if msg.seq == m.statusSeq && !m.statusErr {
			m.setStatus("", false)
		}
		return m, nil
	case CopyMsg:
		return m, tea.Raw(m.osc52(msg.Text))
	case Addressed:
		if s := m.find(msg.Recipient()); s != nil {
			return m, m.update(s, msg)
		}
		return m, nil // the screen was left: drop the stale result
	}
	if s := m.current(); s != nil {
		return m, m.update(s, msg)
	}
	return m, nil
}

type clearToastMsg struct{ seq int }

func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	s := m.current()
	if key.Matches(k, m.keys.ForceQuit) {
		// A form with unsaved changes asks first.
		if g, ok := s.(Guard); ok && !m.showHelp && !m.jumping && g.Guards() {
			return m.update(s, k)
		}
		return tea.Quit
	}
	if m.statusErr {
		m.setStatus("", false)
	}
	if s == nil {
		return tea.Quit
	}
	if m.jumping {
		return m.handleJump(k)
	}
	if m.showHelp {
		switch {
		case key.Matches(k, m.keys.Quit):
			return tea.Quit
		case key.Matches(k, m.keys.Help, m.keys.Back):
			m.showHelp = false
		}
		return nil
	}
	if c, ok := s.(Capturer); ok && c.Capturing() {
		return m.update(s, k)
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		return tea.Quit
	case key.Matches(k, m.keys.Help):
		m.showHelp = true
		return nil
	case key.Matches(k, m.keys.Jump) && len(m.stacks) > 1:
		m.setStatus("", false)
		m.jumping = true
		m.jump.SetValue("")
		m.jump.SetWidth(max(10, m.width-2))
		return m.jump.Focus()
	case key.Matches(k, m.keys.Back) && len(m.stacks[m.active]) > 1:
		return m.pop()
	case key.Matches(k, m.keys.NextTab) && len(m.stacks) > 1:
		return m.switchTab((m.active + 1) % len(m.stacks))
	case key.Matches(k, m.keys.PrevTab) && len(m.stacks) > 1:
		return m.switchTab((m.active + len(m.stacks) - 1) % len(m.stacks))
	case key.Matches(k, m.keys.Tab):
		if i := int(k.Code - '1'); i >= 0 && i < len(m.stacks) {
			return m.switchTab(i)
		}
		return nil
	}
	return m.update(s, k)
}

// jumpKeys are the keys of the ":name" prompt.
var jumpKeys = struct{ Go, Cancel key.Binding }{
	Go:     Keys("enter", "go", "enter"),
	Cancel: Keys("esc", "cancel", "esc"),
}

// handleJump takes a key while ":name" is typed: enter goes to the tab
// so named (or so begun), esc cancels.
func (m *Model) handleJump(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, jumpKeys.Cancel):
		m.jumping = false
		m.jump.Blur()
		return nil
	case key.Matches(k, jumpKeys.Go):
		m.jumping = false
		m.jump.Blur()
		name := strings.ToLower(strings.TrimSpace(m.jump.Value()))
		switch name {
		case "":
			return nil
		case "q", "quit":
			return tea.Quit
		}
		if i, ok := m.tabNamed(name); ok {
			return m.switchTab(i)
		}
		m.setStatus(fmt.Sprintf("no tab is called %q: %s", name, m.tabNames()), true)
		return nil
	}
	var cmd tea.Cmd
	m.jump, cmd = m.jump.Update(k)
	return cmd
}

// tabNamed finds the tab that name names: its title or its short title,
// whole or begun, in any case, or its number.
func (m *Model) tabNamed(name string) (int, bool) {
	for i := range m.stacks {
		if name == fmt.Sprint(i+1) {
			return i, true
		}
	}
	for _, whole := range []bool{true, false} {
		for i, st := range m.stacks {
			for _, n := range []string{st[0].Title(), shortTitle(st[0])} {
				n = strings.ToLower(n)
				if n == name || !whole && strings.HasPrefix(n, name) {
					return i, true
				}
			}
		}
	}
	return 0, false
}

// tabNames lists the tabs' names for ":name", lower case.
func (m *Model) tabNames() string {
	names := make([]string, len(m.stacks))
	for i, st := range m.stacks {
		names[i] = ":" + strings.ToLower(st[0].Title())
	}
	return strings.Join(names, " ")
}

// shortTitle is the abbreviation of a tab's title for the tab bar.
func shortTitle(s Screen) string {
	if sh, ok := s.(Shorter); ok && sh.ShortTitle() != "" {
		return sh.ShortTitle()
	}
	t := s.Title()
	if r := []rune(t); len(r) > 5 {
		return string(r[:4])
	}
	return t
}

func (m *Model) switchTab(i int) tea.Cmd {
	if i == m.active {
		return nil
	}
	left := m.update(m.current(), DeactivatedMsg{})
	m.active = i
	if !m.statusErr && m.status != "" {
		m.setStatus("", false) // a toast is about the tab left behind
	}
	return tea.Batch(left, m.activate(m.current()))
}

func (m *Model) push(s Screen) tea.Cmd {
	if s == nil || len(m.stacks) == 0 {
		return nil
	}
	left := m.update(m.current(), DeactivatedMsg{})
	m.stacks[m.active] = append(m.stacks[m.active], s)
	return tea.Batch(left, m.activate(s))
}

func (m *Model) pop() tea.Cmd {
	st := m.stacks[m.active]
	if len(st) <= 1 {
		return nil
	}
	gone := st[len(st)-1]
	delete(m.started, gone.ID())
	closeScreen(gone)
	st[len(st)-1] = nil
	m.stacks[m.active] = st[:len(st)-1]
	return m.activate(m.current())
}

func (m *Model) setStatus(text string, isErr bool) {
	old := m.statusRows()
	m.status, m.statusErr = text, isErr
	m.statusSeq++
	if m.statusRows() != old {
		m.resize()
	}
}

// statusText is the status line as shown, before wrapping.
func (m *Model) statusText() string {
	switch {
	case m.status == "":
		return ""
	case m.statusErr:
		return "✗ " + m.status
	}
	return "✓ " + m.status
}

func (m *Model) statusRows() int {
	t := m.statusText()
	if t == "" || m.width <= 0 {
		return 1
	}
	return min(maxStatusRows, len(Wrap(t, m.width)))
}

// contentSize is the space screens get: all but the tab bar, the title,
// the status and the help line.
func (m *Model) contentSize() (int, int) {
	return m.width, max(0, m.height-3-m.statusRows())
}

func (m *Model) resize() {
	w, h := m.contentSize()
	for _, st := range m.stacks {
		for _, s := range st {
			s.SetSize(w, h)
		}
	}
}

// osc52 is the escape sequence that copies text, also through tmux and
// screen where they pass it on.
func (m *Model) osc52(text string) string {
	seq := osc52.New(text).String()
	switch {
	case m.getenv("TMUX") != "":
		seq += osc52.New(text).Tmux().String()
	case strings.HasPrefix(m.getenv("TERM"), "screen") && m.getenv("STY") != "":
		seq += osc52.New(text).Screen().String()
	}
	return seq
}

// View renders the shell around the active screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = m.name
	return v
}

// MinWidth and MinHeight are the smallest terminal the console draws
// in; below it says so rather than cut columns.
const MinWidth, MinHeight = 80, 24

func (m *Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	s := m.current()
	if s == nil {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("terminal too small (need %d×%d)\nthis one is %d×%d\nq quits", MinWidth, MinHeight, m.width, m.height)
		return block(m.styles.Warning.Render(msg), m.width, m.height)
	}
	w, h := m.contentSize()
	var b strings.Builder
	b.WriteString(fit(m.tabBar(), w))
	b.WriteByte('\n')
	b.WriteString(fit(m.styles.Title.Render(m.breadcrumb()), w))
	b.WriteByte('\n')
	body := s.View()
	if m.showHelp {
		body = m.fullHelp(s)
	}
	b.WriteString(block(body, w, h))
	for _, line := range m.statusLines() {
		b.WriteByte('\n')
		b.WriteString(line)
	}
	b.WriteByte('\n')
	b.WriteString(m.helpLine(s))
	return b.String()
}

// helpLine is the global keys first, which always show (/ filter, ? help,
// q quit), then the screen's own keys, cut short with "…" when they do not
// fit: all of them are in the full help (?).
func (m *Model) helpLine(s Screen) string {
	st := m.styles.Help
	sep := st.ShortSeparator.Render(m.help.ShortSeparator)
	item := func(b key.Binding) string {
		return st.ShortKey.Render(b.Help().Key) + " " + st.ShortDesc.Render(b.Help().Desc)
	}
	if m.jumping {
		return fit(item(jumpKeys.Go)+sep+item(jumpKeys.Cancel), m.width)
	}
	// The filter goes with the global keys, which always show (but for a
	// screen that takes every key, such as a form).
	c, capturing := s.(Capturer)
	capturing = capturing && c.Capturing()
	var bindings, pinned []key.Binding
	for _, b := range s.KeyMap().ShortHelp() {
		if !capturing && b.Enabled() && b.Help().Key == "/" {
			pinned = append(pinned, b)
		} else {
			bindings = append(bindings, b)
		}
	}
	var global []string
	for _, b := range append(pinned, m.globalHelp(s)...) {
		global = append(global, item(b))
	}
	line := strings.Join(global, sep)
	used := lipgloss.Width(line)
	for i, b := range bindings {
		if !b.Enabled() {
			continue
		}
		it := item(b)
		w := lipgloss.Width(it)
		if used > 0 {
			w += lipgloss.Width(sep)
		}
		// Keep room for the ellipsis and its separator unless this is
		// the last one.
		need := w
		if i < len(bindings)-1 {
			need += lipgloss.Width(sep) + 1
		}
		if used+need > m.width {
			if used > 0 {
				line += sep
			}
			line += st.Ellipsis.Render("…")
			break
		}
		if used > 0 {
			line += sep
		}
		line += it
		used += w
	}
	return fit(line, m.width)
}

func (m *Model) statusLines() []string {
	if m.jumping {
		return []string{fit(m.jump.View(), m.width)}
	}
	t := m.statusText()
	if t == "" {
		return []string{""}
	}
	lines := Wrap(t, m.width)
	if len(lines) > maxStatusRows {
		lines = lines[:maxStatusRows]
		lines[maxStatusRows-1] = ansi.Truncate(lines[maxStatusRows-1], m.width-1, "") + "…"
	}
	style := m.styles.Success
	if m.statusErr {
		style = m.styles.Error
	}
	for i, l := range lines {
		lines[i] = style.Render(fit(l, m.width))
	}
	return lines
}

// tabBar names every tab: in full where they fit, else abbreviated (the
// active one in full where it fits), else by number only.
func (m *Model) tabBar() string {
	const (
		full = iota
		activeFull
		short
		numbers
	)
	render := func(mode int) string {
		parts := []string{m.styles.Primary.Render(m.name)}
		inactive := m.styles.TabInactive
		if mode != full {
			inactive = inactive.UnsetPadding()
		}
		for i, st := range m.stacks {
			title := st[0].Title()
			if mode == short || mode == numbers || mode == activeFull && i != m.active {
				title = shortTitle(st[0])
			}
			label := fmt.Sprintf("%d %s", i+1, title)
			if i == m.active {
				parts = append(parts, m.styles.TabActive.Render(label))
				continue
			}
			if mode == numbers {
				label = fmt.Sprint(i + 1)
			}
			parts = append(parts, inactive.Render(label))
		}
		return strings.Join(parts, " ")
	}
	bar := ""
	for mode := full; mode <= numbers; mode++ {
		bar = render(mode)
		if lipgloss.Width(bar) <= m.width {
			break
		}
	}
	return bar
}

func (m *Model) breadcrumb() string {
	st := m.stacks[m.active]
	names := make([]string, len(st))
	for i, s := range st {
		names[i] = s.Title()
	}
	return strings.Join(names, " › ")
}

// globalHelp is the global keys that apply now: none while the screen
// takes every key.
func (m *Model) globalHelp(s Screen) []key.Binding {
	if c, ok := s.(Capturer); ok && c.Capturing() {
		return nil
	}
	var b []key.Binding
	if len(m.stacks[m.active]) > 1 {
		b = append(b, m.keys.Back)
	}
	return append(b, m.keys.Help, m.keys.Quit)
}

func (m *Model) fullHelp(s Screen) string {
	groups := append([][]key.Binding(nil), s.KeyMap().FullHelp()...)
	groups = append(groups, []key.Binding{m.keys.Tab, m.keys.Jump, m.keys.NextTab, m.keys.PrevTab, m.keys.Back, m.keys.Help, m.keys.Quit, m.keys.ForceQuit})
	hm := m.help
	hm.ShowAll = true
	return m.styles.Bold.Render("Keys") + m.styles.Muted.Render("  (? or esc closes)") + "\n\n" + hm.View(KeyMap{Full: groups}) + "\n\n" + m.tabMap()
}

// tabMap lists the tabs by number and name, for the full help.
func (m *Model) tabMap() string {
	names := make([]string, len(m.stacks))
	for i, st := range m.stacks {
		names[i] = fmt.Sprintf("%d %s", i+1, st[0].Title())
	}
	text := strings.Join(names, " · ") + m.styles.Muted.Render("  (:name goes to a tab, as :"+strings.ToLower(m.stacks[len(m.stacks)-1][0].Title())+")")
	return m.styles.Bold.Render("Tabs") + "  " + lipgloss.Wrap(text, max(20, m.width-6), " ")
}

// fit cuts a line to width.
func fit(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "")
}

// block makes s exactly height lines of at most width columns.
func block(s string, width, height int) string {
	if height <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = fit(l, width)
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
