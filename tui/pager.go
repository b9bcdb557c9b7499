package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// PagerKeys are the keys of a Pager: arrows or j/k, pgup/pgdown (or
// space), home/end. Left and right are left to the screen.
var PagerKeys = struct{ Up, Down, PageUp, PageDown, Top, Bottom key.Binding }{
	Up:       Keys("↑/k", "scroll up", "up", "k"),
	Down:     Keys("↓/j", "scroll down", "down", "j"),
	PageUp:   Keys("pgup", "page up", "pgup", "ctrl+u", "b"),
	PageDown: Keys("pgdn", "page down", "pgdown", "ctrl+d", "space"),
	Top:      Keys("home", "top", "home", "g"),
	Bottom:   Keys("end", "bottom", "end", "G"),
}

// Pager shows text longer than the screen: a viewport that scrolls by
// lines and pages, with a footer row that says where it is. Screens render
// their text for the width (SetSize tells it) and hand it over with
// SetContent; the Pager never wraps.
type Pager struct {
	styles Styles
	vp     viewport.Model
	width  int
	height int
}

// NewPager returns an empty pager.
func NewPager(st Styles) Pager {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{} // the Pager's own keys, below
	vp.MouseWheelEnabled = false
	return Pager{styles: st, vp: vp}
}

// SetSize sets the space the pager renders into, its footer row included.
func (p *Pager) SetSize(width, height int) {
	p.width, p.height = width, height
	p.vp.SetWidth(max(1, width))
	p.vp.SetHeight(max(1, height-1))
}

// SetContent replaces the text, keeping the scroll position where it can.
func (p *Pager) SetContent(s string) {
	off := p.vp.YOffset()
	p.vp.SetContent(s)
	p.vp.SetYOffset(off)
}

// GotoTop scrolls to the first line.
func (p *Pager) GotoTop() { p.vp.GotoTop() }

// Scrollable reports whether the text is longer than the pager.
func (p Pager) Scrollable() bool { return p.vp.TotalLineCount() > p.vp.Height() }

// Update scrolls on the pager's keys; it reports whether it used the key.
func (p *Pager) Update(msg tea.Msg) bool {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return false
	}
	switch {
	case key.Matches(k, PagerKeys.Up):
		p.vp.ScrollUp(1)
	case key.Matches(k, PagerKeys.Down):
		p.vp.ScrollDown(1)
	case key.Matches(k, PagerKeys.PageUp):
		p.vp.PageUp()
	case key.Matches(k, PagerKeys.PageDown):
		p.vp.PageDown()
	case key.Matches(k, PagerKeys.Top):
		p.vp.GotoTop()
	case key.Matches(k, PagerKeys.Bottom):
		p.vp.GotoBottom()
	default:
		return false
	}
	return true
}

// Bindings are the keys for the help line: none when everything shows.
func (p Pager) Bindings() []key.Binding {
	if !p.Scrollable() {
		return nil
	}
	return []key.Binding{PagerKeys.Down, PagerKeys.PageDown}
}

// FullBindings are every key of the pager, for the full help.
func (p Pager) FullBindings() []key.Binding {
	return []key.Binding{PagerKeys.Up, PagerKeys.Down, PagerKeys.PageUp, PagerKeys.PageDown, PagerKeys.Top, PagerKeys.Bottom}
}

// View renders the lines in view and the footer: which lines show, and
// whether there is more below.
func (p Pager) View() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	body := p.vp.View()
	// The viewport pads to its height; keep the frame free of trailing
	// blanks beyond the width.
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > p.width {
			lines[i] = ansi.Truncate(l, p.width, "")
		}
	}
	footer := ""
	if total := p.vp.TotalLineCount(); total > p.vp.Height() {
		first := p.vp.YOffset() + 1
		last := min(total, p.vp.YOffset()+p.vp.Height())
		more := "end"
		if last < total {
			more = "↓ more"
		}
		footer = fmt.Sprintf("lines %d–%d of %d · %s", first, last, total, more)
	}
	return strings.Join(lines, "\n") + "\n" + p.styles.Muted.Render(fit(footer, p.width))
}
