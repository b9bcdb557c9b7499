package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"oidcctl/core"
)

// rawControl returns the first control character (other than a line
// break or a tab), C1 control or bidirectional override in s, or -1.
func rawControl(s string) rune {
	if !utf8.ValidString(s) {
		return utf8.RuneError
	}
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return r
		}
	}
	return -1
}

// TestOutputEscapesControlCharacters: a user made from a token with a
// terminal escape in its sub (as serve did before it refused them), and a
// debugger entry of a caller's, print on the terminal as visible escapes,
// never as the raw bytes that would retitle or clear it; JSON stays valid
// and escapes them too.
func TestOutputEscapesControlCharacters(t *testing.T) {
	c := newCLI(t)
	c.ok("user", "list") // creates the database and its key
	const evil = "evil\x1b]0;pwned\x07x"
	ctx := context.Background()
	store := openSQLite(t, c.env["OIDCCTL_DB"])
	defer store.Close()
	if err := store.CreateUser(ctx, core.User{Login: evil, Email: "e\x1b[2J@example.test", FirstName: "A\u009b31m",
		LastName: "\u202eB", Roles: []string{"r\x07"}, Profile: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := store.AddDebugEntries(ctx, []core.DebugEntry{{
		Time: time.Now().UTC(), RequestID: "r1", Direction: core.DirectionForwardAuth, Method: "GET",
		Path: "/x\x1b]0;t\x07", Status: 401, User: evil, Verdict: "refused", Reason: "r\x1b[2J",
		RequestHeader: http.Header{"X-Evil": {"\x1b[31mred"}}, RequestBody: []byte("line1\r\nline2\x1b[2J\n"),
		ResponseHeader: http.Header{}, ResponseBody: []byte("{}"),
		TokenClaims: `{"header":{"alg":"RS256"},"claims":{"sub":"s","groups":["ops\u001b[2J"]}}`,
	}}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	for _, args := range [][]string{
		{"user", "list"}, {"user", "show", evil}, {"debug", "list"}, {"debug", "show", "1"},
		{"user", "list", "-o", "json"}, {"user", "show", evil, "-o", "json"}, {"debug", "show", "1", "-o", "json"},
		{"user", "show", "nobody\x1b[2J"}, // an error that quotes the argument
	} {
		r := c.run("", args...)
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if ch := rawControl(out); ch >= 0 {
				t.Errorf("oidcctl %q: %s holds the raw %U:\n%q", args, name, ch, out)
			}
		}
		if strings.HasSuffix(args[len(args)-1], "json") && !json.Valid([]byte(r.stdout)) {
			t.Errorf("oidcctl %q: not JSON:\n%s", args, r.stdout)
		}
	}
	// What the values hold is shown, escaped.
	for args, want := range map[string][]string{
		"user list": {`evil\x1b]0;pwned\x07x`, `A\u009b31m \u202eB`, `r\x07`},
		"debug show 1": {`/x\x1b]0;t\x07`, `X-Evil: \x1b[31mred`, "line1\n  line2\\x1b[2J", `r\x1b[2J`,
			"Token header and claims (no signature):\n  {\n    \"header\": {", `"groups": [`},
		"debug show 1 -o json": {`"token_claims": {`, `"ops\u001b[2J"`},
	} {
		out := c.ok(strings.Fields(args)...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", args, w, out)
			}
		}
	}
	var users []map[string]any
	if err := json.Unmarshal([]byte(c.ok("user", "list", "-o", "json")), &users); err != nil || len(users) != 1 ||
		users[0]["login"] != evil || users[0]["first_name"] != "A\u009b31m" {
		t.Fatalf("JSON round trip: %v %v", users, err)
	}
}
