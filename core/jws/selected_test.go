package jws

import (
	"encoding/base64"
	"reflect"
	"testing"
)

// fuzzWant picks a few names, among them names of the seeds.
func fuzzWant(name string) (string, bool) {
	for _, n := range []string{"a", "s", "n", "x", "lone", "bad", "big", "iss", "aud", "exp", "realm_access", "\u00e9", "a.b"} {
		if n == name {
			return n, true
		}
	}
	return "", false
}

var selectSeeds = []string{
	`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"x":1},"a":{"y":2}}`, ` {"a" : [1, "b", null, true, false, {"c": -0.5e-3}]} `,
	`{"s":"\u00e9\ud83d\ude00\n\"\\\/"}`, `{"lone":"\ud800"}`, `{"bad":"\xff\xfe"}`, "{\"\xff\":1}",
	`{"big":1e400}`, `{"other":1e400}`, `{"other":{"deep":[1,2,-1e999]}}`, `{"n":-0}`, `{"n":01}`, `{"n":1.}`,
	`{"x":"\x01"}`, `[1]`, `null`, `"s"`, `1`, `{"a":1}x`, `{"a":1,}`, `{'a':1}`, `{"a":"\q"}`, `{"a":"\u12"}`,
	`{"a":12345678901234567890123}`, `{"a":0.1}`, `{"a":1.7976931348623157e308}`, `{"a":4.9e-324}`,
	"\ufeff{}", `{"a":tru}`, `{"a":NaN}`, `{"A":1}`, `{"\u0061":1}`, `{"ISS":"x","iss":"y","Iss":"z"}`,
	`{"aud":["x",1,null],"exp":1700000000.5,"realm_access":{"roles":["r1","r2"]},"a.b":"dotted"}`,
	`{"\u00e9":"accent","a":null}`,
}

// FuzzSelectClaims holds selectClaims to encoding/json: it decodes only a
// payload that encoding/json decodes into an object, and every claim it
// keeps is the very value encoding/json gives, under the very same name
// (never a name that differs in case or escaping), present exactly when
// encoding/json has it.
func FuzzSelectClaims(f *testing.F) {
	for _, seed := range selectSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		full, problem := decodeObject(data, "payload")
		sel, ok := selectClaims(data, fuzzWant, 8)
		if !ok {
			return // Parse decodes the whole payload then
		}
		if problem != "" {
			t.Fatalf("%q: selected although encoding/json says %s", data, problem)
		}
		for name, v := range sel {
			if _, want := fuzzWant(name); !want {
				t.Fatalf("%q: %q kept, not asked for", data, name)
			}
			if w, there := full[name]; !there || !reflect.DeepEqual(v, w) {
				t.Fatalf("%q: %q is %#v, encoding/json has %#v (%v)", data, name, v, w, there)
			}
		}
		for name := range full {
			if _, want := fuzzWant(name); want {
				if _, there := sel[name]; !there {
					t.Fatalf("%q: %q missing", data, name)
				}
			}
		}
	})
}

// TestParseSelectedProblems: for a token that cannot be read, ParseSelected
// says what Parse says; for one that can, it has the claims asked for, as
// Parse has them, and no others.
func TestParseSelectedProblems(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`))
	for _, payload := range selectSeeds {
		for _, tok := range []string{
			header + "." + enc([]byte(payload)) + ".c2ln",
			enc([]byte(payload)) + "." + enc([]byte(`{"iss":"x"}`)) + ".c2ln",
		} {
			all, sel := Parse(tok), ParseSelected(tok, fuzzWant)
			if sel.Problem != all.Problem || sel.Alg != all.Alg || sel.KID != all.KID {
				t.Errorf("%s: ParseSelected %q %q %q, Parse %q %q %q", payload, sel.Problem, sel.Alg, sel.KID, all.Problem, all.Alg, all.KID)
			}
			if all.Problem != "" {
				continue
			}
			for name, v := range sel.Claims {
				if w, there := all.Claims[name]; !there || !reflect.DeepEqual(v, w) {
					t.Errorf("%s: %q is %#v, Parse has %#v", payload, name, v, w)
				}
			}
		}
	}
	// A header parameter the checks do not read is left out; those they
	// read are there.
	tok := enc([]byte(`{"alg":"ES256","kid":"k","typ":"JWT","jku":"https://x","crit":["b64"],"nonce":"n","x-other":1}`)) + "." + enc([]byte(`{"iss":"x","sub":"y"}`)) + ".c2ln"
	sel := ParseSelected(tok, fuzzWant)
	want := map[string]any{"alg": "ES256", "kid": "k", "jku": "https://x", "crit": []any{"b64"}, "nonce": "n"}
	if !reflect.DeepEqual(sel.Header, want) || sel.Problem != "" {
		t.Errorf("header %#v (%s), want %#v", sel.Header, sel.Problem, want)
	}
	if !reflect.DeepEqual(sel.Claims, map[string]any{"iss": "x"}) {
		t.Errorf("claims %#v: want iss only", sel.Claims)
	}
}
