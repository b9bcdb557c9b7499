package serve

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// TestWriteOwnedCapture: an answer written as its own (writeOwned) is
// captured for the debugger as Write captures it: whole within the
// limit, cut at the limit beyond it, and a later Write adds to the
// capture without changing the answer's bytes.
func TestWriteOwnedCapture(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		body  string
		more  string
		want  string
		cut   bool
	}{
		{"within the limit", 64, `{"error":"x"}`, "", `{"error":"x"}`, false},
		{"within, then more", 64, `{"error":"x"}`, "more", `{"error":"x"}more`, false},
		{"beyond the limit", 4, `{"error":"x"}`, "", `{"er`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			buf := &bodyBuffer{limit: tc.limit}
			w := &responseWriter{ResponseWriter: rec, body: buf}
			b := []byte(tc.body)
			if n, err := w.writeOwned(b); n != len(b) || err != nil {
				t.Fatalf("writeOwned: %d %v", n, err)
			}
			if tc.more != "" {
				_, _ = w.Write([]byte(tc.more))
			}
			got, cut := buf.bytes()
			if string(got) != tc.want || cut != tc.cut {
				t.Errorf("captured %q (cut %v), want %q (cut %v)", got, cut, tc.want, tc.cut)
			}
			if string(b) != tc.body {
				t.Errorf("the answer's bytes changed: %q", b)
			}
			if rec.Body.String() != tc.body+tc.more || w.status != http.StatusOK || w.written != int64(len(tc.body)+len(tc.more)) {
				t.Errorf("answer %q status %d written %d", rec.Body.String(), w.status, w.written)
			}
		})
	}
}
