package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
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
