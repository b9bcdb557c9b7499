package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"text/tabwriter"

	"oidcctl/tui"
)

// tabwriterTable is how table wrote before it kept its rows compactly:
// text/tabwriter with minwidth 0, tabwidth 4, padding 2, padchar ' '.
func tabwriterTable(rows [][]string) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, cells := range rows {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = tui.Escape(strings.NewReplacer("\t", " ", "\n", " ").Replace(c))
		}
		fmt.Fprintln(tw, strings.Join(esc, "\t"))
	}
	tw.Flush()
	return b.String()
}

func compactTable(rows [][]string) string {
	var b bytes.Buffer
	t := newTable(&b)
	for _, cells := range rows {
		t.row(cells...)
	}
	if err := t.flush(); err != nil {
		panic(err)
	}
	return b.String()
}

// TestTableAsTabwriter: the table lays out columns byte for byte as
// text/tabwriter did: the widest cell of a column plus two spaces, over
// each run of lines that have a cell in that column, the last cell of a
// line unpadded, a line of one cell (or none) splitting the table, wide
// runes counted as tabwriter counts them, and cells with tabs, newlines
// and control characters escaped. Tables of every shape are drawn at
// random (seeded, so that a failure repeats).
func TestTableAsTabwriter(t *testing.T) {
	words := []string{"", "a", "account-000001", "client_credentials", "in 23h56m", "-", "Grüße", "日本語のテキスト",
		"tab\there", "line\nbreak", "\x1b[31mred", "\u202eevil", "\xff\xfe", strings.Repeat("x", 70), "needs secret"}
	rng := rand.New(rand.NewPCG(10, 100000))
	for n := range 500 {
		var rows [][]string
		for range rng.IntN(30) {
			// Mostly rows of the same shape, as a listing has, and now
			// and then a shorter or longer one.
			cols := 8
			if rng.IntN(4) == 0 {
				cols = rng.IntN(10)
			}
			row := make([]string, cols)
			for i := range row {
				row[i] = words[rng.IntN(len(words))]
			}
			rows = append(rows, row)
		}
		if got, want := compactTable(rows), tabwriterTable(rows); got != want {
			t.Fatalf("table %d %q:\ngot:\n%s\nwant (tabwriter):\n%s", n, rows, got, want)
		}
	}
	for _, rows := range [][][]string{
		nil,
		{{"ACCOUNT", "PROFILE"}},
		{{"one"}, {"two", "2"}, {}, {"three", "3", "x"}},
		{{strings.Repeat("w", 200<<10), "b"}, {"c", "d"}}, // a cell larger than a chunk
	} {
		if got, want := compactTable(rows), tabwriterTable(rows); got != want {
			t.Errorf("table %.200q:\ngot:\n%.500s\nwant (tabwriter):\n%.500s", rows, got, want)
		}
	}
}

// TestTableWritesLinesOfOneCellAtOnce: as tabwriter, a line of one cell
// is written out at once with what came before it (no column goes past
// it), the rest waits for flush.
func TestTableWritesLinesOfOneCellAtOnce(t *testing.T) {
	var b bytes.Buffer
	tab := newTable(&b, "A", "B")
	tab.row("a", "b")
	if b.Len() != 0 {
		t.Fatalf("written before flush: %q", b.String())
	}
	tab.row("note")
	if want := "A  B\na  b\nnote\n"; b.String() != want {
		t.Fatalf("after a line of one cell: %q, want %q", b.String(), want)
	}
	tab.row("c", "dd")
	tab.flush()
	if want := "A  B\na  b\nnote\nc  dd\n"; b.String() != want {
		t.Fatalf("after flush: %q, want %q", b.String(), want)
	}
}

// TestTableHeapPerRow: a row of token list's shape costs the table about
// its text and two numbers per cell on the heap, not the tabwriter's
// copy of the text plus a slice of three words per cell; 100,000 rows
// fit in a few MB. It failed with tabwriter (about 300 bytes a row).
func TestTableHeapPerRow(t *testing.T) {
	const rows = 20000
	row := []string{"account-000001", "profile-0001", "client_credentials", "valid", "in 23h56m", "in 29d", "3m31s ago", "-"}
	text := len(strings.Join(row, ""))
	var tab *table
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	tab = newTable(new(bytes.Buffer), "ACCOUNT", "PROFILE", "GRANT", "STATE", "EXPIRES", "REFRESH EXPIRES", "LAST REFRESH", "LAST ERROR")
	for range rows {
		tab.row(row...)
	}
	after := heap()
	perRow := float64(int64(after)-int64(before)) / rows
	// The text, a tab or newline after each cell, and a little slack.
	limit := float64(text + len(row) + 8)
	if perRow > limit {
		t.Errorf("the table holds %.0f bytes a row of %d bytes of text; want at most %.0f", perRow, text, limit)
	}
	runtime.KeepAlive(tab)
}

// TestJSONArrayAsWriteJSON: an array written one element at a time is
// byte for byte what writeJSON writes of the whole slice: empty, one,
// several, nested values, HTML characters and the runes writeJSON
// escapes for the terminal.
func TestJSONArrayAsWriteJSON(t *testing.T) {
	type elem struct {
		Name  string            `json:"name"`
		N     int               `json:"n"`
		Tags  []string          `json:"tags,omitempty"`
		Attrs map[string]string `json:"attrs,omitempty"`
		Empty struct{}          `json:"empty"`
	}
	all := []elem{
		{Name: "plain", N: 1},
		{Name: "<b>&amp;</b>", Tags: []string{"a", "b"}, Attrs: map[string]string{"z": "1", "a": "\u202eevil"}},
		{Name: "\x7f\u0085\u2066 \x1b[2J", N: -3, Tags: []string{}},
		{Name: "Grüße 日本"},
	}
	for n := range len(all) + 1 {
		var want, got bytes.Buffer
		if err := writeJSON(&want, append([]elem{}, all[:n]...)); err != nil {
			t.Fatal(err)
		}
		arr := newJSONArray(&got)
		for _, e := range all[:n] {
			if err := arr.add(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := arr.close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d elements:\ngot:\n%s\nwant (writeJSON):\n%s", n, got.String(), want.String())
		}
	}
}
