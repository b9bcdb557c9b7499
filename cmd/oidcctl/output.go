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
	"text/tabwriter"
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
	_, err := w.Write(escapeJSON(b.Bytes()))
	return err
}

// jsonArray writes a JSON array one element at a time, byte for byte as
// writeJSON writes the whole slice, so that a long listing need not be
// held in memory to be written. If the command fails half-way, what was
// written is not valid JSON (no closing bracket), so that a script does
// not take a part for the whole.
type jsonArray struct {
	w   *bufio.Writer
	b   bytes.Buffer  // one element, encoded
	enc *json.Encoder // to b
	n   int
	err error
}

func newJSONArray(w io.Writer) *jsonArray {
	j := &jsonArray{w: bufio.NewWriterSize(w, 64<<10)}
	j.enc = json.NewEncoder(&j.b)
	j.enc.SetIndent("  ", "  ")
	return j
}

// add writes v, indented as an element of the array.
func (j *jsonArray) add(v any) error {
	j.b.Reset()
	if err := j.enc.Encode(v); err != nil {
		return err
	}
	if j.n == 0 {
		j.w.WriteString("[\n  ")
	} else {
		j.w.WriteString(",\n  ")
	}
	j.n++
	_, err := j.w.Write(escapeJSON(bytes.TrimSuffix(j.b.Bytes(), []byte("\n"))))
	j.err = cmp.Or(j.err, err)
	return j.err
}

// abort writes out what is buffered, without the closing bracket: the
// elements read before a failure.
func (j *jsonArray) abort() { j.w.Flush() }

// close ends the array and writes out what is buffered.
func (j *jsonArray) close() error {
	if j.n == 0 {
		j.w.WriteString("[]\n")
	} else {
		j.w.WriteString("\n]\n")
	}
	return cmp.Or(j.err, j.w.Flush())
}

// escapeJSON returns encoded JSON with the runes jsonUnsafe names written
// as \u escapes (they can only be inside strings); out itself when it has
// none, which an ASCII text tells quickly (every such rune is above it).
func escapeJSON(out []byte) []byte {
	i := bytes.IndexFunc(out, func(r rune) bool { return r >= 0x7f })
	if i < 0 || !bytes.ContainsFunc(out[i:], jsonUnsafe) {
		return out
	}
	var e bytes.Buffer
	for _, r := range string(out) {
		if jsonUnsafe(r) {
			fmt.Fprintf(&e, `\u%04x`, r)
			continue
		}
		e.WriteRune(r)
	}
	return e.Bytes()
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
//
// Unlike tabwriter, it keeps what it holds compactly until flush: each
// line as its escaped cells joined by tabs (which escaped cells cannot
// hold), in chunks that are never copied to grow, and the widest cell of
// each column so far. So token list of 100,000 accounts holds little more
// than the text it prints, and no pointer for the collector to scan. When
// the lines have different numbers of cells, flush hands them to
// tabwriter, which works out its blocks.
type table struct {
	w io.Writer
	// text holds the lines, each ended by a newline, in chunks of
	// tableChunk bytes (a line that does not fit in what is left starts
	// the next chunk).
	text               [][]byte
	line               []byte // the line being made, reused
	lines              int
	minCells, maxCells int   // of the lines held
	widths             []int // the widest cell of each column, in runes
	err                error // the first write error
}

// tableChunk is the size of a chunk of a table's text.
const tableChunk = 64 << 10

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
	line := t.line[:0]
	for i, c := range cells {
		c = tui.Escape(cellSpace.Replace(c))
		if i > 0 {
			line = append(line, '\t')
		}
		line = append(line, c...)
		if i == len(t.widths) {
			t.widths = append(t.widths, 0)
		}
		t.widths[i] = max(t.widths[i], utf8.RuneCountInString(c))
	}
	line = append(line, '\n')
	t.line = line
	if n := len(t.text); n == 0 || cap(t.text[n-1])-len(t.text[n-1]) < len(line) {
		t.text = append(t.text, make([]byte, 0, max(tableChunk, len(line))))
	}
	last := &t.text[len(t.text)-1]
	*last = append(*last, line...)
	n := max(len(cells), 1) // an empty line is one empty cell, as tabwriter has it
	if t.lines == 0 {
		t.minCells, t.maxCells = n, n
	}
	t.minCells, t.maxCells = min(t.minCells, n), max(t.maxCells, n)
	t.lines++
	if n == 1 {
		// No column goes past a line of one cell: tabwriter writes out
		// what it has there.
		t.err = cmp.Or(t.err, t.flush())
	}
}

// flush writes the lines held so far, aligned, and forgets them.
func (t *table) flush() error {
	if t.lines == 0 {
		return t.err
	}
	w := bufio.NewWriterSize(t.w, 64<<10)
	if t.minCells == t.maxCells {
		// Every line has a cell in every column but the last: each
		// column is one block, as wide as its widest cell.
		widths := make([]int, t.maxCells-1)
		for i := range widths {
			widths[i] = t.widths[i] + tablePadding
		}
		for _, chunk := range t.text {
			for len(chunk) > 0 {
				end := bytes.IndexByte(chunk, '\n')
				writeLine(w, chunk[:end], widths)
				chunk = chunk[end+1:]
			}
		}
	} else {
		// Lines of different lengths: tabwriter works out its blocks.
		tw := tabwriter.NewWriter(w, 0, 4, tablePadding, ' ', 0)
		for _, chunk := range t.text {
			tw.Write(chunk)
		}
		t.err = cmp.Or(t.err, tw.Flush())
	}
	t.text, t.lines, t.widths = nil, 0, t.widths[:0]
	t.err = cmp.Or(t.err, w.Flush())
	return t.err
}

// writeLine writes one line of a table, each cell in a column padded to
// the column's width; a write error stays in w.
func writeLine(w *bufio.Writer, line []byte, widths []int) {
	for j := 0; ; j++ {
		end := bytes.IndexByte(line, '\t')
		if end < 0 {
			end = len(line)
		}
		w.Write(line[:end])
		if j < len(widths) {
			for n := widths[j] - utf8.RuneCount(line[:end]); n > 0; n -= len(spaces) {
				w.WriteString(spaces[:min(n, len(spaces))])
			}
		}
		if end == len(line) {
			break
		}
		line = line[end+1:]
	}
	w.WriteByte('\n')
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
