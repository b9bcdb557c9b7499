package jws

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
)

// readRaw is scanRaw, or selectRaw for what scanRaw does not take.
func readRaw(data []byte, want Want, members Members) (Members, bool) {
	if m, ok := scanRaw(data, want, members); ok {
		return m, true
	}
	return selectRaw(data, want, members)
}

// scanRaw is selectRaw for the usual header and payload, by a small
// scanner of our own instead of jsontext's tokenizer, whose cost per token
// was most of a first validation's time outside crypto/rsa (the walk of a
// Keycloak-like payload took 6% of it, the header's another 1%).
//
// It takes only what it is sure encoding/json decodes into an object, and
// gives exactly the members selectRaw gives (FuzzScanRaw holds it to
// selectRaw and decodeObject); ok is false for anything unusual, and then
// selectRaw (and after it rawFromObject) reads the JSON and says what is
// wrong, as before. Unusual is: a top-level member name that is not
// printable ASCII without escapes (selectRaw compares it unescaped), a
// string that is not valid UTF-8 (encoding/json replaces the bytes),
// nesting deeper than scanMaxDepth, a number with an exponent or longer
// than scanPlainNumber that does not fit a float64, and any JSON error.
// A repeated name keeps its last value, as in selectRaw.
func scanRaw(data []byte, want Want, members Members) (Members, bool) {
	s := scanner{data: data}
	var seen uint64 // nameBit of the names kept
	for _, m := range members {
		seen |= nameBit(m.Name)
	}
	s.space()
	if !s.next('{') {
		return nil, false
	}
	s.space()
	if !s.next('}') {
		for {
			name, ok := s.plainName()
			if !ok {
				return nil, false
			}
			s.space()
			if !s.next(':') {
				return nil, false
			}
			s.space()
			start := s.i
			if !s.value(1) {
				return nil, false
			}
			if key, keep := want(name); keep {
				// set looks for an earlier member of the name, which
				// only one whose bit is set can be.
				if bit := nameBit(key); seen&bit == 0 {
					seen |= bit
					members = append(members, Member{key, data[start:s.i]})
				} else {
					members = members.set(key, data[start:s.i])
				}
			}
			s.space()
			if s.next(',') {
				s.space()
				continue
			}
			if s.next('}') {
				break
			}
			return nil, false
		}
	}
	s.space()
	if s.i != len(data) {
		return nil, false // more after the object
	}
	return members, true
}

// scanLookup is Lookup by the scanner, for raw that is an object: done
// is false when walkLookup must do it (a member name with escapes, which
// Lookup compares unescaped, or anything scanRaw would not take).
func scanLookup(raw []byte, name string) (value []byte, ok, done bool) {
	s := scanner{data: raw, i: 1}
	s.space()
	if s.next('}') {
		return nil, false, true
	}
	for {
		start := s.i
		if !s.name() {
			return nil, false, false
		}
		n := raw[start+1 : s.i-1]
		if bytes.IndexByte(n, '\\') >= 0 {
			return nil, false, false
		}
		s.space()
		if !s.next(':') {
			return nil, false, false
		}
		s.space()
		start = s.i
		if !s.value(1) {
			return nil, false, false
		}
		if string(n) == name {
			value, ok = raw[start:s.i], true // the last one counts
		}
		s.space()
		if s.next(',') {
			s.space()
			continue
		}
		if s.next('}') {
			return value, ok, true
		}
		return nil, false, false
	}
}

// scanElements is Elements by the scanner, for raw that is an array: done
// is false when it met something scanRaw would not take, and then
// walkElements must go on from element n (those before were yielded).
func scanElements(raw []byte, yield func(elem []byte) bool) (n int, done bool) {
	s := scanner{data: raw, i: 1}
	s.space()
	if s.next(']') {
		return 0, true
	}
	for ; ; n++ {
		start := s.i
		if !s.value(1) {
			return n, false
		}
		if !yield(raw[start:s.i]) {
			return n, true
		}
		s.space()
		if s.next(',') {
			s.space()
			continue
		}
		if s.next(']') {
			return n, true
		}
		return n + 1, false
	}
}

// nameBit is one bit of 64 for a name, from its length and its ends.
func nameBit(name string) uint64 {
	h := uint(len(name))
	if len(name) > 0 {
		h = h*31 + uint(name[0])*7 + uint(name[len(name)-1])
	}
	return 1 << (h & 63)
}

// scanMaxDepth is the deepest nesting scanRaw reads (the object itself is
// 1); deeper JSON goes to selectRaw, which keeps encoding/json's limit.
const scanMaxDepth = 32

// scanPlainNumber is the longest number without an exponent that scanRaw
// takes without converting it: such a number is below 1e300, so it fits a
// float64. A longer one, or one with an exponent, is converted as
// encoding/json converts it.
const scanPlainNumber = 300

// scanner reads JSON from data at i.
type scanner struct {
	data []byte
	i    int
}

// next consumes c if it comes next.
func (s *scanner) next(c byte) bool {
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// space skips JSON whitespace.
func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// plainName reads a member name of printable ASCII without escapes, and
// returns it sharing data's memory.
func (s *scanner) plainName() (string, bool) {
	if !s.next('"') {
		return "", false
	}
	start := s.i
	for ; s.i < len(s.data); s.i++ {
		switch c := s.data[s.i]; {
		case c == '"':
			name := s.data[start:s.i]
			s.i++
			return unsafe.String(unsafe.SliceData(name), len(name)), true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return "", false
		}
	}
	return "", false
}

// value reads one JSON value at the given depth (of the value's parent).
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; c {
	case '"':
		return s.str()
	case '{':
		return depth < scanMaxDepth && s.object(depth+1)
	case '[':
		return depth < scanMaxDepth && s.array(depth+1)
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return s.number()
		}
		return false
	}
}

// object reads a nested object, whose names may be any strings.
func (s *scanner) object(depth int) bool {
	s.i++ // {
	s.space()
	if s.next('}') {
		return true
	}
	for {
		if !s.name() {
			return false
		}
		s.space()
		if !s.next(':') {
			return false
		}
		s.space()
		if !s.value(depth) {
			return false
		}
		s.space()
		if s.next(',') {
			s.space()
			continue
		}
		return s.next('}')
	}
}

// array reads an array.
func (s *scanner) array(depth int) bool {
	s.i++ // [
	s.space()
	if s.next(']') {
		return true
	}
	for {
		if !s.value(depth) {
			return false
		}
		s.space()
		if s.next(',') {
			s.space()
			continue
		}
		return s.next(']')
	}
}

// literal reads true, false or null.
func (s *scanner) literal(word string) bool {
	if len(s.data)-s.i < len(word) || string(s.data[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// name reads a string that is a member name.
func (s *scanner) name() bool {
	return s.i < len(s.data) && s.data[s.i] == '"' && s.str()
}

// str reads a string, at its opening quote, of valid UTF-8 with valid
// escapes.
func (s *scanner) str() bool {
	data, i := s.data, s.i+1 // after the "
	for i < len(data) {
		// The usual bytes, in a tight loop.
		for i < len(data) && plainByte[data[i]] {
			i++
		}
		if i >= len(data) {
			break
		}
		switch c := data[i]; {
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(data) {
				return false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(data)-i < 6 {
					return false
				}
				for _, h := range data[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				return false
			}
			i += n
		}
	}
	return false
}

// plainByte are the bytes a string holds as they are: printable ASCII
// but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// number reads a JSON number that fits a float64.
func (s *scanner) number() bool {
	start := s.i
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.data) && '1' <= s.data[s.i] && s.data[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.next('.') && !s.digits() {
		return false
	}
	exp := false
	if s.next('e') || s.next('E') {
		exp = true
		if !s.next('+') {
			s.next('-')
		}
		if !s.digits() {
			return false
		}
	}
	if exp || s.i-start > scanPlainNumber {
		_, ok := parseFloat(s.data[start:s.i])
		return ok
	}
	return true
}

// digits reads one or more decimal digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.data) && '0' <= s.data[s.i] && s.data[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
