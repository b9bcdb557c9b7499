package jws

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// FuzzScanRaw holds scanRaw to the walk it stands in front of: whatever
// it takes, selectRaw takes too, with the same members (names, order and
// the very bytes of each value), and encoding/json decodes it into an
// object; for the header's parameters as for the claims.
func FuzzScanRaw(f *testing.F) {
	for _, seed := range selectSeeds {
		f.Add([]byte(seed))
	}
	for _, seed := range scanSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, want := range []Want{fuzzWant, headerWant} {
			got, ok := scanRaw(data, want, nil)
			if !ok {
				continue // selectRaw reads it, as before
			}
			if _, problem := decodeObject(data, "payload"); problem != "" {
				t.Fatalf("%q: scanned although encoding/json says %s", data, problem)
			}
			walked, ok := selectRaw(data, want, nil)
			if !ok {
				t.Fatalf("%q: scanned, but the walk does not take it", data)
			}
			if len(got) != len(walked) {
				t.Fatalf("%q: scanned %q, walked %q", data, got, walked)
			}
			for i := range got {
				if got[i].Name != walked[i].Name || !bytes.Equal(got[i].Value, walked[i].Value) {
					t.Fatalf("%q: scanned %q, walked %q", data, got, walked)
				}
			}
		}
	})
}

// scanSeeds are the shapes scanRaw takes, and their near misses.
var scanSeeds = []string{
	`{"alg":"RS256","kid":"k1","typ":"JWT"}`, `{"alg":"RS256","alg":"ES256"}`, `{"alg":"RS256","kid":null,"crit":["exp"],"jwk":{"kty":"RSA"}}`,
	`{"iss":"https://op/realms/main","aud":["a","b"],"exp":1700000000,"iat":1.5,"realm_access":{"roles":["r1","r2"]},"email_verified":false}`,
	`{"a":"\u00e9\n\t\"\\\/\b\f\r"}`, `{"a":"é😀"}`, `{"a":"\uD800"}`, `{"a":"\uZZZZ"}`, `{"a":"\u12"}`, "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc3\"}",
	`{"a":-0,"x":0.0,"n":-12.5e+3}`, `{"a":1E-400}`, `{"a":1e309}`, `{"a":-1e308}`, `{"a":00}`, `{"a":-}`, `{"a":1.e3}`, `{"a":+1}`,
	`{"a":` + strings.Repeat("9", 300) + `}`, `{"a":` + strings.Repeat("9", 309) + `}`, `{"a":` + strings.Repeat("9", 310) + `}`,
	`{"a":0.` + strings.Repeat("9", 400) + `}`, `{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`,
	`{"a":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`, ` { "a" : [ 1 , { } , [ ] , { "b" : null } ] } ` + "\n",
	`{"a":{"\u0061":1,"":2,"a":3}}`, `{"a":[1,2,]}`, `{"a":{"b":1,}}`, `{"a":1,}`, `{"a"`, `{"a":`, `{"a":tr}`, `{"a":nul}`, `{"a":true}}`,
	"{\"a\x7f\":1}", "{\"a\":\"\x7f\"}", `{"a":"x"}` + "\x00", "{\"a\":1}\v",
}

// TestScanTakesUsualTokens: the headers and payloads of the usual
// providers' tokens go through scanRaw, not the slower walk; an unusual
// one (an escaped name, which the walk compares unescaped) goes to the
// walk and is read as before.
func TestScanTakesUsualTokens(t *testing.T) {
	for _, tc := range []struct {
		data string
		scan bool
	}{
		{`{"alg":"RS256","typ":"JWT","kid":"bench-RS256"}`, true},
		{`{"typ":"JWT","alg":"RS256","x5t":"nOo3ZDrODXEK1jKWhXslHR_KXEg","kid":"nOo3ZDrODXEK1jKWhXslHR_KXEg"}`, true},
		{`{"exp":1700000300,"iat":1700000000,"jti":"0e0b6c5e-2f6b","iss":"https:\/\/idp.example\/realms\/main","aud":["billing","account"],` +
			`"sub":"f:2d1b:svc-billing","typ":"Bearer","azp":"billing","session_state":"6a2f","acr":"1","realm_access":{"roles":["offline_access","tickets"]},` +
			`"resource_access":{"account":{"roles":["manage-account","view-profile"]}},"scope":"openid profile email tickets","email_verified":false,` +
			`"clientHost":"10.0.0.17","preferred_username":"svc-billing","name":"Zoë Ça","client_id":"billing"}`, true},
		{`{"i\u0073s":"x","iss":"y"}`, false},
	} {
		data := []byte(tc.data)
		if _, ok := scanRaw(data, fuzzWant, nil); ok != tc.scan {
			t.Errorf("%s: scanned %v, want %v", tc.data, ok, tc.scan)
		}
		got, ok := readRaw(data, fuzzWant, nil)
		walked, walkOK := selectRaw(data, fuzzWant, nil)
		if !ok || !walkOK || len(got) != len(walked) {
			t.Fatalf("%s: read %q %v, walked %q %v", tc.data, got, ok, walked, walkOK)
		}
		for i := range got {
			if got[i].Name != walked[i].Name || !bytes.Equal(got[i].Value, walked[i].Value) {
				t.Errorf("%s: read %q, walked %q", tc.data, got, walked)
			}
		}
	}
	// Through ParseRaw: a token of the benchmark's shape.
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	claims, _ := json.Marshal(map[string]any{"iss": "https://op", "aud": []string{"a"}, "exp": 1700000000, "realm_access": map[string]any{"roles": []string{"r"}}})
	tok := ParseRaw(enc(`{"alg":"RS256","kid":"k1"}`)+"."+enc(string(claims))+".c2ln", fuzzWant)
	if tok.Problem != "" || tok.Alg != "RS256" || tok.KID != "k1" || !tok.RawClaims.Has("realm_access") || !tok.RawClaims.Has("exp") {
		t.Errorf("ParseRaw: %q %q %q %q", tok.Problem, tok.Alg, tok.KID, tok.RawClaims)
	}
}

// FuzzScanLookup holds Lookup and Elements, which try the scanner first,
// to the jsontext walks they had before (walkLookup, walkElements), on
// any input: the same value found, the same elements yielded in the same
// order, also when the caller stops early.
func FuzzScanLookup(f *testing.F) {
	for _, seed := range selectSeeds {
		f.Add([]byte(seed), "a", 2)
	}
	for _, seed := range scanSeeds {
		f.Add([]byte(seed), "alg", 1)
	}
	for _, seed := range []string{
		`{"roles":["a","b"],"roles":["c"]}`, `{"r\u006fles":1,"roles":2}`, `{"a":1,"b":{"c":[1,2]}}x`, `{a":1}`, `{"a":1 "b":2}`,
		`["a","b",3,{"c":null},[]]`, `[1 2]`, `[1,,2]`, `[1,2]x`, `["\ud800",1e999,"x"]`, "[\"\xff\",1]", `[` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,1]`,
		`{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,"a":1}`, `{}`, `[]`, `{ }`, `[ ]`, `{"é":1}`, `{"":2}`,
	} {
		f.Add([]byte(seed), "roles", 1)
		f.Add([]byte(seed), "a", 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, name string, stop int) {
		if len(data) > 0 && data[0] == '{' {
			v, ok := Lookup(data, name)
			wv, wok := walkLookup(data, name)
			if ok != wok || !bytes.Equal(v, wv) {
				t.Fatalf("Lookup(%q, %q) = %q %v, the walk %q %v", data, name, v, ok, wv, wok)
			}
		}
		collect := func(elements func([]byte, func([]byte) bool)) (got [][]byte) {
			elements(data, func(e []byte) bool {
				got = append(got, e)
				return len(got) != stop
			})
			return got
		}
		got := collect(Elements)
		walked := collect(func(raw []byte, yield func([]byte) bool) {
			if len(raw) > 0 && raw[0] == '[' {
				walkElements(raw, 0, yield)
			}
		})
		if len(got) != len(walked) {
			t.Fatalf("Elements(%q) stopping at %d: %q, the walk %q", data, stop, got, walked)
		}
		for i := range got {
			if !bytes.Equal(got[i], walked[i]) {
				t.Fatalf("Elements(%q) stopping at %d: %q, the walk %q", data, stop, got, walked)
			}
		}
	})
}

// FuzzParseFloat holds parseFloat's shortcut for plain integers to
// strconv.ParseFloat, which encoding/json uses.
func FuzzParseFloat(f *testing.F) {
	for _, seed := range []string{"0", "00", "007", "1700000000", "999999999999999", "9999999999999999", "-0", "-1", "1.5", "1e3", "", "+1", "1_0", "0x10", " 1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if ok != (err == nil) || ok && (got != want || math.Signbit(got) != math.Signbit(want)) {
			t.Fatalf("parseFloat(%q) = %v %v, strconv.ParseFloat %v %v", s, got, ok, want, err)
		}
	})
}
