package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape makes s safe to print on a terminal as one line: every control
// character (C0, DEL, C1; line breaks and tabs too), the bidirectional
// embeddings, overrides and isolates (which reorder what follows them),
// and every byte that is not UTF-8 become visible escapes (\x1b, \n,
// \u009b, \u202e, \xff). A value from a token, a caller or a provider,
// printed raw, could retitle, clear or rewrite the administrator's
// terminal; escaped, it shows what it is. Everything else stays as it is.
func Escape(s string) string { return escape(s, false) }

// EscapeText is Escape for text of several lines: line breaks and tabs
// stay, a carriage return before a line break goes.
func EscapeText(s string) string { return escape(s, true) }

func escape(s string, text bool) string {
	if clean(s, text) {
		return s
	}
	if text {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case text && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// clean reports whether s has nothing to escape, quickly for ASCII.
func clean(s string, text bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
		case text && (c == '\n' || c == '\t'):
		case c >= 0x80:
			// Decode the rest the slow way.
			for _, r := range s[i:] {
				if r == utf8.RuneError || r < 0x20 && !(text && (r == '\n' || r == '\t')) || r == 0x7f || unsafeRune(r) {
					return false
				}
			}
			return true
		default:
			return false
		}
	}
	return true
}

// unsafeRune: C1 controls and the bidirectional formatting characters.
func unsafeRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}
