package core

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// CheckName returns an error when s, a name or identifier given by a person
// (a profile, account, webservice or user name, a role, a claim, a scope,
// a client id ...), holds what no name needs and what would let it change
// a terminal, a log line or an HTTP header it is written to: control
// characters (C0 such as ESC, newline and tab, DEL, C1), line and paragraph
// separators, the bidirectional overrides and isolates that make text read
// in another order than it is stored, or bytes that are not UTF-8.
//
// It checks only that; whether a name is required, or what else it must
// look like, is the caller's to say.
func CheckName(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if forbiddenInName(r) {
			return fmt.Errorf("%q holds the control character %U; names and identifiers must be printable", s, r)
		}
	}
	return nil
}

func forbiddenInName(r rune) bool {
	switch {
	case unicode.IsControl(r): // C0, DEL, C1
		return true
	case r == '\u2028' || r == '\u2029': // line and paragraph separators
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
		return true // bidirectional embeddings, overrides, isolates and marks
	}
	return false
}

// checkNames adds a problem to v for each of values that CheckName refuses.
func (v *ValidationError) checkNames(field string, values ...string) {
	for _, s := range values {
		if err := CheckName(s); err != nil {
			v.add(field, err.Error())
		}
	}
}
