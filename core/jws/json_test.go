package jws

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeObject holds decodeObject to encoding/json: the same inputs
// are objects, and they decode to the same values.
func FuzzDecodeObject(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"x":1},"a":{"y":2}}`, ` {"a" : [1, "b", null, true, false, {"c": -0.5e-3}]} `,
		`{"s":"\u00e9\ud83d\ude00\n\"\\\/"}`, `{"lone":"\ud800"}`, `{"bad":"\xff\xfe"}`, "{\"\xff\":1}",
		`{"big":1e400}`, `{"n":-0}`, `{"n":01}`, `{"n":1.}`, `{"n":.5}`, `{"n":1e}`, `{"x":"\x01"}`,
		`[1]`, `null`, `"s"`, `1`, `{"a":1}x`, `{"a":1,}`, `{'a':1}`, `{"a":"\q"}`, `{"a":"\u12"}`,
		`{"a":12345678901234567890123}`, `{"a":0.1}`, `{"a":1.7976931348623157e308}`, `{"a":4.9e-324}`,
		"\ufeff{}", `{"a":tru}`, `{"a":NaN}`, `{"a":Infinity}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]any
		stdErr := json.Unmarshal(data, &want)
		stdOK := stdErr == nil && want != nil
		got, problem := decodeObject(data, "payload")
		if stdOK != (problem == "") {
			t.Fatalf("%q: encoding/json ok=%v (%v), decodeObject problem %q", data, stdOK, stdErr, problem)
		}
		if stdOK && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got  %#v\n want %#v", data, got, want)
		}
	})
}
