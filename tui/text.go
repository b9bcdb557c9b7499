package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Text collects the lines of a page of text for a width, such as an
// inspected token or a recorded call, for a Pager: headings, plain lines,
// and keys with values that wrap under themselves.
type Text struct {
	st    Styles
	width int
	lines []string
}

// NewText returns an empty text for width columns.
func NewText(st Styles, width int) *Text { return &Text{st: st, width: max(1, width)} }

// String is the text, one line a row.
func (t *Text) String() string { return strings.Join(t.lines, "\n") }

// Line adds a line as it is; the caller keeps it within the width and
// escapes (Escape) what it did not write itself.
func (t *Text) Line(s string) { t.lines = append(t.lines, s) }

// Blank adds an empty line.
func (t *Text) Blank() { t.lines = append(t.lines, "") }

// Heading adds a heading in the primary tone.
func (t *Text) Heading(s string) { t.Line(t.st.Primary.Render(Truncate(Escape(s), t.width))) }

// Muted adds text in the muted tone, wrapped.
func (t *Text) Muted(s string) {
	for _, l := range Wrap(EscapeText(s), t.width) {
		t.Line(t.st.Muted.Render(l))
	}
}

// KV adds a key (muted, padded to keyWidth) and its value in style, after
// indent spaces; the value wraps under itself. Both are escaped
// (EscapeText): they may come from a token or a caller.
func (t *Text) KV(indent int, k string, keyWidth int, v string, style lipgloss.Style) {
	k = Escape(k)
	lead := strings.Repeat(" ", indent)
	t.Hang(lead+t.st.Muted.Render(PadRight(k, keyWidth))+"  ", indent+max(keyWidth, ansi.StringWidth(k))+2, v, style)
}

// Hang adds prefix (prefixWidth columns wide) and v wrapped into the rest
// of the line, continued at the same column; when the rest is too narrow
// the value goes under the prefix instead. v is escaped (EscapeText): it
// may come from a token or a caller; the prefix, which may be styled, is
// the caller's to escape.
func (t *Text) Hang(prefix string, prefixWidth int, v string, style lipgloss.Style) {
	v = EscapeText(v)
	room := t.width - prefixWidth
	if room < 16 {
		t.Line(prefix)
		prefixWidth = min(prefixWidth, 4)
		prefix = strings.Repeat(" ", prefixWidth)
		room = t.width - prefixWidth
	}
	pad := strings.Repeat(" ", prefixWidth)
	for i, l := range Wrap(v, room) {
		if i == 0 {
			t.Line(prefix + style.Render(l))
			continue
		}
		t.Line(pad + style.Render(l))
	}
}

// Wrap breaks plain text into lines of at most width columns, at spaces
// where it can and inside words where it must; line breaks in s stay.
func Wrap(s string, width int) []string {
	width = max(1, width)
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		lines = append(lines, wrapSpaces(para, width)...)
	}
	return lines
}

// wrapSpaces wraps one paragraph at its spaces only: a hyphen is no place
// to break, since commands in messages (oidcctl user add --email …) must
// read, and copy, whole. A word wider than the line is cut hard.
func wrapSpaces(s string, width int) []string {
	var lines []string
	line, lineW := "", 0
	for i, word := range strings.Split(s, " ") {
		w := ansi.StringWidth(word)
		switch {
		case i == 0:
			line, lineW = word, w
		case lineW+1+w <= width:
			line, lineW = line+" "+word, lineW+1+w
		default:
			lines = append(lines, line)
			line, lineW = word, w
		}
		for lineW > width {
			lines = append(lines, ansi.Truncate(line, width, ""))
			line = ansi.TruncateLeft(line, width, "")
			lineW = ansi.StringWidth(line)
		}
	}
	return append(lines, strings.TrimRight(line, " "))
}

// Truncate cuts s to w columns, marking the cut with "…".
func Truncate(s string, w int) string {
	if ansi.StringWidth(s) <= w || w <= 1 {
		return s
	}
	return ansi.Truncate(s, w-1, "") + "…"
}

// PadRight fills s with spaces to w columns.
func PadRight(s string, w int) string { return padTo(s, w) }
