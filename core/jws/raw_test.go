package jws

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

// checkRaw holds one value read by String, Number, Bool, Lookup and
// Elements to v, the value encoding/json decodes from the same JSON.
func checkRaw(t *testing.T, data, raw []byte, v any) {
	t.Helper()
	s, isString := String(raw)
	if want, ok := v.(string); ok != isString || s != want {
		t.Fatalf("%q: String(%q) = %q %v, encoding/json has %#v", data, raw, s, isString, v)
	}
	f, isNum := Number(raw)
	if want, ok := v.(float64); ok != isNum || f != want && f == f {
		t.Fatalf("%q: Number(%q) = %v %v, encoding/json has %#v", data, raw, f, isNum, v)
	}
	b, isBool := Bool(raw)
	if want, ok := v.(bool); ok != isBool || b != want {
		t.Fatalf("%q: Bool(%q) = %v %v, encoding/json has %#v", data, raw, b, isBool, v)
	}
	if m, ok := v.(map[string]any); ok {
		for name, w := range m {
			got, there := Lookup(raw, name)
			if !there {
				t.Fatalf("%q: Lookup(%q, %q) finds nothing, encoding/json has %#v", data, raw, name, w)
			}
			checkRaw(t, data, got, w)
		}
		for _, name := range []string{"", "a", "roles", "A", "x.y", "\ufffd"} {
			if _, there := m[name]; !there {
				if got, found := Lookup(raw, name); found {
					t.Fatalf("%q: Lookup(%q, %q) = %q, encoding/json has no such member", data, raw, name, got)
				}
			}
		}
	} else if _, found := Lookup(raw, "a"); found {
		t.Fatalf("%q: Lookup in %q, not an object, found something", data, raw)
	}
	var elems [][]byte
	Elements(raw, func(e []byte) bool { elems = append(elems, e); return true })
	list, isList := v.([]any)
	if len(elems) != len(list) || !isList && elems != nil {
		t.Fatalf("%q: Elements(%q) gives %d, encoding/json has %#v", data, raw, len(elems), v)
	}
	for i, e := range elems {
		checkRaw(t, data, e, list[i])
	}
}

// FuzzRawMembers holds ParseRaw's reading to encoding/json: selectRaw
// (or rawFromObject after it) refuses exactly what encoding/json refuses,
// with the same problem; it keeps exactly the wanted members, under the
// names encoding/json has (escapes resolved, never another case); and
// every value read through String, Number, Bool, Lookup and Elements, to
// any depth, is the value encoding/json decodes.
func FuzzRawMembers(f *testing.F) {
	for _, seed := range selectSeeds {
		f.Add([]byte(seed))
	}
	for _, seed := range []string{`{"\u0069ss":"x","iss":"y"}`, `{"i\ss":1}`, `{"realm_access":{"roles":["a","b"],"r\u006fles":["c"]}}`,
		`{"aud":["a","\u0062",["c"],{"d":1}]}`, `{"a":{"":1,"x.y":2}}`, "{\"a\":{\"\xff\":1,\"\ufffd\":2}}",
		`{"a":1} `, `{"a":1}{}`, `{"a":1} 1`, `{"a":1}]`, `{"a":"\ud800\udc00\udbff"}`, "{\"a\":\"\x7f\x00\"}", "\t{}\r\n",
		`{"a":[1,]}`, `{"a":01.5}`, `{"a":-}`, `{"a":1e}`, `{"a":.5}`, `{"a":"\u00"}`, `{,}`, `{"a"}`, `{"a":1 "b":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		full, problem := decodeObject(data, "payload")
		members, ok := selectRaw(data, fuzzWant, nil)
		if !ok {
			var p string
			members, p = rawFromObject(data, "payload", fuzzWant)
			if p != problem {
				t.Fatalf("%q: rawFromObject says %q, decodeObject %q", data, p, problem)
			}
		} else if problem != "" {
			t.Fatalf("%q: read although encoding/json says %s", data, problem)
		}
		if problem != "" {
			return
		}
		want := map[string]any{}
		for name, v := range full {
			if _, keep := fuzzWant(name); keep {
				want[name] = v
			}
		}
		if got := members.Map(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: Map() = %#v, encoding/json has %#v", data, got, want)
		}
		for name, v := range want {
			raw, there := members.Get(name)
			if !there {
				t.Fatalf("%q: %q missing", data, name)
			}
			checkRaw(t, data, raw, v)
		}
	})
}

// TestParseRawAsParse: ParseRaw gives the Problem, Alg and KID of Parse,
// and the members of the payload that want picks.
func TestParseRawAsParse(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ header, payload string }{
		{`{"alg":"RS256","kid":"k1"}`, `{"iss":"https://op","aud":["a","b"],"exp":1e9,"x":1}`},
		{`{"alg":"RS256","kid":null}`, `{"iss":"x"}`},
		{`{"alg":null}`, `{}`},
		{`{"kid":"k"}`, `{}`},
		{`{"alg":1}`, `{}`},
		{`{"alg":"ES256","kid":7}`, `{}`},
		{`{"alg":"H\u0053256","jwk":{},"crit":["x"],"nonce":"n"}`, `{"iss":"x"}`},
		{`{"alg":"RS256"}`, `[1]`},
		{`{"alg":"RS256"}`, `{"a":1e999}`},
		{`[]`, `{}`},
		{`{"alg":"RS256"}`, `{"iss":"x"`},
		// encoding/json's nesting limit, which the walk must keep too.
		{`{"alg":"RS256"}`, `{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`},
		{`{"alg":"RS256"}`, `{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`},
		{`{"alg":"RS256"}`, `{"x":` + strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000) + `}`},
	} {
		tok := b64(tc.header) + "." + b64(tc.payload) + ".c2ln"
		want, got := Parse(tok), ParseRaw(tok, fuzzWant)
		if got.Problem != want.Problem || got.Alg != want.Alg || got.KID != want.KID {
			t.Errorf("%s.%s: ParseRaw %q %q %q, Parse %q %q %q", tc.header, tc.payload, got.Problem, got.Alg, got.KID, want.Problem, want.Alg, want.KID)
		}
		if want.Problem != "" {
			continue
		}
		for name := range want.Header {
			if _, keep := headerWant(name); keep != got.RawHeader.Has(name) {
				t.Errorf("%s: header %q kept %v", tc.header, name, !keep)
			}
		}
		if got.Header != nil || got.Claims != nil {
			t.Errorf("ParseRaw decoded maps")
		}
	}
}
