package tui_test

import (
	"strings"
	"testing"

	"oidcctl/tui"
)

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ in, line, text string }{
		{"plain ASCII", "plain ASCII", "plain ASCII"},
		{"Jürgen 東京 ✓", "Jürgen 東京 ✓", "Jürgen 東京 ✓"},
		{"evil\x1b]0;pwned\x07x", `evil\x1b]0;pwned\x07x`, `evil\x1b]0;pwned\x07x`},
		{"clear\x1b[2J\x1b[H", `clear\x1b[2J\x1b[H`, `clear\x1b[2J\x1b[H`},
		{"a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"crlf\r\nnext\rover", `crlf\r\nnext\rover`, "crlf\nnext\\rover"},
		{"nul\x00del\x7f", `nul\x00del\x7f`, `nul\x00del\x7f`},
		{"c1\u009b31m", `c1\u009b31m`, `c1\u009b31m`},
		{"bidi\u202eevil\u2066", `bidi\u202eevil\u2066`, `bidi\u202eevil\u2066`},
		{"bad\xff\xc3", `bad\xff\xc3`, `bad\xff\xc3`},
		{"", "", ""},
	} {
		if got := tui.Escape(tt.in); got != tt.line {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.line)
		}
		if got := tui.EscapeText(tt.in); got != tt.text {
			t.Errorf("EscapeText(%q) = %q, want %q", tt.in, got, tt.text)
		}
	}
}

// The console's widgets escape what they are given: a table cell and a
// text value from a token print as escapes, not as the sequences that
// retitle (OSC 0) or clear (CSI 2J) the terminal.
func TestWidgetsEscapeValues(t *testing.T) {
	const evil = "evil\x1b]0;pwned\x07x\x1b[2J"
	tb := tui.NewRowTable(tui.NewStyles(false), tui.Column{Title: "LOGIN", Width: 40})
	tb.SetSize(50, 5)
	rows := []tui.Row{{Key: "k", Cells: []string{evil}}, {Key: "k2", Cells: []string{"clean"}}}
	tb.SetItems(rows)
	txt := tui.NewText(tui.NewStyles(false), 60)
	txt.Heading(evil)
	txt.KV(0, "sub\x1b[2J", 8, evil, tui.NewStyles(false).Normal)
	txt.Hang("- ", 2, evil, tui.NewStyles(false).Normal)
	txt.Muted(evil)
	for name, view := range map[string]string{"table": tb.View(), "text": txt.String()} {
		// The widgets' own styles are SGR sequences; nothing else may be.
		if strings.Contains(view, "\x1b]") || strings.Contains(view, "\x07") || strings.Contains(view, "\x1b[2J") {
			t.Errorf("%s holds raw escapes: %q", name, view)
		}
		if !strings.Contains(view, `evil\x1b]0;pwned\x07x`) {
			t.Errorf("%s does not show the value escaped: %q", name, view)
		}
	}
	if rows[0].Cells[0] != evil {
		t.Error("SetItems changed the caller's rows")
	}
	if r, _ := tb.Selected(); r.Key != "k" {
		t.Errorf("selected %q", r.Key)
	}
}
