package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// RowPage is a window of the rows a paged table shows: rows
// From..From+len(Rows)-1 of the Total rows its filter selects. (Page is
// the screen that shows a text.)
type RowPage struct {
	From  int
	Rows  []Row
	Total int
}

// PageFetch reads up to n rows from row from (counted from 0) of those
// the filter selects, and how many the filter selects. The filter is as
// typed, trimmed; "" selects every row. It runs in a command, where I/O is
// allowed, never in Update; its context ends when a later fetch makes its
// result useless.
type PageFetch func(ctx context.Context, filter string, from, n int) (RowPage, error)

// unsizedBody is the body height a window is read for before the table
// knows its size: a tall terminal's.
const unsizedBody = 50

// PagedTable is a table like Table whose rows are read a window at a time:
// it holds the rows in view and one body height above and below them, and
// when the cursor or the view leaves what it holds it reads the window
// around it, so that neither a frame nor the memory grows with the rows
// (100,000 accounts). The keys move over every row the filter selects,
// read or not; a row not read yet shows as "…" until it comes in. The `/`
// filter is the fetch's: each change reads the first window of the new
// filter.
//
// Its reads come back as Loaded[RowPage] addressed to the screen whose
// ID it was made with; the screen hands them to Update. Only the last
// read's result is taken. A screen has one PagedTable.
type PagedTable struct {
	frame
	id    ID
	keys  TableKeys
	fetch PageFetch
	empty string

	// The rows held: rows[i] is row from+i of the total that query
	// selects. counted says total is query's (a read of it came in).
	query   string
	rows    []Row
	from    int
	total   int
	counted bool

	cursor int // index of the row under the cursor, of total
	offset int // first row on screen

	loads     Loads
	loading   pageRequest // the read in flight, if pending
	pending   bool
	reloading bool               // the read in flight is Reload's
	cancel    context.CancelFunc // ends the read in flight
	last      pageRequest        // the read that came in last
	loaded    bool
	err       error

	filter filterLine
}

// pageRequest is a read of n rows from row from of those filter selects.
type pageRequest struct {
	filter  string
	from, n int
}

// NewPagedTable returns a table that reads its rows with fetch; id is the
// screen's, to which the reads' results are addressed. It reads nothing
// until Reload.
func NewPagedTable(st Styles, id ID, fetch PageFetch, cols ...Column) PagedTable {
	return PagedTable{frame: frame{styles: st, cols: cols}, id: id, keys: tableKeys, fetch: fetch, filter: newFilterLine(), empty: "Nothing here yet."}
}

// SetEmpty sets what the table says when it has no rows.
func (t *PagedTable) SetEmpty(text string) { t.empty = text }

// SetSize sets the space the table renders into, footer included. Rows
// the new size shows beyond those held are read when Update gets
// ResizedMsg, at the next key, or at Reload.
func (t *PagedTable) SetSize(width, height int) {
	t.width, t.height = width, height
	t.filter.input.SetWidth(max(10, width-20))
	t.clamp()
}

// Reload reads the window around the cursor again, the first window the
// first time; the cursor stays on the same row number, within the total
// the read brings. The rows held are shown until then.
func (t *PagedTable) Reload() tea.Cmd {
	cmd := t.read(t.want())
	t.reloading = true
	return cmd
}

// Loaded reports whether a read came in: rows or an error (Err), which
// View shows.
func (t PagedTable) Loaded() bool { return t.loaded }

// Err is the last read's error; nil once a read succeeds.
func (t PagedTable) Err() error { return t.err }

// Filtering reports whether the filter is being typed: the table then
// takes every key.
func (t PagedTable) Filtering() bool { return t.filter.typing }

// FilterText is the filter in force, as typed.
func (t PagedTable) FilterText() string { return t.filter.value() }

// Total is the number of rows the filter selects, as the last read said.
func (t PagedTable) Total() int { return t.total }

// Selected returns the row under the cursor; false while it is not read
// yet (or there is none).
func (t PagedTable) Selected() (Row, bool) {
	if !t.current() || t.cursor < t.from || t.cursor >= t.from+len(t.rows) || t.cursor >= t.total {
		return Row{}, false
	}
	return t.rows[t.cursor-t.from], true
}

// SelectKey moves the cursor to the row with this key if it is held: rows
// not read are not searched.
func (t *PagedTable) SelectKey(k string) bool {
	if !t.current() {
		return false
	}
	for i, r := range t.rows {
		if r.Key == k && t.from+i < t.total {
			t.cursor = t.from + i
			t.clamp()
			return true
		}
	}
	return false
}

// wantFilter is the filter in force, as the fetch gets it.
func (t PagedTable) wantFilter() string { return strings.TrimSpace(t.filter.value()) }

// current reports whether the rows and total held are the filter's.
func (t PagedTable) current() bool { return t.counted && t.query == t.wantFilter() }

// window is the number of rows a read asks for: the body and one body
// height above and below it.
func (t PagedTable) window() int {
	body := t.bodyRows()
	if t.height <= 0 {
		body = unsizedBody
	}
	return 3 * body
}

// want is the read of the window around the view.
func (t PagedTable) want() pageRequest {
	n := t.window()
	from := t.offset - n/3
	if t.current() {
		from = min(from, t.total-n) // at the end, the rows above it
	}
	return pageRequest{filter: t.wantFilter(), from: max(0, from), n: n}
}

// viewEnd is the row after the last one in view.
func (t PagedTable) viewEnd() int { return min(t.total, t.offset+t.bodyRows()) }

// holds reports whether the rows held are the filter's and hold every
// row in view.
func (t PagedTable) holds() bool {
	return t.current() && t.from <= t.offset && t.viewEnd() <= t.from+len(t.rows)
}

// brings reports whether the read in flight is the filter's and brings
// every row in view.
func (t PagedTable) brings() bool {
	r := t.loading
	return t.pending && r.filter == t.wantFilter() && r.from <= t.offset && t.viewEnd() <= r.from+r.n
}

// fill reads the window around the view unless it is held or on its way.
// A read in flight for a window left already (end, then home) is dropped,
// unless it is a Reload's.
func (t *PagedTable) fill() tea.Cmd {
	switch {
	case t.holds():
		if t.pending && !t.reloading && !t.brings() {
			t.drop()
		}
		return nil
	case t.brings():
		return nil
	}
	return t.read(t.want())
}

// read starts the read r; a read in flight is ended, and its result will
// be dropped.
func (t *PagedTable) read(r pageRequest) tea.Cmd {
	t.drop()
	ctx, cancel := context.WithCancel(context.Background())
	t.loading, t.pending, t.cancel = r, true, cancel
	fetch := t.fetch
	return Load(&t.loads, t.id, func(context.Context) (RowPage, error) {
		defer cancel()
		return fetch(ctx, r.filter, r.from, r.n)
	})
}

// drop ends the read in flight, if any: its result will not be taken.
func (t *PagedTable) drop() {
	if !t.pending {
		return
	}
	t.cancel()
	t.loads.Next()
	t.pending, t.reloading, t.cancel = false, false, nil
}

// take takes a read's result, unless a later read was started.
func (t *PagedTable) take(msg Loaded[RowPage]) tea.Cmd {
	if !t.loads.Take(msg.Seq) {
		return nil
	}
	r := t.loading
	t.pending, t.reloading, t.cancel, t.last, t.loaded = false, false, nil, r, true
	if msg.Err != nil {
		t.err = fmt.Errorf("reading rows: %w", msg.Err)
		return nil
	}
	p := msg.Value
	t.err = nil
	t.query, t.rows, t.from, t.total, t.counted = r.filter, p.Rows, p.From, p.Total, true
	t.clamp()
	// The cursor may have moved on meanwhile. A read that came in short
	// of its total (rows deleted between counting and reading) is not
	// asked again and again: its missing rows show as "…".
	if w := t.want(); !t.holds() && w != t.last {
		return t.read(w)
	}
	return nil
}

func (t *PagedTable) clamp() {
	t.cursor, t.offset = scroll(t.cursor, t.offset, t.total, t.bodyRows())
}

// refilter starts over at the top after a change of the filter, reading
// the new filter's first window.
func (t *PagedTable) refilter() tea.Cmd {
	t.cursor, t.offset = 0, 0
	if t.wantFilter() != t.query {
		// The rows held are another filter's; the total is kept until
		// the new one comes, so that the body does not jump.
		t.rows, t.from, t.counted = nil, 0, false
	}
	return t.fill()
}

// Update handles the table's keys, its reads' results (a
// Loaded[RowPage] addressed to its screen) and ResizedMsg. It reports
// whether it used the message.
func (t *PagedTable) Update(msg tea.Msg) (bool, tea.Cmd) {
	if m, ok := msg.(Loaded[RowPage]); ok {
		if m.Recipient() != t.id {
			return false, nil
		}
		return true, t.take(m)
	}
	if _, ok := msg.(ResizedMsg); ok {
		if !t.loaded {
			return true, nil // the first read is on its way, or Reload's to come
		}
		return true, t.fill()
	}
	outcome, cmd := t.filter.update(t.keys, msg)
	switch outcome {
	case filterUsed:
		return true, cmd
	case filterTyped:
		return true, tea.Batch(cmd, t.refilter())
	case filterCleared:
		return true, t.refilter()
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return false, nil
	}
	return t.move(k)
}

// move moves the cursor over the total, read or not, and reads the
// window around the view if it is not held; false when k does not move
// the cursor.
func (t *PagedTable) move(k tea.KeyPressMsg) (bool, tea.Cmd) {
	c, ok := t.keys.step(k, t.cursor, t.bodyRows(), t.total)
	if !ok {
		return false, nil
	}
	t.cursor = c
	t.clamp()
	return true, t.fill()
}

// Bindings are the table's keys for the help line, as Table's.
func (t PagedTable) Bindings() []key.Binding {
	return t.filter.bindings(t.keys, t.total > 0)
}

// FullBindings are every key of the table, for the full help.
func (t PagedTable) FullBindings() []key.Binding { return t.keys.all() }

// View renders the header, the rows in view (a muted "…" for one not read
// yet) and a footer with the position and the filter, as Table's; cells
// are escaped (Escape). A read's error shows instead of the rows when
// there are none to show, else in the footer.
func (t PagedTable) View() string {
	if t.width <= 0 || t.height <= 0 {
		return ""
	}
	var lines []string
	switch {
	case t.total == 0 && t.err != nil:
		lines = t.message(Escape(t.err.Error()), t.styles.Error)
	case t.total == 0 && !t.current():
		lines = t.message("Reading…", t.styles.Muted)
	case t.total == 0 && t.wantFilter() != "":
		lines = t.message(fmt.Sprintf("No row matches %q.", t.filter.value()), t.styles.Muted)
	case t.total == 0:
		lines = t.message(t.empty, t.styles.Muted)
	}
	widths := t.widths()
	held := t.current()
	for i := t.offset; i < t.viewEnd(); i++ {
		if held && i >= t.from && i < t.from+len(t.rows) {
			lines = append(lines, t.line(escapeRow(t.rows[i-t.from]), i == t.cursor, widths))
		} else {
			lines = append(lines, t.unread(i == t.cursor))
		}
	}
	return t.draw(lines, t.footer())
}

// unread is the line of a row not read yet.
func (t PagedTable) unread(sel bool) string {
	if sel {
		return t.styles.Selected.Render(padTo("▸…", t.width))
	}
	return " " + t.styles.Muted.Render("…")
}

func (t PagedTable) footer() string {
	if t.err != nil && t.total > 0 && !t.filter.typing {
		return t.styles.Error.Render(fit(Escape(t.err.Error()), t.width))
	}
	pos := ""
	switch {
	case !t.current() && t.total > 0:
		pos = "…"
	case t.total > 0:
		pos = fmt.Sprintf("%d/%d", t.cursor+1, t.total)
	}
	return t.filterFooter(t.filter, pos)
}
