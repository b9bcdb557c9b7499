package profiles

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oidcctl/core"
	"oidcctl/tui"
)

// chooser asks what a new profile starts from: the defaults, or the
// settings of a profile at the same provider (never its name, client id or
// secrets).
type chooser struct {
	id       tui.ID
	st       tui.Styles
	reg      Registry
	table    tui.RowTable
	profiles map[string]core.Profile
	height   int
}

const blankKey = "\x00blank"

var chooseKey = tui.Keys("enter", "choose", "enter")

func newChooser(st tui.Styles, reg Registry, profiles []core.Profile) *chooser {
	t := tui.NewRowTable(st,
		tui.Column{Title: "START FROM", Width: 20, Flex: 1},
		tui.Column{Title: "DISCOVERY URL", Width: 20, Flex: 3},
	)
	rows := []tui.Row{{Key: blankKey, Cells: []string{"a blank profile", "the defaults"}, Tone: tui.TonePrimary}}
	byName := make(map[string]core.Profile, len(profiles))
	for _, p := range profiles {
		byName[p.Name] = p
		rows = append(rows, tui.Row{Key: p.Name, Cells: []string{"settings of " + p.Name, p.DiscoveryURL}})
	}
	t.SetItems(rows)
	return &chooser{id: tui.NewID(), st: st, reg: reg, table: t, profiles: byName}
}

func (c *chooser) ID() tui.ID       { return c.id }
func (c *chooser) Title() string    { return "Add profile" }
func (c *chooser) Init() tea.Cmd    { return nil }
func (c *chooser) Capturing() bool  { return c.table.Filtering() }
func (c *chooser) SetSize(w, h int) { c.height = h; c.table.SetSize(w, max(3, h-2)) }
func (c *chooser) KeyMap() help.KeyMap {
	if c.table.Filtering() {
		return tui.KeyMap{Short: c.table.Bindings()}
	}
	return tui.KeyMap{Short: append([]key.Binding{chooseKey}, c.table.Bindings()...)}
}

func (c *chooser) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	k, isKey := msg.(tea.KeyPressMsg)
	if isKey && !c.table.Filtering() && key.Matches(k, chooseKey) {
		r, ok := c.table.Selected()
		if !ok {
			return c, nil
		}
		var src *core.Profile
		if p, ok := c.profiles[r.Key]; ok {
			src = &p
		}
		return addForm(c.st, c.reg, newValues(src)), nil // the form takes the chooser's place
	}
	if isKey || c.table.Filtering() {
		_, cmd := c.table.Update(msg)
		return c, cmd
	}
	return c, nil
}

func (c *chooser) View() string {
	return c.st.Muted.Render("Settings of a profile at the same provider save typing; its name, client id\nand secrets are never copied.") + "\n" + c.table.View()
}
