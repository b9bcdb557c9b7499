package jws

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
	"unsafe"
)

// Member is one member of a JSON object that ParseRaw kept: its name (the
// key Want gave) and its value as raw JSON, a slice of the decoded token.
type Member struct {
	Name  string
	Value []byte
}

// Members are the members of a JSON object that ParseRaw kept, each name
// once, with its last value (as encoding/json keeps a repeated name).
// The values are valid JSON whose numbers fit a float64; read them with
// String, Number, Lookup and Elements, or decode them all with Map.
type Members []Member

// Get returns the raw value of the member name.
func (m Members) Get(name string) ([]byte, bool) {
	for i := range m {
		if m[i].Name == name {
			return m[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether the member name is there.
func (m Members) Has(name string) bool {
	_, ok := m.Get(name)
	return ok
}

// Map decodes the members as encoding/json decodes the object into a
// map[string]any (what ParseSelected's Claims hold).
func (m Members) Map() map[string]any {
	out := make(map[string]any, len(m))
	for _, mb := range m {
		v, _ := decodeValue(mb.Value) // valid: the walk checked it
		out[mb.Name] = v
	}
	return out
}

// set keeps value under name, replacing an earlier member of that name.
func (m Members) set(name string, value []byte) Members {
	for i := range m {
		if m[i].Name == name {
			m[i].Value = value
			return m
		}
	}
	return append(m, Member{name, value})
}

// ParseRaw is ParseSelected without decoding the claims: RawHeader and
// RawClaims hold the raw JSON of the header parameters ParseSelected keeps
// and of the claims that want picks, and Header and Claims stay nil. The
// checks of an incoming token read them with String, Number, Lookup and
// Elements, which allocate only for a string with escapes: a value is a
// slice of the decoded token and a plain string aliases it. The payload
// is judged as Parse judges it (the same Problem).
func ParseRaw(token string, want Want) Token {
	return parseWith(token, want, true)
}

// String returns raw JSON that is a string as encoding/json decodes it;
// ok is false for any other value. A string without escapes and of valid
// UTF-8 is not copied: it shares raw's memory.
func String(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if s := raw[1 : len(raw)-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return unsafe.String(unsafe.SliceData(s), len(s)), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// Number returns raw JSON that is a number as encoding/json decodes it
// into an any; ok is false for any other value.
func Number(raw []byte) (float64, bool) {
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, false
	}
	return parseFloat(raw)
}

// Bool returns raw JSON that is true or false.
func Bool(raw []byte) (value, ok bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Lookup returns the value of the member name of raw JSON that is an
// object (the last one, as encoding/json keeps it; a member name with
// escapes is compared unescaped); ok is false when raw is not an object
// or has no such member.
func Lookup(raw []byte, name string) (value []byte, ok bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	if value, ok, done := scanLookup(raw, name); done {
		return value, ok
	}
	return walkLookup(raw, name)
}

// walkLookup is Lookup by jsontext's walk, for what scanLookup does not
// take.
func walkLookup(raw []byte, name string) (value []byte, ok bool) {
	w := walkers.Get().(*walker)
	defer walkers.Put(w)
	w.rd.Reset(raw)
	w.dec.Reset(&w.rd, walkOptions...)
	defer w.rd.Reset(nil)
	if _, err := w.dec.ReadToken(); err != nil {
		return nil, false
	}
	for w.dec.PeekKind() != '}' {
		start := w.dec.InputOffset()
		if _, err := w.dec.ReadToken(); err != nil {
			return nil, false
		}
		n, isName := memberName(trimSeparators(raw[start:w.dec.InputOffset()]))
		if !isName {
			return nil, false
		}
		start = w.dec.InputOffset()
		if !w.skipValue(raw) {
			return nil, false
		}
		if n == name {
			value, ok = trimSeparators(raw[start:w.dec.InputOffset()]), true
		}
	}
	return value, ok
}

// Elements calls yield with each element of raw JSON that is an array, in
// order, until yield returns false; it does nothing for another value.
func Elements(raw []byte, yield func(elem []byte) bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return
	}
	if n, done := scanElements(raw, yield); !done {
		walkElements(raw, n, yield)
	}
}

// walkElements is Elements by jsontext's walk from the element skip on,
// for what scanElements does not take.
func walkElements(raw []byte, skip int, yield func(elem []byte) bool) {
	w := walkers.Get().(*walker)
	defer walkers.Put(w)
	w.rd.Reset(raw)
	w.dec.Reset(&w.rd, walkOptions...)
	defer w.rd.Reset(nil)
	if _, err := w.dec.ReadToken(); err != nil {
		return
	}
	for i := 0; w.dec.PeekKind() != ']'; i++ {
		start := w.dec.InputOffset()
		if !w.skipValue(raw) {
			return
		}
		if i >= skip && !yield(trimSeparators(raw[start:w.dec.InputOffset()])) {
			return
		}
	}
}

// memberName decodes a member name token as encoding/json does: a name
// without escapes and of valid UTF-8 as it is (sharing the token's
// memory), any other by encoding/json (escapes resolved, invalid UTF-8
// replaced).
func memberName(tok []byte) (string, bool) {
	if len(tok) < 2 {
		return "", false
	}
	return String(tok)
}
