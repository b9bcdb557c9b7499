package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Page is a screen that shows a text in a Pager: the whole of what a list
// row or its detail pane had to cut, such as a long error. render makes
// the text for a width, and is called again when the size changes.
type Page struct {
	id     ID
	title  string
	render func(width int) string
	pager  Pager
}

// NewPage returns a page titled title that shows what render makes.
func NewPage(st Styles, title string, render func(width int) string) *Page {
	return &Page{id: NewID(), title: title, render: render, pager: NewPager(st)}
}

// OpenKey is enter on a list row that opens its Page.
var OpenKey = Keys("enter", "details", "enter")

func (p *Page) ID() ID        { return p.id }
func (p *Page) Title() string { return p.title }
func (p *Page) Init() tea.Cmd { return nil }
func (p *Page) View() string  { return p.pager.View() }

func (p *Page) SetSize(w, h int) {
	p.pager.SetSize(w, h)
	p.pager.SetContent(p.render(w))
}

func (p *Page) KeyMap() help.KeyMap {
	return KeyMap{Short: p.pager.Bindings(), Full: [][]key.Binding{p.pager.FullBindings()}}
}

func (p *Page) Update(msg tea.Msg) (Screen, tea.Cmd) {
	p.pager.Update(msg)
	return p, nil
}

// DetailsAction is enter on a list row: it opens a Page, titled by title,
// with render(v, width, true): the whole of what the row's columns and
// its detail pane cut, wrapped to the width (Fit). A list's Detail renders
// the same lines with wrap false.
func DetailsAction[V any](st Styles, title func(V) string, render func(v V, width int, wrap bool) string) Action[V] {
	return Action[V]{Key: OpenKey, OnItem: true, FullHelp: true, Do: func(v V) tea.Cmd {
		return Push(NewPage(st, title(v), func(width int) string { return render(v, width, true) }))
	}}
}

// Fit fits lines of a detail pane to width. Without wrap each is cut with
// "…", as the pane under a list has a fixed number of rows; with wrap
// (a Page, which scrolls) each wraps, continued under its value: after
// the leading label when the line has one ("call     /ws/…": a word or
// two and two spaces or more).
func Fit(lines []string, width int, wrap bool) string {
	width = max(1, width)
	var out []string
	for _, l := range lines {
		if !wrap {
			out = append(out, Truncate(l, width))
			continue
		}
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		indent := labelWidth(ansi.Strip(l))
		if width-indent < 16 {
			indent = 0
		}
		pad := strings.Repeat(" ", indent)
		// The label stays on the first line; the rest wraps in the room
		// after it.
		head, rest := ansi.Cut(l, 0, indent), ansi.TruncateLeft(l, indent, "")
		for i, w := range Wrap(rest, width-indent) {
			if i == 0 {
				out = append(out, head+w)
			} else {
				out = append(out, pad+w)
			}
		}
	}
	return strings.Join(out, "\n")
}

// labelWidth is the width of a leading label: a word or two ("hands
// out") and the two or more spaces after them; 0 when the line has none.
func labelWidth(plain string) int {
	n := strings.Index(plain, "  ")
	if n <= 0 || n > 16 {
		return 0
	}
	for n < len(plain) && plain[n] == ' ' {
		n++
	}
	return ansi.StringWidth(plain[:n])
}
