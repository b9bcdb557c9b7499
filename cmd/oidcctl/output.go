package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/tui"
)

// writeJSON writes v as indented JSON: the stable output of -o json.
// encoding/json escapes C0 controls but writes DEL, the C1 controls and
// the bidirectional overrides as they are, which a terminal may obey:
// they are written as \u escapes too (they can only be inside strings).
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := b.Bytes()
	if strings.ContainsFunc(b.String(), jsonUnsafe) {
		var e strings.Builder
		for _, r := range b.String() {
			if jsonUnsafe(r) {
				fmt.Fprintf(&e, `\u%04x`, r)
				continue
			}
			e.WriteRune(r)
		}
		out = []byte(e.String())
	}
	_, err := w.Write(out)
	return err
}

// jsonArray writes a JSON array one element at a time, byte for byte as
// writeJSON writes the whole slice, so that a long listing need not be
// held in memory to be written. If the command fails half-way, what was
// written is not valid JSON (no closing bracket), so that a script does
// not take a part for the whole.
type jsonArray struct {
	w   *bufio.Writer
	n   int
	err error
}

func newJSONArray(w io.Writer) *jsonArray {
	return &jsonArray{w: bufio.NewWriterSize(w, 64<<10)}
}

// add writes v, indented as an element of the array.
func (j *jsonArray) add(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("  ", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if j.n == 0 {
		j.w.WriteString("[\n  ")
	} else {
		j.w.WriteString(",\n  ")
	}
	j.n++
	return j.write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func (j *jsonArray) write(out []byte) error {
	if !bytes.ContainsFunc(out, jsonUnsafe) {
		_, err := j.w.Write(out)
		j.err = cmp.Or(j.err, err)
		return j.err
	}
	for _, r := range string(out) {
		if jsonUnsafe(r) {
			fmt.Fprintf(j.w, `\u%04x`, r)
			continue
		}
		j.w.WriteRune(r)
	}
	return j.err
}

// close ends the array and writes out what is buffered.
func (j *jsonArray) close() error {
	if j.n == 0 {
		j.w.WriteString("[]\n")
	} else {
		j.w.WriteString("\n]\n")
	}
	return cmp.Or(j.err, j.w.Flush())
}

func jsonUnsafe(r rune) bool {
	return r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// table writes aligned columns for people. Every cell is escaped
// (tui.Escape): users, claims, debugger entries and provider errors come
// from tokens, callers and providers, and a control character printed raw
// could retitle, clear or rewrite the terminal.
//
// The columns are laid out as text/tabwriter lays them out with minwidth
// 0, tabwidth 4, padding 2, padchar ' ' and no flags (which this table
// once was): a column is as wide as its widest cell plus two spaces, over
// each run of lines that have a cell in it; the last cell of a line is not
// padded; a line of one cell ends the table so far, which is written out.
// Unlike tabwriter, it keeps what it holds compactly until flush: the
// text of all cells in one buffer and two numbers per cell, no pointer for
// the collector to scan, so that token list of 100,000 accounts stays
// small.
type table struct {
	w io.Writer
	// text is the escaped text of every cell, one after another, in
	// chunks of tableChunk bytes that are never copied to grow (a cell
	// that does not fit in what is left starts the next chunk).
	text  [][]byte
	cells []cell  // every cell of every line, in order
	ends  []int32 // ends[i] is the index in cells after line i
	err   error   // the first write error
}

// tableChunk is the size of a chunk of a table's text.
const tableChunk = 64 << 10

// cell is one cell of a table: its size in bytes and its width in runes,
// as tabwriter counts it.
type cell struct{ size, width int32 }

// cellSpace replaces what would break the columns: a tab or a newline in
// a value.
var cellSpace = strings.NewReplacer("\t", " ", "\n", " ")

// tablePadding is the space between two columns.
const tablePadding = 2

const spaces = "                                                                "

func newTable(w io.Writer, header ...string) *table {
	t := &table{w: w}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) {
	for _, c := range cells {
		c = tui.Escape(cellSpace.Replace(c))
		if n := len(t.text); n == 0 || len(t.text[n-1])+len(c) > cap(t.text[n-1]) {
			t.text = append(t.text, make([]byte, 0, max(tableChunk, len(c))))
		}
		t.text[len(t.text)-1] = append(t.text[len(t.text)-1], c...)
		t.cells = append(t.cells, cell{int32(len(c)), int32(utf8.RuneCountInString(c))})
	}
	if len(cells) == 0 {
		// An empty line is one empty cell, as tabwriter has it.
		t.cells = append(t.cells, cell{})
	}
	t.ends = append(t.ends, int32(len(t.cells)))
	if len(cells) <= 1 {
		// No column goes past a line of one cell: tabwriter writes out
		// what it has there.
		t.err = cmp.Or(t.err, t.flush())
	}
}

// flush writes the lines held so far, aligned, and forgets them.
func (t *table) flush() error {
	if len(t.ends) == 0 {
		return t.err
	}
	tw := tableWriter{t: t, w: bufio.NewWriterSize(t.w, 64<<10)}
	tw.format(0, len(t.ends))
	tw.err = cmp.Or(tw.err, tw.w.Flush())
	t.text, t.cells, t.ends = nil, t.cells[:0], t.ends[:0]
	t.err = cmp.Or(t.err, tw.err)
	return t.err
}

// line returns the cells of line i.
func (t *table) line(i int) []cell {
	start := int32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.cells[start:t.ends[i]]
}

// tableWriter is one flush of a table: tabwriter's format and writeLines.
type tableWriter struct {
	t      *table
	w      *bufio.Writer
	widths []int // the widths of the enclosing columns
	chunk  int   // the next cell's text is in t.text[chunk][pos:]
	pos    int
	err    error
}

// format writes lines line0 to line1 (excluded), laying out the column
// len(tw.widths) over each block of consecutive lines that have a cell
// in it (the last cell of a line is in no column), and the columns
// right of it likewise within each block.
func (tw *tableWriter) format(line0, line1 int) {
	column := len(tw.widths)
	for this := line0; this < line1; this++ {
		if column >= len(tw.t.line(this))-1 {
			continue
		}
		// A block of column begins at this: the lines before are done.
		tw.writeLines(line0, this)
		line0 = this
		width := 0
		for ; this < line1; this++ {
			line := tw.t.line(this)
			if column >= len(line)-1 {
				break
			}
			width = max(width, int(line[column].width)+tablePadding)
		}
		tw.widths = append(tw.widths, width)
		tw.format(line0, this)
		tw.widths = tw.widths[:len(tw.widths)-1]
		line0 = this
	}
	tw.writeLines(line0, line1)
}

// writeLines writes lines line0 to line1 (excluded), each cell that is in
// a column padded to its width.
func (tw *tableWriter) writeLines(line0, line1 int) {
	for i := line0; i < line1; i++ {
		for j, c := range tw.t.line(i) {
			if c.size > 0 {
				if tw.pos+int(c.size) > len(tw.t.text[tw.chunk]) {
					tw.chunk, tw.pos = tw.chunk+1, 0
				}
				_, err := tw.w.Write(tw.t.text[tw.chunk][tw.pos : tw.pos+int(c.size)])
				tw.err = cmp.Or(tw.err, err)
				tw.pos += int(c.size)
			}
			if j < len(tw.widths) {
				for n := tw.widths[j] - int(c.width); n > 0; n -= len(spaces) {
					_, err := tw.w.WriteString(spaces[:min(n, len(spaces))])
					tw.err = cmp.Or(tw.err, err)
				}
			}
		}
		tw.err = cmp.Or(tw.err, tw.w.WriteByte('\n'))
	}
}

// printDone reports a change that has no object to print.
func (a *app) printDone(verb, kind, name string) error {
	if a.output == "json" {
		return writeJSON(a.stdout, map[string]string{"kind": kind, "name": name, "action": verb})
	}
	fmt.Fprintf(a.stdout, "%s %q %s.\n", capitalize(kind), name, verb)
	return nil
}

func fmtDuration(d time.Duration) string {
	b, _ := config.Duration(d).MarshalText()
	return string(b)
}

func onOff(on bool, off string) string {
	if on {
		return "on"
	}
	return off
}

func fmtRoleMap(rm core.RoleMap) string {
	var parts []string
	for _, path := range slices.Sorted(maps.Keys(rm)) {
		var pairs []string
		for _, role := range slices.Sorted(maps.Keys(rm[path])) {
			pairs = append(pairs, role+"→"+rm[path][role])
		}
		parts = append(parts, path+": "+strings.Join(pairs, ", "))
	}
	return cmp.Or(strings.Join(parts, "; "), "-")
}

func fmtUserMap(um core.UserMap) string {
	var parts []string
	for _, claim := range slices.Sorted(maps.Keys(um)) {
		parts = append(parts, claim+"→"+string(um[claim]))
	}
	return cmp.Or(strings.Join(parts, ", "), "-")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// secretState says whether a secret is set, not set, or missing: needed
// (imported without it) and not given yet.
func secretState(s core.Secret, missing []string, name string) string {
	if !s.IsSet() && slices.Contains(missing, name) {
		return "missing (" + core.StateNeedsSecret + ")"
	}
	return s.String()
}
