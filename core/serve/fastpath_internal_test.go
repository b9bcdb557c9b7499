package serve

import (
	"encoding/json"
	"testing"
)

// TestErrorBodyJSON: the answer's body, written directly when no string
// needs escaping, is byte for byte what json.Marshal makes of it, and so
// is it when a string needs escaping (quotes, HTML's <, > and &, control
// characters, non-ASCII, invalid UTF-8, U+2028).
func TestErrorBodyJSON(t *testing.T) {
	for _, b := range []errorBody{
		{"invalid_token", "The access token is not valid.", "0123456789abcdef"},
		{"", "", ""},
		{"not_found", `no route "/x": oidcctl serves /auth`, "req-1"},
		{"bad_request", "a <b> & c", "id"},
		{"x", "tab\there, newline\n, nul \x00", "id"},
		{"x", "caf\u00e9 \u2028 \u2029 …", "id"},
		{"x", "bad \xff utf-8", "id"},
		{"x", `back\slash and DEL` + "\x7f", "id.with_dots-1"},
	} {
		want, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if got := b.json(); string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", b, got, want)
		}
	}
}
