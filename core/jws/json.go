package jws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// The header and the claims are decoded with fastjson, the parser that
// jwx itself uses for its fast header access (jws/jwsbb): about three
// times as fast as encoding/json into a map, which was a third of a first
// validation. fastjson.Validate first checks the input strictly (RFC 8259:
// escapes, control characters, number grammar), and the tree is turned
// into exactly what encoding/json would give for a map[string]any
// (map[string]any, []any, string, float64, bool, nil; the last of
// duplicate keys wins; invalid UTF-8 becomes U+FFFD byte by byte). A
// differential fuzz test (FuzzDecodeObject) holds it to that.

var parsers fastjson.ParserPool

// decodeObject decodes JSON that must be an object. problem says what is
// wrong, "" when nothing is.
func decodeObject(data []byte, what string) (m map[string]any, problem string) {
	if surrogateEscape(data) {
		// fastjson keeps a lone surrogate escape as it is, encoding/json
		// makes it U+FFFD: let encoding/json do such rare input.
		return decodeStd(data, what)
	}
	if err := fastjson.ValidateBytes(data); err != nil {
		return nil, fmt.Sprintf("the %s is not JSON: %v", what, err)
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(data)
	if err != nil {
		return nil, fmt.Sprintf("the %s is not JSON: %v", what, err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, fmt.Sprintf("the %s is JSON but not an object", what)
	}
	out, err := toGo(v)
	if err != nil {
		return nil, fmt.Sprintf("the %s is not usable JSON: %v", what, err)
	}
	return out.(map[string]any), ""
}

// surrogateEscape reports whether data may hold a \uD800-\uDFFF escape.
func surrogateEscape(data []byte) bool {
	for {
		i := bytes.Index(data, []byte(`\u`))
		if i < 0 || i+2 >= len(data) {
			return false
		}
		if c := data[i+2]; c == 'd' || c == 'D' {
			return true
		}
		data = data[i+2:]
	}
}

// decodeStd is decodeObject with encoding/json.
func decodeStd(data []byte, what string) (map[string]any, string) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Value != "number" && !strings.HasPrefix(te.Value, "number ") {
			return nil, fmt.Sprintf("the %s is JSON but not an object", what)
		}
		return nil, fmt.Sprintf("the %s is not JSON: %v", what, err)
	}
	if m == nil {
		return nil, fmt.Sprintf("the %s is JSON but not an object", what)
	}
	return m, ""
}

var errNumberRange = errors.New("a number is out of range")

// toGo turns a parsed value into encoding/json's generic form. The
// parser's buffers are reused: every string is copied.
func toGo(v *fastjson.Value) (any, error) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := make(map[string]any, o.Len())
		var err error
		o.Visit(func(k []byte, e *fastjson.Value) {
			if err != nil {
				return
			}
			var x any
			if x, err = toGo(e); err == nil {
				m[keyString(k)] = x
			}
		})
		return m, err
	case fastjson.TypeArray:
		a, _ := v.Array()
		out := make([]any, len(a))
		for i, e := range a {
			x, err := toGo(e)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case fastjson.TypeString:
		return utf8String(v.GetStringBytes()), nil
	case fastjson.TypeNumber:
		// strconv, not fastjson's own float parser, which rounds some
		// exponents differently (4.927e1).
		// Integers (exp, iat, nbf …) as they are; anything else through
		// strconv, not fastjson's own float parser, which rounds some
		// exponents differently (4.927e1).
		if n, err := v.Int64(); err == nil && n > -1<<53 && n < 1<<53 {
			return float64(n), nil
		}
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil {
			return nil, errNumberRange
		}
		return f, nil
	case fastjson.TypeTrue:
		return true, nil
	case fastjson.TypeFalse:
		return false, nil
	}
	return nil, nil
}

// keyString is utf8String for an object key; the names of common claims
// and header parameters come without an allocation.
func keyString(k []byte) string {
	switch string(k) {
	case "iss":
		return "iss"
	case "sub":
		return "sub"
	case "aud":
		return "aud"
	case "exp":
		return "exp"
	case "nbf":
		return "nbf"
	case "iat":
		return "iat"
	case "jti":
		return "jti"
	case "azp":
		return "azp"
	case "scope":
		return "scope"
	case "scp":
		return "scp"
	case "client_id":
		return "client_id"
	case "typ":
		return "typ"
	case "sid":
		return "sid"
	case "acr":
		return "acr"
	case "amr":
		return "amr"
	case "auth_time":
		return "auth_time"
	case "nonce":
		return "nonce"
	case "at_hash":
		return "at_hash"
	case "email":
		return "email"
	case "email_verified":
		return "email_verified"
	case "name":
		return "name"
	case "given_name":
		return "given_name"
	case "family_name":
		return "family_name"
	case "preferred_username":
		return "preferred_username"
	case "roles":
		return "roles"
	case "groups":
		return "groups"
	case "realm_access":
		return "realm_access"
	case "resource_access":
		return "resource_access"
	case "account":
		return "account"
	case "tid":
		return "tid"
	case "ver":
		return "ver"
	case "oid":
		return "oid"
	case "appid":
		return "appid"
	case "appidacr":
		return "appidacr"
	case "azpacr":
		return "azpacr"
	case "idp":
		return "idp"
	case "upn":
		return "upn"
	case "unique_name":
		return "unique_name"
	case "uti":
		return "uti"
	case "rh":
		return "rh"
	case "aio":
		return "aio"
	case "wids":
		return "wids"
	case "session_state":
		return "session_state"
	case "cnf":
		return "cnf"
	case "act":
		return "act"
	case "alg":
		return "alg"
	case "kid":
		return "kid"
	case "x5t":
		return "x5t"
	case "jwk":
		return "jwk"
	case "jku":
		return "jku"
	case "x5u":
		return "x5u"
	case "x5c":
		return "x5c"
	case "crit":
		return "crit"
	case "enc":
		return "enc"
	case "cty":
		return "cty"
	case "zip":
		return "zip"
	case "b64":
		return "b64"
	case "active":
		return "active"
	case "token_type":
		return "token_type"
	case "username":
		return "username"
	}
	return utf8String(k)
}

// utf8String copies b into a string, replacing each byte that is not part
// of valid UTF-8 with U+FFFD, as encoding/json does.
func utf8String(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	s.Grow(len(b) + 8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			s.WriteRune(utf8.RuneError)
		} else {
			s.Write(b[:size])
		}
		b = b[size:]
	}
	return s.String()
}
