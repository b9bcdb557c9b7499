package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/oidctest"
)

// durationWords are parts of a JSON name that say it holds a duration,
// which must then be a number of seconds named …_seconds.
var durationWords = []string{"age", "ttl", "leeway", "interval", "timeout", "duration", "took", "elapsed", "lifetime", "uptime", "expires_in", "latency", "offset"}

// goDuration matches a Go duration string ("1h0m0s", "300ms", "2.5s").
var goDuration = regexp.MustCompile(`^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$`)

// looksLikeTime matches what a person would read as a date and time.
var looksLikeTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]\d\d:\d\d`)

// jsonUnitProblems walks a -o json value and names every time that is not
// RFC 3339 in UTC, every duration that is not a number of seconds named
// …_seconds, and every number too large to be anything but nanoseconds.
func jsonUnitProblems(path string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := path + "." + k
			out = append(out, jsonUnitProblems(p, e)...)
			switch e := e.(type) {
			case float64:
				if strings.HasSuffix(k, "_seconds") {
					break
				}
				for _, w := range durationWords {
					if k == w || strings.HasPrefix(k, w+"_") || strings.HasSuffix(k, "_"+w) || strings.Contains(k, "_"+w+"_") {
						out = append(out, fmt.Sprintf("%s = %v: a duration without _seconds in its name", p, e))
						break
					}
				}
			case string:
				if strings.HasSuffix(k, "_seconds") {
					out = append(out, fmt.Sprintf("%s = %q: _seconds names a number", p, e))
				}
				// served_at is the table's SERVED AT: a path, not a time.
				if (strings.HasSuffix(k, "_at") && k != "served_at" || k == "time") && e != "" && !looksLikeTime.MatchString(e) {
					out = append(out, fmt.Sprintf("%s = %q: not a time", p, e))
				}
			case nil:
			default:
				if strings.HasSuffix(k, "_seconds") {
					out = append(out, fmt.Sprintf("%s = %v: _seconds names a number", p, e))
				}
			}
		}
	case []any:
		for i, e := range v {
			out = append(out, jsonUnitProblems(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
	case string:
		if looksLikeTime.MatchString(v) {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil || !strings.HasSuffix(v, "Z") {
				out = append(out, fmt.Sprintf("%s = %q: not RFC 3339 in UTC", path, v))
			}
		}
		if goDuration.MatchString(v) && strings.ContainsAny(v, "hmsµ") {
			out = append(out, fmt.Sprintf("%s = %q: a Go duration, not a number of seconds", path, v))
		}
	case float64:
		if v > 1e11 || v < -1e11 {
			out = append(out, fmt.Sprintf("%s = %v: too large for seconds (nanoseconds?)", path, v))
		}
	}
	return out
}

// TestJSONUnits: every -o json output of the command line (but profile
// and account, whose format is the configuration's) gives times in RFC
// 3339 (UTC; fractional seconds where they order calls, as the
// debugger's) and durations as numbers of seconds named …_seconds. It
// extends TestJSONNames, which checks names one by one, to every command.
func TestJSONUnits(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	c.ok("webservice", "add", "tickets", "--provider", "--profile", "service", "--route", "/t", "--method", "GET", "--upstream", "http://127.0.0.1:9/", "--debug-max-age", "2d")
	c.ok("webservice", "add", "out", "--requester", "--account", "billing", "--endpoint", "http://127.0.0.1:9", "--path", "/r", "--method", "GET")
	c.ok("webservice", "credential", "add", "out", "script")
	c.ok("user", "add", "ann", "--email", "ann@example.test", "--role", "reader")
	tok := strings.TrimSpace(c.ok("token", "get", "billing"))

	// Calls in the debugger and a serve process, as serve records them.
	ctx := context.Background()
	store := openSQLite(t, c.env["OIDCCTL_DB"])
	defer store.Close()
	now := time.Now().UTC()
	if err := store.AddDebugEntries(ctx, []core.DebugEntry{
		{Time: now.Add(-1500 * time.Millisecond), Webservice: "tickets", RequestID: "r1", Direction: core.DirectionIncoming, Method: "GET", Path: "/t",
			Status: 200, Duration: 2500 * time.Microsecond, User: "ann", Verdict: "accepted",
			RequestHeader: http.Header{"Accept": {"*/*"}}, ResponseHeader: http.Header{}, ResponseBody: []byte("{}")},
		{Time: now.Add(-1400 * time.Millisecond), Webservice: "tickets", RequestID: "r2", Direction: core.DirectionIncoming, Method: "GET", Path: "/t",
			Status: 401, Duration: 90 * time.Second, Verdict: "refused", Reason: "expired"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutServeStatus(ctx, core.ServeStatus{Instance: "vm:1", Listen: "127.0.0.1:8085", StartedAt: now.Add(-time.Hour),
		Heartbeat: now, LastRefreshRun: now.Add(-time.Minute), LastRefreshRenewed: 1}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	commands := [][]string{
		{"version"},
		{"token", "get", "billing"},
		{"token", "list"},
		{"token", "inspect", tok, "--profile", "service"},
		{"profile", "keys", "service"},
		{"profile", "test", "service"},
		{"webservice", "list"},
		{"webservice", "show", "tickets"},
		{"webservice", "show", "out"},
		{"webservice", "credential", "list", "out"},
		{"user", "list"},
		{"user", "show", "ann"},
		{"config", "get"},
		{"serve", "status"},
		{"debug", "list"},
		{"debug", "show", "1"},
		{"debug", "show", "2"},
		{"db", "migrate"},
		{"token", "refresh", "billing"},
		{"webservice", "credential", "add", "out", "cron"},
	}
	check := func(args ...string) {
		t.Helper()
		r := c.run("", append(args, "-o", "json")...)
		if r.code != 0 && !slices.Contains(args, "inspect") { // inspect exits 1 for a refused token
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
			return
		}
		var v any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Errorf("%v: %v\n%s", args, err, r.stdout)
			return
		}
		for _, p := range jsonUnitProblems(strings.Join(args, " "), v) {
			t.Error(p)
		}
	}
	for _, args := range commands {
		check(args...)
	}

	// profile test measures its fetches in seconds.
	var report map[string]any
	if err := json.Unmarshal([]byte(c.ok("profile", "test", "service", "-o", "json")), &report); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"duration_seconds", "jwks_duration_seconds"} {
		if d, _ := report[k].(float64); d <= 0 || d > 60 {
			t.Errorf("profile test %s = %v, want the seconds the fetch took", k, report[k])
		}
	}

	// The debugger keeps fractional seconds, which order calls within a
	// second, and gives each call's duration in seconds.
	var calls []map[string]any
	if err := json.Unmarshal([]byte(c.ok("debug", "list", "-o", "json")), &calls); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("debug list: %d calls", len(calls))
	}
	var times []time.Time
	for _, call := range calls {
		s, _ := call["time"].(string)
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("debug list time %q: %v", s, err)
		}
		times = append(times, tm)
	}
	if !times[0].After(times[1]) {
		t.Errorf("debug list times %v: the newer call does not order first", times)
	}
	want := map[string]float64{"r1": 0.0025, "r2": 90}
	for _, call := range calls {
		if got := call["duration_seconds"]; got != want[call["request_id"].(string)] {
			t.Errorf("debug list %v duration_seconds = %v, want %v", call["request_id"], got, want[call["request_id"].(string)])
		}
	}
	check("debug", "clear", "--yes") // last: it empties the debugger
}
