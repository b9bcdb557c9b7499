package tui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	tea "charm.land/bubbletea/v2"

	"oidcctl/tui"
	"oidcctl/tui/tuitest"
)

// pages is a store of numbered items read a page at a time, as a screen's
// store would: it counts the reads and the rows it makes.
type pages struct {
	mu    sync.Mutex
	items []int
	names []string // itemName of each item
	fail  error
	reads []pageRead
	made  int // rows made for reads
}

type pageRead struct {
	filter    string
	from, n   int
	cancelled bool // the read's context had ended when it ran
}

func newPages(n int) *pages {
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	p := &pages{}
	p.set(items)
	return p
}

// set replaces the items.
func (p *pages) set(items []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items, p.names = items, make([]string, len(items))
	for i, it := range items {
		p.names[i] = itemName(it)
	}
}

func itemName(n int) string { return fmt.Sprintf("item-%06d", n) }

func (p *pages) fetch(ctx context.Context, filter string, from, n int) (tui.RowPage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reads = append(p.reads, pageRead{filter, from, n, ctx.Err() != nil})
	if p.fail != nil {
		return tui.RowPage{}, p.fail
	}
	page := tui.RowPage{From: from}
	for i, name := range p.names {
		if !strings.Contains(name, filter) {
			continue
		}
		if page.Total >= from && page.Total < from+n {
			p.made++
			page.Rows = append(page.Rows, tui.Row{Key: fmt.Sprint(p.items[i]), Cells: []string{name, fmt.Sprintf("value %d", p.items[i])}})
		}
		page.Total++
	}
	return page, nil
}

// lastRead is the last read, and how many there were.
func (p *pages) lastRead() (pageRead, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.reads) == 0 {
		return pageRead{}, 0
	}
	return p.reads[len(p.reads)-1], len(p.reads)
}

func (p *pages) rowsMade() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made
}

// runLoads runs cmd, and the commands of the batches it returns (run),
// and collects the table reads' results.
func runLoads(cmd tea.Cmd) []tui.Loaded[tui.RowPage] {
	var out []tui.Loaded[tui.RowPage]
	for _, msg := range run(cmd) {
		if l, ok := msg.(tui.Loaded[tui.RowPage]); ok {
			out = append(out, l)
		}
	}
	return out
}

// settle runs cmd's reads and hands their results to the table, and so on
// with the reads those start, until none is left; it returns the number
// of reads run. The tests run in a synctest bubble: the commands of the
// filter's line include its cursor's blink, whose wait the bubble's clock
// makes instant.
func settle(t *testing.T, tb *tui.PagedTable, cmd tea.Cmd) int {
	t.Helper()
	n := 0
	for cmd != nil {
		var next []tea.Cmd
		for _, l := range runLoads(cmd) {
			n++
			used, c := tb.Update(l)
			if !used {
				t.Fatalf("the table did not use its read's result %+v", l)
			}
			next = append(next, c)
		}
		cmd = tea.Batch(next...)
		if n > 20 {
			t.Fatal("the table reads again and again")
		}
	}
	return n
}

func newPaged(p *pages) tui.PagedTable {
	tb := tui.NewPagedTable(tui.NewStyles(false), tui.NewID(), p.fetch, tui.Column{Title: "ITEM", Width: 12}, tui.Column{Title: "VALUE", Width: 10, Flex: 1})
	tb.SetSize(40, 7) // header, 5 rows, footer
	return tb
}

// plainView is the table's frame without styles and trailing blanks.
func plainView(tb tui.PagedTable) string {
	return strings.TrimSuffix(tuitest.Plain(tb.View()), "\n")
}

func selectedKey(tb tui.PagedTable) string {
	if r, ok := tb.Selected(); ok {
		return r.Key
	}
	return "(none)"
}

// A taller terminal shows rows beyond those held: ResizedMsg reads them
// at once, not at the next key; a smaller one reads nothing.
func TestPagedTableReadsWhatAResizeShows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPages(100_000)
		tb := newPaged(p)
		if _, cmd := tb.Update(tui.ResizedMsg{}); cmd != nil {
			t.Fatal("a resize before the first read reads")
		}
		settle(t, &tb, tb.Reload())
		_, reads := p.lastRead()
		tb.SetSize(40, 42) // header, 40 rows, footer
		if v := plainView(tb); !strings.Contains(v, "…") || strings.Contains(v, "item-000039") {
			t.Fatalf("before the resize's read, rows out of what is held:\n%s", v)
		}
		used, cmd := tb.Update(tui.ResizedMsg{})
		if !used || cmd == nil {
			t.Fatalf("ResizedMsg: used %v, read %v", used, cmd != nil)
		}
		if n := settle(t, &tb, cmd); n != 1 {
			t.Fatalf("%d reads after the resize", n)
		}
		if v := plainView(tb); strings.Contains(v, "…") || !strings.Contains(v, "item-000039") || selectedKey(tb) != "0" {
			t.Fatalf("after the resize (selected %s):\n%s", selectedKey(tb), v)
		}
		tb.SetSize(40, 7)
		if _, cmd := tb.Update(tui.ResizedMsg{}); cmd != nil {
			t.Fatal("a smaller size reads again")
		}
		if _, n := p.lastRead(); n != reads+1 {
			t.Fatalf("%d reads in all, want %d", n, reads+1)
		}
	})
}

// A paged table of 100,000 rows reads only a window around the view, and
// a frame renders only the rows in view: its cost does not grow with the
// rows.
func TestPagedTableReadsAndRendersOnlyTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPages(100_000)
		tb := newPaged(p)
		if tb.Loaded() {
			t.Fatal("loaded before any read")
		}
		if n := settle(t, &tb, tb.Reload()); n != 1 || !tb.Loaded() {
			t.Fatalf("the first window took %d reads, loaded %v", n, tb.Loaded())
		}
		// 5 rows in view, one body above and below: at most 3 screenfuls.
		if r, _ := p.lastRead(); r.from != 0 || r.filter != "" || p.rowsMade() > 15 {
			t.Fatalf("first read %+v made %d rows", r, p.rowsMade())
		}
		view := plainView(tb)
		lines := strings.Split(view, "\n")
		if len(lines) != 7 || lines[1] != "▸item-000000  value 0" || !strings.HasPrefix(lines[5], " item-000004") || lines[6] != "1/100000" {
			t.Fatalf("first frame:\n%s", view)
		}
		if strings.Contains(view, "item-000005") {
			t.Fatalf("a held row out of view is drawn:\n%s", view)
		}

		// Moving within what is held reads nothing.
		for range 6 {
			if _, cmd := tb.Update(press("down")); cmd != nil {
				t.Fatalf("down to %s reads", selectedKey(tb))
			}
		}
		if selectedKey(tb) != "6" {
			t.Fatalf("selected %s", selectedKey(tb))
		}

		// The end is read around the end, once.
		made := p.rowsMade()
		_, cmd := tb.Update(press("end"))
		if _, ok := tb.Selected(); ok {
			t.Fatal("the last row is selected before it is read")
		}
		if v := plainView(tb); !strings.Contains(v, "▸…") || !strings.HasSuffix(v, "100000/100000") {
			t.Fatalf("before the end is read:\n%s", v)
		}
		if n := settle(t, &tb, cmd); n != 1 {
			t.Fatalf("the end took %d reads", n)
		}
		if r, _ := p.lastRead(); r.from < 100_000-15 || p.rowsMade()-made > 15 {
			t.Fatalf("the end read %+v made %d rows", r, p.rowsMade()-made)
		}
		view = plainView(tb)
		if selectedKey(tb) != "99999" || !strings.Contains(view, "▸item-099999") || !strings.Contains(view, " item-099995") || strings.Contains(view, "item-099994") {
			t.Fatalf("at the end, selected %s:\n%s", selectedKey(tb), view)
		}

		// Back up a screenful and more: held, then read around the view.
		_, reads := p.lastRead()
		for range 2 {
			if _, cmd := tb.Update(press("pgup")); cmd != nil {
				t.Fatalf("pgup to %s reads", selectedKey(tb))
			}
		}
		_, cmd = tb.Update(press("pgup"))
		if settle(t, &tb, cmd) != 1 || selectedKey(tb) != "99984" {
			t.Fatalf("third pgup: selected %s", selectedKey(tb))
		}
		if _, n := p.lastRead(); n != reads+1 {
			t.Fatalf("%d reads for three pgups", n-reads)
		}
	})
}

// A read that a later one made useless is dropped when it comes in: the
// rows of another filter or window never show. Its context is ended.
func TestPagedTableDropsAStaleRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPages(100_000)
		tb := newPaged(p)
		settle(t, &tb, tb.Reload())
		tb.Update(press("/"))
		_, first := tb.Update(press("7"))
		_, second := tb.Update(press("7"))
		settle(t, &tb, second)
		total := tb.Total()
		if r, _ := p.lastRead(); r.filter != "77" || r.cancelled {
			t.Fatalf("read %+v", r)
		}
		// The read for "7" comes in last: it is dropped.
		stale := runLoads(first)
		if len(stale) != 1 {
			t.Fatalf("%d reads for 7", len(stale))
		}
		if r, _ := p.lastRead(); r.filter != "7" || !r.cancelled {
			t.Fatalf("the stale read %+v ran with its context live", r)
		}
		if used, cmd := tb.Update(stale[0]); !used || cmd != nil {
			t.Fatalf("stale result: used %v, cmd %v", used, cmd != nil)
		}
		if tb.Total() != total || selectedKey(tb) != "77" {
			t.Fatalf("after the stale read: total %d (want %d), selected %s", tb.Total(), total, selectedKey(tb))
		}

		// end, then home before the end is read: the end's read is dropped,
		// and the top stays as held.
		tb.Update(press("enter"))
		_, end := tb.Update(press("end"))
		if _, cmd := tb.Update(press("home")); cmd != nil {
			t.Fatal("home reads what is held")
		}
		for _, l := range runLoads(end) {
			if _, cmd := tb.Update(l); cmd != nil {
				t.Fatal("the dropped end read starts another")
			}
		}
		if v := plainView(tb); selectedKey(tb) != "77" || !strings.Contains(v, "▸item-000077") {
			t.Fatalf("after home, selected %s:\n%s", selectedKey(tb), v)
		}

		// Another table's result is not this one's.
		other := newPaged(p)
		loads := runLoads(other.Reload())
		if used, _ := tb.Update(loads[0]); used {
			t.Fatal("the table took another screen's read")
		}
	})
}

// The filter is the fetch's: each change reads the first window of the
// new filter, trimmed, and the total is what the fetch says.
func TestPagedTableFiltersThroughTheFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPages(100_000)
		tb := newPaged(p)
		settle(t, &tb, tb.Reload())
		for range 40 {
			tb.Update(press("down"))
		}
		settle(t, &tb, tb.Reload())
		tb.Update(press("/"))
		if !tb.Filtering() {
			t.Fatal("/ does not start the filter")
		}
		// Each change of the filter reads its first window, the cursor at the
		// top; a space around it changes nothing the fetch sees.
		_, reads := p.lastRead()
		for i, k := range []string{"space", "0", "9", "9", "9", "space"} {
			_, cmd := tb.Update(press(k))
			settle(t, &tb, cmd)
			typed := " 0999 "[:i+1]
			r, n := p.lastRead()
			if i == 5 {
				if n != reads {
					t.Fatalf("%q read %+v", typed, r)
				}
				continue
			}
			if n != reads+1 || r.filter != strings.TrimSpace(typed) || r.from != 0 {
				t.Fatalf("filter %q: read %+v (%d reads)", typed, r, n-reads)
			}
			reads = n
		}
		// item-000999, item-009990..item-009999, item-010999, …, item-099999.
		want := 0
		for i := range 100_000 {
			if strings.Contains(itemName(i), "0999") {
				want++
			}
		}
		tb.Update(press("enter"))
		if tb.Filtering() || tb.FilterText() != " 0999 " || tb.Total() != want {
			t.Fatalf("filtering %v, filter %q, total %d (want %d)", tb.Filtering(), tb.FilterText(), tb.Total(), want)
		}
		v := plainView(tb)
		if !strings.Contains(v, "▸item-000999") || !strings.HasSuffix(v, fmt.Sprintf("filter:  0999   1/%d", want)) {
			t.Fatalf("filtered:\n%s", v)
		}
		_, cmd := tb.Update(press("end"))
		settle(t, &tb, cmd)
		if r, _ := p.lastRead(); r.filter != "0999" || selectedKey(tb) != "99999" {
			t.Fatalf("end of the filter: read %+v, selected %s", r, selectedKey(tb))
		}

		// esc clears: the first window of every row.
		_, cmd = tb.Update(press("esc"))
		settle(t, &tb, cmd)
		if r, _ := p.lastRead(); r.filter != "" || r.from != 0 || tb.Total() != 100_000 || selectedKey(tb) != "0" || tb.FilterText() != "" {
			t.Fatalf("esc: read %+v, total %d, selected %s", r, tb.Total(), selectedKey(tb))
		}

		tb.Update(press("/"))
		for _, k := range []string{"x", "y"} {
			_, cmd := tb.Update(press(k))
			settle(t, &tb, cmd)
		}
		if v := plainView(tb); !strings.Contains(v, `No row matches "xy".`) || tb.Total() != 0 {
			t.Fatalf("no match:\n%s", v)
		}
		if _, ok := tb.Selected(); ok {
			t.Fatal("a row is selected with none")
		}
	})
}

// Selected and SelectKey see only the rows read; Reload keeps the
// cursor on the same row number, within the new total.
func TestPagedTableSelectsWhatIsRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPages(1000)
		tb := newPaged(p)
		if _, ok := tb.Selected(); ok {
			t.Fatal("selected before the first read")
		}
		cmd := tb.Reload()
		if _, ok := tb.Selected(); ok {
			t.Fatal("selected before the first read came in")
		}
		settle(t, &tb, cmd)
		if !tb.SelectKey("12") || selectedKey(tb) != "12" {
			t.Fatalf("SelectKey(12) selects %s", selectedKey(tb))
		}
		if tb.SelectKey("500") || selectedKey(tb) != "12" {
			t.Fatalf("SelectKey of a row not read selects %s", selectedKey(tb))
		}
		for range 100 {
			settle(t, &tb, func() tea.Cmd { _, c := tb.Update(press("pgdown")); return c }())
		}
		if selectedKey(tb) != "512" {
			t.Fatalf("after 100 pgdowns selected %s", selectedKey(tb))
		}

		// Rows added before the cursor: the same row number, the new row.
		p.set(append([]int{-1, -2}, p.items...))
		settle(t, &tb, tb.Reload())
		if selectedKey(tb) != "510" || tb.Total() != 1002 {
			t.Fatalf("after adding two rows: selected %s of %d", selectedKey(tb), tb.Total())
		}
		// Fewer rows than the cursor: the last.
		p.set(p.items[:300])
		if n := settle(t, &tb, tb.Reload()); n != 2 {
			t.Fatalf("the shrunk table took %d reads, want the reload and one around the last row", n)
		}
		if v := plainView(tb); selectedKey(tb) != "297" || !strings.HasSuffix(v, "300/300") {
			t.Fatalf("after shrinking: selected %s\n%s", selectedKey(tb), v)
		}
	})
}

// A read's error shows in the view and through Err, and goes with the
// next read that succeeds; a read that keeps failing is not repeated by
// itself.
func TestPagedTableShowsReadErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPages(1000)
		p.fail = errors.New("database is locked")
		tb := newPaged(p)
		if n := settle(t, &tb, tb.Reload()); n != 1 {
			t.Fatalf("a failing read ran %d times", n)
		}
		if !tb.Loaded() || tb.Err() == nil || !strings.Contains(tb.Err().Error(), "database is locked") {
			t.Fatalf("loaded %v, err %v", tb.Loaded(), tb.Err())
		}
		if v := plainView(tb); !strings.Contains(v, "reading rows: database is locked") {
			t.Fatalf("the error is not shown:\n%s", v)
		}

		p.fail = nil
		settle(t, &tb, tb.Reload())
		if tb.Err() != nil || selectedKey(tb) != "0" {
			t.Fatalf("after a good read: err %v, selected %s", tb.Err(), selectedKey(tb))
		}

		// With rows shown, the error takes the footer; the rows not read
		// stay "…".
		p.fail = errors.New("connection refused")
		_, cmd := tb.Update(press("end"))
		if n := settle(t, &tb, cmd); n != 1 {
			t.Fatalf("a failing read ran %d times", n)
		}
		v := plainView(tb)
		lines := strings.Split(v, "\n")
		if lines[len(lines)-1] != "reading rows: connection refused" || lines[len(lines)-2] != "▸…" {
			t.Fatalf("error with rows:\n%s", v)
		}
		if _, ok := tb.Selected(); ok {
			t.Fatal("a row not read is selected")
		}
	})
}

// A read that brings fewer rows than its total says (rows deleted between
// the count and the read) is not asked again by itself: the rows missing
// show as "…" until the next move or Reload.
func TestPagedTableDoesNotRereadAShortPage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPages(1000)
		short := func(ctx context.Context, filter string, from, n int) (tui.RowPage, error) {
			page, err := p.fetch(ctx, filter, from, n)
			page.Total += 50 // counted before 50 rows at the end went
			return page, err
		}
		tb := tui.NewPagedTable(tui.NewStyles(false), tui.NewID(), short, tui.Column{Title: "ITEM", Width: 12})
		tb.SetSize(40, 7)
		settle(t, &tb, tb.Reload())
		_, cmd := tb.Update(press("end"))
		if n := settle(t, &tb, cmd); n != 1 {
			t.Fatalf("the end took %d reads", n)
		}
		if v := plainView(tb); !strings.HasSuffix(v, "▸…\n1050/1050") {
			t.Fatalf("at the end:\n%s", v)
		}
		_, cmd = tb.Update(press("up"))
		if n := settle(t, &tb, cmd); n != 1 {
			t.Fatalf("a move took %d reads", n)
		}
	})
}

// Cells and errors are escaped as Table's are: they come from tokens,
// callers and providers.
func TestPagedTableEscapesValues(t *testing.T) {
	const evil = "evil\x1b]0;pwned\x07x\x1b[2J"
	rows := []tui.Row{{Key: "k", Cells: []string{evil}}, {Key: "k2", Cells: []string{"clean"}}}
	var fail error
	fetch := func(_ context.Context, _ string, from, n int) (tui.RowPage, error) {
		return tui.RowPage{From: from, Rows: rows[from:min(len(rows), from+n)], Total: len(rows)}, fail
	}
	tb := tui.NewPagedTable(tui.NewStyles(false), tui.NewID(), fetch, tui.Column{Title: "LOGIN", Width: 40})
	tb.SetSize(50, 5)
	settle(t, &tb, tb.Reload())
	fail = errors.New("no account " + evil)
	_, cmd := tb.Update(press("down"))
	if cmd != nil {
		t.Fatal("down reads a held row")
	}
	withRows := tb.View()
	settle(t, &tb, tb.Reload())
	withError := tb.View()
	for name, view := range map[string]string{"rows": withRows, "error": withError} {
		if strings.Contains(view, "\x1b]") || strings.Contains(view, "\x07") || strings.Contains(view, "\x1b[2J") {
			t.Errorf("%s holds raw escapes: %q", name, view)
		}
		if !strings.Contains(view, `evil\x1b]0;pwned\x07x`) {
			t.Errorf("%s does not show the value escaped: %q", name, view)
		}
	}
	if r, _ := tb.Selected(); r.Cells[0] != "clean" || rows[0].Cells[0] != evil {
		t.Errorf("selected %q; the fetch's rows changed: %q", r.Cells, rows[0].Cells)
	}
}
