package jws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// Want picks the claims ParseSelected keeps: for a top-level claim name
// it returns the key to keep it under (a string equal to name that the
// caller owns, so that no key is allocated) and whether to keep it. name
// is only valid during the call.
type Want func(name string) (key string, ok bool)

// ParseSelected is Parse for a caller that reads only some claims (the
// checks of an incoming token), without the cost of the whole claims map:
// Claims holds the top-level claims that want picks, each decoded exactly
// as encoding/json decodes it into a map[string]any, so exactly as Parse
// has it; Header holds alg and kid and, where the token has them, the
// parameters that the checks refuse or explain (EmbeddedKeyHeaders, crit,
// nonce). The payload is judged as Parse judges it: when it is not an
// object of valid JSON whose numbers fit a float64, or anything is
// unusual (an escaped or non-UTF-8 claim name), the whole payload is
// decoded as Parse does it and its Problem is Parse's.
//
// The walk over the payload is jsontext's (the tokenizer of the coming
// encoding/json/v2), not a scanner of our own: encoding/json (json.Valid)
// stays the judge of the syntax, and the values kept are decoded by
// encoding/json or, for plain strings and numbers, by the same
// conversions it makes. (ParseRaw, on the path of every incoming token,
// puts a scanner of its own in front of the walk, see scanRaw: it only
// takes what the walk would take, and leaves every refusal to it.)
func ParseSelected(token string, want Want) Token {
	return parse(token, want)
}

// headerWant picks the header parameters ParseSelected keeps.
func headerWant(name string) (string, bool) {
	switch name {
	case "alg":
		return "alg", true
	case "kid":
		return "kid", true
	case "jwk":
		return "jwk", true
	case "jku":
		return "jku", true
	case "x5u":
		return "x5u", true
	case "x5c":
		return "x5c", true
	case "crit":
		return "crit", true
	case "nonce":
		return "nonce", true
	}
	return "", false
}

// walker is a pooled jsontext decoder over a payload.
type walker struct {
	dec jsontext.Decoder
	rd  bytes.Reader
}

var walkers = sync.Pool{New: func() any { return new(walker) }}

// walkOptions make jsontext as lenient as encoding/json: a repeated name
// (the last one counts) and invalid UTF-8 in strings are allowed.
var walkOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// selectClaims decodes the claims of payload that want picks; ok is false
// when the payload must be decoded whole (see ParseSelected).
// size is the map's size hint (a map of up to 8 is one allocation less).
func selectClaims(payload []byte, want Want, size int) (claims map[string]any, ok bool) {
	if !json.Valid(payload) {
		return nil, false
	}
	w := walkers.Get().(*walker)
	defer walkers.Put(w)
	w.rd.Reset(payload)
	w.dec.Reset(&w.rd, walkOptions...)
	defer w.rd.Reset(nil)
	if tok, err := w.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, false
	}
	for w.dec.PeekKind() != '}' {
		start := w.dec.InputOffset()
		if _, err := w.dec.ReadToken(); err != nil {
			return nil, false
		}
		name := trimSeparators(payload[start:w.dec.InputOffset()])
		if len(name) < 2 || bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			return nil, false
		}
		name = name[1 : len(name)-1]
		start = w.dec.InputOffset()
		if !w.skipValue(payload) {
			return nil, false
		}
		key, keep := want(unsafe.String(unsafe.SliceData(name), len(name)))
		if !keep {
			continue
		}
		v, ok := decodeValue(trimSeparators(payload[start:w.dec.InputOffset()]))
		if !ok {
			return nil, false
		}
		if claims == nil {
			claims = make(map[string]any, size)
		}
		claims[key] = v // a repeated name: the last one counts, as in encoding/json
	}
	if claims == nil {
		claims = map[string]any{}
	}
	return claims, true
}

// selectRaw is selectClaims keeping raw values: it appends the members
// of payload that want picks to members. A member name with escapes is
// compared unescaped, as encoding/json has it.
//
// The walk is the judge of the syntax here, not json.Valid, which would
// read the payload a second time (a tenth of a first validation's CPU
// time): jsontext accepts no JSON that encoding/json refuses (with
// AllowInvalidUTF8 and AllowDuplicateNames, as encoding/json; the same
// nesting limit), and what follows the object must be the end.
// FuzzRawMembers holds it to decodeObject.
func selectRaw(payload []byte, want Want, members Members) (Members, bool) {
	w := walkers.Get().(*walker)
	defer walkers.Put(w)
	w.rd.Reset(payload)
	w.dec.Reset(&w.rd, walkOptions...)
	defer w.rd.Reset(nil)
	if tok, err := w.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, false
	}
	for w.dec.PeekKind() != '}' {
		start := w.dec.InputOffset()
		if _, err := w.dec.ReadToken(); err != nil {
			return nil, false
		}
		name, ok := memberName(trimSeparators(payload[start:w.dec.InputOffset()]))
		if !ok {
			return nil, false
		}
		start = w.dec.InputOffset()
		if !w.skipValue(payload) {
			return nil, false
		}
		if key, keep := want(name); keep {
			members = members.set(key, trimSeparators(payload[start:w.dec.InputOffset()]))
		}
	}
	if _, err := w.dec.ReadToken(); err != nil { // the closing brace
		return nil, false
	}
	if _, err := w.dec.ReadToken(); err != io.EOF {
		return nil, false // more after the object
	}
	return members, true
}

// rawFromObject is selectRaw by way of encoding/json, for a payload that
// the walk did not take: it gives decodeObject's problem or, should the
// payload decode after all, the members want picks, each value encoded
// again as JSON.
func rawFromObject(data []byte, what string, want Want) (Members, string) {
	m, problem := decodeObject(data, what)
	if problem != "" {
		return nil, problem
	}
	var members Members
	for name, v := range m {
		key, keep := want(name)
		if !keep {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Sprintf("the %s cannot be read: %v", what, err)
		}
		members = members.set(key, b)
	}
	return members, ""
}

// skipValue reads the next value, checking that each of its numbers fits
// a float64 (encoding/json refuses the payload otherwise).
func (w *walker) skipValue(payload []byte) bool {
	depth := w.dec.StackDepth()
	for {
		start := w.dec.InputOffset()
		tok, err := w.dec.ReadToken()
		if err != nil {
			return false
		}
		if tok.Kind() == '0' {
			if _, ok := parseFloat(trimSeparators(payload[start:w.dec.InputOffset()])); !ok {
				return false
			}
		}
		if w.dec.StackDepth() == depth {
			return true
		}
	}
}

// decodeValue decodes one JSON value as encoding/json decodes it into an
// any: plain strings and numbers by the conversions it makes, the rest by
// encoding/json itself.
func decodeValue(raw []byte) (any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	switch raw[0] {
	case '"':
		if s := raw[1 : len(raw)-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
			return string(s), true
		}
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	case '{', '[':
	default:
		f, ok := parseFloat(raw)
		if !ok {
			return nil, false
		}
		return f, true
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	return v, true
}

// parseFloat is encoding/json's conversion of a number into an any
// (which holds a float64).
func parseFloat(raw []byte) (float64, bool) {
	if f, ok := plainInteger(raw); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64) // read only
	if err != nil {
		return 0, false
	}
	return f, true
}

// plainInteger converts up to 15 digits and nothing else (an exp or an
// iat): an integer that a float64 holds exactly, which is what
// strconv.ParseFloat gives, at a fraction of its cost.
func plainInteger(raw []byte) (float64, bool) {
	if len(raw) == 0 || len(raw) > 15 {
		return 0, false
	}
	var n uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return float64(n), true
}

// trimSeparators drops the whitespace, commas and colons that jsontext's
// offsets leave before a token.
func trimSeparators(b []byte) []byte {
	for len(b) > 0 {
		switch b[0] {
		case ' ', '\t', '\r', '\n', ',', ':':
			b = b[1:]
			continue
		}
		break
	}
	return b
}
