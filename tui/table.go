package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column is a table column: a title and a width. Width is the least
// width; columns with Flex share what is left over in proportion.
type Column struct {
	Title string
	Width int
	Flex  int
}

// Row is a table row. Key identifies it across reloads, so that the
// cursor stays on the same thing. Cells are plain text.
type Row struct {
	Key   string
	Cells []string
	Tone  Tone   // of the whole row
	Tones []Tone // of single cells, overriding Tone where not ToneNormal
}

// TableKeys are the keys of a table.
type TableKeys struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Filter, ClearFilter, ApplyFilter        key.Binding
}

// DefaultTableKeys returns the table keys: arrows or j/k, pgup/pgdown,
// home/end, and / to filter.
func DefaultTableKeys() TableKeys {
	return TableKeys{
		Up:          Keys("↑/k", "up", "up", "k"),
		Down:        Keys("↓/j", "down", "down", "j"),
		PageUp:      Keys("pgup", "page up", "pgup", "ctrl+u"),
		PageDown:    Keys("pgdn", "page down", "pgdown", "ctrl+d"),
		Top:         Keys("home", "first", "home"),
		Bottom:      Keys("end", "last", "end"),
		Filter:      Keys("/", "filter", "/"),
		ClearFilter: Keys("esc", "clear filter", "esc"),
		ApplyFilter: Keys("enter", "apply filter", "enter"),
	}
}

// Table is a scrolling table with a cursor and a `/` filter that matches
// any cell, case-insensitively. It renders only the rows it shows, so that
// thousands of rows cost nothing per frame.
type Table struct {
	styles Styles
	keys   TableKeys
	cols   []Column
	rows   []Row
	hay    []string // lower-cased cells of each row, for the filter
	shown  []int    // indexes of rows that pass the filter
	cursor int      // index into shown
	offset int      // first shown row on screen
	width  int
	height int
	empty  string

	filter    textinput.Model
	filtering bool
}

// NewTable returns an empty table.
func NewTable(st Styles, cols ...Column) Table {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "type to filter"
	return Table{styles: st, keys: DefaultTableKeys(), cols: cols, filter: ti, empty: "Nothing here yet."}
}

// SetEmpty sets what the table says when it has no rows.
func (t *Table) SetEmpty(text string) { t.empty = text }

// SetRows replaces the rows, keeping the cursor on the row with the same
// key where there is one.
func (t *Table) SetRows(rows []Row) {
	sel, hadSel := t.Selected()
	t.rows = escapeRows(rows)
	t.hay = make([]string, len(rows))
	for i, r := range rows {
		t.hay[i] = strings.ToLower(strings.Join(r.Cells, "\x00"))
	}
	t.refilter()
	if hadSel {
		t.SelectKey(sel.Key)
	}
}

// escapeRows returns rows with every cell escaped (Escape), copying only
// the rows that need it: cells come from tokens, callers and providers.
func escapeRows(rows []Row) []Row {
	out, copied := rows, false
	for i, r := range rows {
		var cells []string
		for j, c := range r.Cells {
			if e := Escape(c); e != c {
				if cells == nil {
					cells = slices.Clone(r.Cells)
				}
				cells[j] = e
			}
		}
		if cells != nil {
			if !copied {
				out, copied = slices.Clone(rows), true
			}
			out[i].Cells = cells
		}
	}
	return out
}

// SelectKey moves the cursor to the row with this key, if shown.
func (t *Table) SelectKey(k string) bool {
	for i, ri := range t.shown {
		if t.rows[ri].Key == k {
			t.cursor = i
			t.clamp()
			return true
		}
	}
	return false
}

// Len is the number of rows, and Shown the number that pass the filter.
func (t Table) Len() int   { return len(t.rows) }
func (t Table) Shown() int { return len(t.shown) }

// Selected returns the row under the cursor.
func (t Table) Selected() (Row, bool) {
	if t.cursor < 0 || t.cursor >= len(t.shown) {
		return Row{}, false
	}
	return t.rows[t.shown[t.cursor]], true
}

// Filtering reports whether the filter is being typed: the table then
// takes every key.
func (t Table) Filtering() bool { return t.filtering }

// FilterText is the filter in force.
func (t Table) FilterText() string { return t.filter.Value() }

// SetSize sets the space the table renders into, footer included.
func (t *Table) SetSize(width, height int) {
	t.width, t.height = width, height
	t.filter.SetWidth(max(10, width-20))
	t.clamp()
}

// bodyRows is how many rows fit between the header and the footer.
func (t Table) bodyRows() int { return max(1, t.height-2) }

func (t *Table) refilter() {
	q := strings.ToLower(strings.TrimSpace(t.filter.Value()))
	t.shown = t.shown[:0]
	for i := range t.rows {
		if q == "" || strings.Contains(t.hay[i], q) {
			t.shown = append(t.shown, i)
		}
	}
	t.clamp()
}

func (t *Table) clamp() {
	n := len(t.shown)
	t.cursor = max(0, min(t.cursor, n-1))
	body := t.bodyRows()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+body {
		t.offset = t.cursor - body + 1
	}
	t.offset = max(0, min(t.offset, n-body))
}

// Update handles the table's keys. It reports whether it used the message.
func (t *Table) Update(msg tea.Msg) (bool, tea.Cmd) {
	if t.filtering {
		if k, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(k, t.keys.ApplyFilter):
				t.filtering = false
				t.filter.Blur()
				return true, nil
			case key.Matches(k, t.keys.ClearFilter):
				t.filtering = false
				t.filter.Blur()
				t.filter.SetValue("")
				t.refilter()
				return true, nil
			case key.Matches(k, t.keys.Up, t.keys.Down) && k.Text == "":
				t.move(k)
				return true, nil
			}
		}
		var cmd tea.Cmd
		before := t.filter.Value()
		t.filter, cmd = t.filter.Update(msg)
		if t.filter.Value() != before {
			t.cursor = 0
			t.refilter()
		}
		return true, cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return false, nil
	}
	switch {
	case key.Matches(k, t.keys.Filter):
		t.filtering = true
		return true, t.filter.Focus()
	case key.Matches(k, t.keys.ClearFilter) && t.filter.Value() != "":
		t.filter.SetValue("")
		t.refilter()
		return true, nil
	}
	return t.move(k), nil
}

func (t *Table) move(k tea.KeyPressMsg) bool {
	switch {
	case key.Matches(k, t.keys.Up):
		t.cursor--
	case key.Matches(k, t.keys.Down):
		t.cursor++
	case key.Matches(k, t.keys.PageUp):
		t.cursor -= t.bodyRows()
	case key.Matches(k, t.keys.PageDown):
		t.cursor += t.bodyRows()
	case key.Matches(k, t.keys.Top):
		t.cursor = 0
	case key.Matches(k, t.keys.Bottom):
		t.cursor = len(t.shown) - 1
	default:
		return false
	}
	t.clamp()
	return true
}

// Bindings are the table's keys for the help line; the arrows go
// without saying there, and are in FullBindings.
func (t Table) Bindings() []key.Binding {
	if t.filtering {
		return []key.Binding{t.keys.ApplyFilter, t.keys.ClearFilter}
	}
	if len(t.rows) == 0 {
		return nil
	}
	b := []key.Binding{t.keys.Filter}
	if t.filter.Value() != "" {
		b = append(b, t.keys.ClearFilter)
	}
	return b
}

// FullBindings are every key of the table, for the full help.
func (t Table) FullBindings() []key.Binding {
	return []key.Binding{t.keys.Up, t.keys.Down, t.keys.PageUp, t.keys.PageDown, t.keys.Top, t.keys.Bottom, t.keys.Filter, t.keys.ClearFilter}
}

// widths spreads the width over the columns.
func (t Table) widths() []int {
	w := make([]int, len(t.cols))
	used, flex := len(t.cols), 0 // the cursor mark and the gaps between columns
	for i, c := range t.cols {
		w[i] = c.Width
		used += c.Width
		flex += c.Flex
	}
	left := t.width - used
	if left > 0 && flex > 0 {
		for i, c := range t.cols {
			if c.Flex > 0 {
				add := left * c.Flex / flex
				w[i] += add
			}
		}
	}
	return w
}

// View renders the header, the rows in view and a footer with the
// position and the filter.
func (t Table) View() string {
	if t.width <= 0 || t.height <= 0 {
		return ""
	}
	widths := t.widths()
	var b strings.Builder
	header := make([]string, len(t.cols))
	for i, c := range t.cols {
		header[i] = c.Title
	}
	b.WriteString(t.styles.Header.Render(fit(" "+joinCells(header, widths), t.width)))
	body := t.bodyRows()
	lines := 0
	if len(t.shown) == 0 {
		b.WriteString("\n")
		msg := t.empty
		if len(t.rows) > 0 {
			msg = fmt.Sprintf("No row matches %q.", t.filter.Value())
		}
		b.WriteString(t.styles.Muted.Render(fit(" "+msg, t.width)))
		lines++
	}
	for i := t.offset; i < len(t.shown) && i < t.offset+body; i++ {
		r := t.rows[t.shown[i]]
		b.WriteString("\n")
		if i == t.cursor {
			b.WriteString(t.styles.Selected.Render(padTo(fit("▸"+joinCells(r.Cells, widths), t.width), t.width)))
		} else {
			b.WriteString(" " + t.styledCells(r, widths))
		}
		lines++
	}
	for ; lines < body; lines++ {
		b.WriteString("\n")
	}
	b.WriteString("\n")
	b.WriteString(t.footer())
	return b.String()
}

func (t Table) footer() string {
	pos := ""
	if len(t.shown) > 0 {
		pos = fmt.Sprintf("%d/%d", t.cursor+1, len(t.shown))
	}
	if len(t.shown) != len(t.rows) {
		pos += fmt.Sprintf(" (of %d)", len(t.rows))
	}
	switch {
	case t.filtering:
		return fit(t.filter.View()+"  "+t.styles.Muted.Render(pos), t.width)
	case t.filter.Value() != "":
		return fit(t.styles.Muted.Render("filter: ")+t.filter.Value()+"  "+t.styles.Muted.Render(pos), t.width)
	}
	return t.styles.Muted.Render(fit(pos, t.width))
}

func (t Table) styledCells(r Row, widths []int) string {
	parts := make([]string, len(widths))
	for i := range widths {
		c := ""
		if i < len(r.Cells) {
			c = r.Cells[i]
		}
		tone := r.Tone
		if i < len(r.Tones) && r.Tones[i] != ToneNormal {
			tone = r.Tones[i]
		}
		cell := padTo(truncate(c, widths[i]), widths[i])
		if tone != ToneNormal {
			cell = t.styles.Tone(tone).Render(cell)
		}
		parts[i] = cell
	}
	return strings.Join(parts, " ")
}

func joinCells(cells []string, widths []int) string {
	parts := make([]string, len(widths))
	for i, w := range widths {
		c := ""
		if i < len(cells) {
			c = cells[i]
		}
		parts[i] = padTo(truncate(c, w), w)
	}
	return strings.Join(parts, " ")
}

// truncate cuts s to width columns, marking the cut with "…".
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// padTo fills s with spaces to width columns.
func padTo(s string, width int) string {
	if n := width - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}
