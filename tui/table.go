package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column is a table column: a title and a width. Width is the least
// width; columns with Flex share what is left over in proportion.
type Column struct {
	Title string
	Width int
	Flex  int
}

// Row is what a table shows of one item. Key identifies it in a RowTable
// across reloads, so that the cursor stays on the same thing; a Table of
// other items keys them with its own function. Cells are plain text.
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
		Top:         Keys("g/home", "first", "g", "home"),
		Bottom:      Keys("G/end", "last", "G", "end"),
		Filter:      Keys("/", "filter", "/"),
		ClearFilter: Keys("esc", "clear filter", "esc"),
		ApplyFilter: Keys("enter", "apply filter", "enter"),
	}
}

// tableKeys are made once: every table shares them, and none changes them.
var tableKeys = DefaultTableKeys()

// RowRenderer makes the row that shows an item.
type RowRenderer[V any] func(V) Row

// Table is a scrolling table of items of type V, each identified by a key
// of type K, with a cursor and a `/` filter that matches any cell,
// case-insensitively. It renders only the rows around the cursor, so that
// a frame costs the same at 100 rows or 100,000; the filter renders every
// row once per change of the items.
type Table[K comparable, V any] struct {
	frame
	keys   TableKeys
	key    func(V) K
	render RowRenderer[V]
	items  []V
	hay    []string // lower-cased cells of each item, for the filter; nil until needed
	shown  []int    // indexes of items that pass the filter
	cursor int      // index into shown
	offset int      // first shown row on screen
	empty  string

	filter filterLine
}

// NewTable returns an empty table whose items are keyed by key and shown
// by render.
func NewTable[K comparable, V any](st Styles, key func(V) K, render RowRenderer[V], cols ...Column) Table[K, V] {
	return Table[K, V]{frame: frame{styles: st, cols: cols}, keys: tableKeys, key: key, render: render, filter: newFilterLine(), empty: "Nothing here yet."}
}

// RowTable is a table of ready-made rows, keyed by Row.Key.
type RowTable = Table[string, Row]

// NewRowTable returns an empty table of ready-made rows.
func NewRowTable(st Styles, cols ...Column) RowTable {
	return NewTable(st, func(r Row) string { return r.Key }, func(r Row) Row { return r }, cols...)
}

// SetEmpty sets what the table says when it has no rows.
func (t *Table[K, V]) SetEmpty(text string) { t.empty = text }

// SetItems replaces the items, in the order given, keeping the cursor on
// the item with the same key where there is one. Rows are rendered when
// shown, not here.
func (t *Table[K, V]) SetItems(items []V) {
	sel, hadSel := t.Selected()
	t.items = items
	t.hay = nil
	t.refilter()
	if hadSel {
		t.SelectKey(t.key(sel))
	}
}

// row renders an item with every cell escaped (Escape): cells come from
// tokens, callers and providers.
func (t Table[K, V]) row(v V) Row { return escapeRow(t.render(v)) }

// escapeRow returns r with every cell escaped (Escape), copying the cells
// only when one changes.
func escapeRow(r Row) Row {
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
		r.Cells = cells
	}
	return r
}

// ClearFilter drops the filter, showing every item.
func (t *Table[K, V]) ClearFilter() {
	t.filter.clear()
	t.refilter()
}

// SelectKey moves the cursor to the item with this key, if shown.
func (t *Table[K, V]) SelectKey(k K) bool {
	for i, ri := range t.shown {
		if t.key(t.items[ri]) == k {
			t.cursor = i
			t.clamp()
			return true
		}
	}
	return false
}

// Item returns the item with this key, shown or not.
func (t Table[K, V]) Item(k K) (V, bool) {
	for _, v := range t.items {
		if t.key(v) == k {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Len is the number of items, and Shown the number that pass the filter.
func (t Table[K, V]) Len() int   { return len(t.items) }
func (t Table[K, V]) Shown() int { return len(t.shown) }

// Selected returns the item under the cursor.
func (t Table[K, V]) Selected() (V, bool) {
	if t.cursor < 0 || t.cursor >= len(t.shown) {
		var zero V
		return zero, false
	}
	return t.items[t.shown[t.cursor]], true
}

// Filtering reports whether the filter is being typed: the table then
// takes every key.
func (t Table[K, V]) Filtering() bool { return t.filter.typing }

// FilterText is the filter in force.
func (t Table[K, V]) FilterText() string { return t.filter.value() }

// SetSize sets the space the table renders into, footer included.
func (t *Table[K, V]) SetSize(width, height int) {
	t.width, t.height = width, height
	t.filter.input.SetWidth(max(10, width-20))
	t.clamp()
}

func (t *Table[K, V]) refilter() {
	q := strings.ToLower(strings.TrimSpace(t.filter.value()))
	t.shown = t.shown[:0]
	if q != "" && t.hay == nil {
		t.hay = make([]string, len(t.items))
		for i, v := range t.items {
			t.hay[i] = strings.ToLower(strings.Join(t.render(v).Cells, "\x00"))
		}
	}
	for i := range t.items {
		if q == "" || strings.Contains(t.hay[i], q) {
			t.shown = append(t.shown, i)
		}
	}
	t.clamp()
}

func (t *Table[K, V]) clamp() {
	t.cursor, t.offset = scroll(t.cursor, t.offset, len(t.shown), t.bodyRows())
}

// scroll keeps a cursor within n rows and the view of body rows that
// starts at offset around it, moving the view no more than it must.
func scroll(cursor, offset, n, body int) (int, int) {
	cursor = max(0, min(cursor, n-1))
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+body {
		offset = cursor - body + 1
	}
	return cursor, max(0, min(offset, n-body))
}

// Update handles the table's keys. It reports whether it used the message.
func (t *Table[K, V]) Update(msg tea.Msg) (bool, tea.Cmd) {
	outcome, cmd := t.filter.update(t.keys, msg)
	switch outcome {
	case filterUsed:
		return true, cmd
	case filterTyped:
		t.cursor = 0
		t.refilter()
		return true, cmd
	case filterCleared:
		t.refilter()
		return true, cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return false, nil
	}
	return t.move(k), nil
}

func (t *Table[K, V]) move(k tea.KeyPressMsg) bool {
	c, ok := t.keys.step(k, t.cursor, t.bodyRows(), len(t.shown))
	if ok {
		t.cursor = c
		t.clamp()
	}
	return ok
}

// step is where a key takes a cursor over n rows, page rows a screen,
// before it is clamped; false when k does not move the cursor.
func (k TableKeys) step(msg tea.KeyPressMsg, cursor, page, n int) (int, bool) {
	switch {
	case key.Matches(msg, k.Up):
		return cursor - 1, true
	case key.Matches(msg, k.Down):
		return cursor + 1, true
	case key.Matches(msg, k.PageUp):
		return cursor - page, true
	case key.Matches(msg, k.PageDown):
		return cursor + page, true
	case key.Matches(msg, k.Top):
		return 0, true
	case key.Matches(msg, k.Bottom):
		return n - 1, true
	}
	return cursor, false
}

// Bindings are the table's keys for the help line; the arrows go
// without saying there, and are in FullBindings.
func (t Table[K, V]) Bindings() []key.Binding {
	return t.filter.bindings(t.keys, len(t.items) > 0)
}

// FullBindings are every key of the table, for the full help.
func (t Table[K, V]) FullBindings() []key.Binding { return t.keys.all() }

// View renders the header, the rows in view and a footer with the
// position and the filter.
func (t Table[K, V]) View() string {
	if t.width <= 0 || t.height <= 0 {
		return ""
	}
	var lines []string
	if len(t.shown) == 0 {
		msg := t.empty
		if len(t.items) > 0 {
			msg = fmt.Sprintf("No row matches %q.", t.filter.value())
		}
		lines = t.message(msg, t.styles.Muted)
	}
	widths := t.widths()
	for i := t.offset; i < len(t.shown) && i < t.offset+t.bodyRows(); i++ {
		lines = append(lines, t.line(t.row(t.items[t.shown[i]]), i == t.cursor, widths))
	}
	return t.draw(lines, t.footer())
}

func (t Table[K, V]) footer() string {
	pos := ""
	if len(t.shown) > 0 {
		pos = fmt.Sprintf("%d/%d", t.cursor+1, len(t.shown))
	}
	if len(t.shown) != len(t.items) {
		pos += fmt.Sprintf(" (of %d)", len(t.items))
	}
	return t.filterFooter(t.filter, pos)
}

// frame is what Table and PagedTable draw alike: the header, the lines of
// the body and the footer, in their styles, columns and size.
type frame struct {
	styles Styles
	cols   []Column
	width  int
	height int
}

// bodyRows is how many rows fit between the header and the footer.
func (f frame) bodyRows() int { return max(1, f.height-2) }

// widths spreads the width over the columns.
func (f frame) widths() []int {
	w := make([]int, len(f.cols))
	used, flex := len(f.cols), 0 // the cursor mark and the gaps between columns
	for i, c := range f.cols {
		w[i] = c.Width
		used += c.Width
		flex += c.Flex
	}
	left := f.width - used
	if left > 0 && flex > 0 {
		for i, c := range f.cols {
			if c.Flex > 0 {
				add := left * c.Flex / flex
				w[i] += add
			}
		}
	}
	return w
}

// draw renders the header, the body's lines (blank ones after them to
// the body's height) and the footer.
func (f frame) draw(lines []string, footer string) string {
	var b strings.Builder
	header := make([]string, len(f.cols))
	for i, c := range f.cols {
		header[i] = c.Title
	}
	b.WriteString(f.styles.Header.Render(fit(" "+joinCells(header, f.widths()), f.width)))
	body := f.bodyRows()
	for i := range body {
		b.WriteString("\n")
		if i < len(lines) {
			b.WriteString(lines[i])
		}
	}
	b.WriteString("\n")
	b.WriteString(footer)
	return b.String()
}

// message is a text in the body instead of rows, wrapped, not cut (a hint
// says what to do), over at most the body's rows.
func (f frame) message(text string, style lipgloss.Style) []string {
	var lines []string
	for _, l := range Wrap(text, max(1, f.width-1)) {
		if len(lines) >= f.bodyRows() {
			break
		}
		lines = append(lines, style.Render(" "+l))
	}
	return lines
}

// line renders a row of the body, escaped already; sel marks the cursor's.
func (f frame) line(r Row, sel bool, widths []int) string {
	if sel {
		return f.styles.Selected.Render(padTo(fit("▸"+joinCells(r.Cells, widths), f.width), f.width))
	}
	return " " + f.styledCells(r, widths)
}

// filterFooter is the footer: the filter being typed or in force, and
// pos, the position.
func (f frame) filterFooter(filter filterLine, pos string) string {
	switch {
	case filter.typing:
		return fit(filter.input.View()+"  "+f.styles.Muted.Render(pos), f.width)
	case filter.value() != "":
		return fit(f.styles.Muted.Render("filter: ")+filter.value()+"  "+f.styles.Muted.Render(pos), f.width)
	}
	return f.styles.Muted.Render(fit(pos, f.width))
}

func (f frame) styledCells(r Row, widths []int) string {
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
			cell = f.styles.Tone(tone).Render(cell)
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
