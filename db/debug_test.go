package db

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/internal/testkit"
)

// fullDebugEntry returns entry i of webservice ws ("" for forward-auth
// without one) with every field but ID set; its time is t0 + i seconds,
// with milliseconds, as stored.
func fullDebugEntry(ws string, i int) core.DebugEntry {
	direction := core.DirectionIncoming
	if ws == "" {
		direction = core.DirectionForwardAuth
	}
	return core.DebugEntry{
		ID:         99, // ignored
		Time:       t0.Add(time.Duration(i) * time.Second),
		RequestID:  fmt.Sprintf("req-%s-%d", ws, i),
		Webservice: ws,
		Direction:  direction,
		Method:     "POST",
		Path:       fmt.Sprintf("/ws/%s/tickets/%d", ws, i),
		Status:     201,
		Duration:   1234567*time.Nanosecond + time.Duration(i),
		User:       "ada",
		Verdict:    "accepted",
		Reason:     "token valid; scope api.write granted",
		RequestHeader: http.Header{
			"Authorization":   {"Bearer [redacted]"},
			"Accept":          {"application/json", "text/plain;q=0.5"},
			"X-Forwarded-For": {"10.0.0.1", "10.0.0.2", "10.0.0.3"},
		},
		RequestBody: []byte(`{"title":"printer on fire"}` + "\x00\xff"),
		ResponseHeader: http.Header{
			"Content-Type": {"application/json"},
			"Set-Cookie":   {"a=1", "b=2"},
		},
		ResponseBody:    []byte(fmt.Sprintf(`{"id":%d}`, i)),
		BodiesTruncated: true,
		TokenClaims:     fmt.Sprintf(`{"header":{"alg":"RS256"},"claims":{"sub":"ada","n":%d}}`, i),
	}
}

// stored returns e as the log gives it back: with id, the time in UTC to
// the millisecond.
func stored(e core.DebugEntry, id int64) core.DebugEntry {
	e.ID = id
	e.Time = e.Time.Truncate(time.Millisecond).UTC()
	return e
}

// ids returns the IDs of entries, in order.
func ids(es []core.DebugEntry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// withDebugWebservices opens a test database with provider webservices
// "a" and "b".
func withDebugWebservices(t *testing.T) (*DB, *testkit.Clock) {
	t.Helper()
	d, clk := withWebserviceRefs(t)
	for _, ws := range []string{"a", "b"} {
		if err := d.CreateWebservice(context.Background(), providerWebservice(ws, "idp")); err != nil {
			t.Fatal(err)
		}
	}
	return d, clk
}

func TestDebugEntryRoundTrip(t *testing.T) {
	ctx := context.Background()
	d, clk := withDebugWebservices(t)
	full := fullDebugEntry("a", 0)
	assertFilled(t, full)
	local := fullDebugEntry("", 1)
	local.Time = time.Date(2026, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("CEST", 2*3600))
	bare := core.DebugEntry{Direction: core.DirectionOutgoing, RequestHeader: http.Header{}, RequestBody: []byte{}}
	clk.Set(t0.Add(time.Hour))

	if err := d.AddDebugEntries(ctx, []core.DebugEntry{full, local, bare}); err != nil {
		t.Fatalf("AddDebugEntries: %v", err)
	}
	wantBare := core.DebugEntry{ID: 3, Time: t0.Add(time.Hour), Direction: core.DirectionOutgoing} // db.Now; empty is nil
	want := []core.DebugEntry{stored(full, 1), stored(local, 2), wantBare}
	for _, w := range want {
		got, err := d.DebugEntry(ctx, w.ID)
		if err != nil {
			t.Fatalf("DebugEntry %d: %v", w.ID, err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", w.ID, got, w)
		}
	}
	if got := want[1].Time; got.Location() != time.UTC || !got.Equal(local.Time.Truncate(time.Millisecond)) {
		t.Errorf("local time stored as %v", got)
	}
	all, err := d.DebugEntries(ctx, core.DebugFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: bare (t0+1h), local (May), full (t0).
	if wantAll := []core.DebugEntry{want[1], want[2], want[0]}; !reflect.DeepEqual(all, wantAll) {
		t.Errorf("DebugEntries:\n got %+v\nwant %+v", all, wantAll)
	}

	// Repeated header values keep their order.
	if got := all[2].RequestHeader.Values("X-Forwarded-For"); !slices.Equal(got, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
		t.Errorf("X-Forwarded-For: %q", got)
	}

	// In the file: bodies as given (serve redacts, the store does not
	// seal), headers as JSON, the webservice by id and by name.
	var (
		body             []byte
		accepts, cookies int
		wsID             any
		wsName           string
	)
	err = d.db.QueryRow(`SELECT request_body, json_array_length(request_header, '$.Accept'),
		json_array_length(response_header, '$.Set-Cookie'), webservice_id, webservice FROM debug_log WHERE id = 1`).
		Scan(&body, &accepts, &cookies, &wsID, &wsName)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, full.RequestBody) || accepts != 2 || cookies != 2 || wsID != int64(1) || wsName != "a" {
		t.Errorf("row 1: body %q, %d Accept, %d Set-Cookie, webservice %v %q", body, accepts, cookies, wsID, wsName)
	}
	var nulls int
	if err := d.db.QueryRow(`SELECT count(*) FROM debug_log WHERE id = 3 AND webservice_id IS NULL
		AND request_body IS NULL AND response_body IS NULL AND request_header = '{}' AND response_header = '{}'`).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("bare row: %d, %v; want NULL bodies and webservice, '{}' headers", nulls, err)
	}

	// The caller's entries are not changed.
	if full.ID != 99 || local.Time.Location().String() != "CEST" {
		t.Errorf("AddDebugEntries changed its argument: %+v", full)
	}
}

func TestAddDebugEntriesOneTransaction(t *testing.T) {
	ctx := context.Background()
	d, _ := withDebugWebservices(t)
	// A trigger that fails the insert of one entry, so that the batch
	// fails in its middle.
	if _, err := d.db.Exec(`CREATE TRIGGER test_fail BEFORE INSERT ON debug_log WHEN NEW.path = '/boom'
		BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	boom := fullDebugEntry("b", 1)
	boom.Path = "/boom"
	err := d.AddDebugEntries(ctx, []core.DebugEntry{fullDebugEntry("a", 0), fullDebugEntry("", 0), boom, fullDebugEntry("a", 2)})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v, want the failed insert's error", err)
	}
	if es, err := d.DebugEntries(ctx, core.DebugFilter{}); err != nil || len(es) != 0 {
		t.Errorf("after a failed batch: %d entries, %v; want none", len(es), err)
	}

	// Without the failure all are stored, in one go, with ids in order.
	if err := d.AddDebugEntries(ctx, []core.DebugEntry{fullDebugEntry("a", 0), fullDebugEntry("", 0), fullDebugEntry("a", 2)}); err != nil {
		t.Fatal(err)
	}
	es, err := d.DebugEntries(ctx, core.DebugFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// The failed batch left nothing, not even used ids: these are 1 to 3,
	// newest first (the two at t0 by id).
	if got := ids(es); !slices.Equal(got, []int64{3, 2, 1}) {
		t.Errorf("ids, newest first: %v, want [3 2 1]", got)
	}

	// An empty batch is nothing to do.
	if err := d.AddDebugEntries(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestAddDebugEntriesOfDeletedWebservice(t *testing.T) {
	ctx := context.Background()
	d, _ := withDebugWebservices(t)
	if err := d.DeleteWebservice(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	// serve may still hold entries of a webservice the console deleted:
	// those are dropped, as its deletion would have dropped them; the rest
	// of the batch is kept.
	if err := d.AddDebugEntries(ctx, []core.DebugEntry{fullDebugEntry("a", 0), fullDebugEntry("b", 1), fullDebugEntry("", 2), fullDebugEntry("b", 3)}); err != nil {
		t.Fatal(err)
	}
	es, err := d.DebugEntries(ctx, core.DebugFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.RequestID)
	}
	if want := []string{"req--2", "req-a-0"}; !slices.Equal(got, want) {
		t.Errorf("stored: %q, want %q", got, want)
	}
}

func TestDebugEntriesFilter(t *testing.T) {
	ctx := context.Background()
	d, _ := withDebugWebservices(t)
	// id: webservice, second after t0, status, verdict. Entries 7 and 8
	// share a time: the later id comes first.
	type row struct {
		ws      string
		sec     int
		status  int
		verdict string
	}
	rows := []row{
		1: {"a", 10, 200, "accepted"},
		2: {"b", 20, 401, "refused"},
		3: {"", 30, 401, "refused"},
		4: {"a", 5, 502, "error"}, // older than 1, added later
		5: {"a", 40, 200, ""},
		6: {"b", 50, 403, "refused"},
		7: {"a", 60, 200, "accepted"},
		8: {"a", 60, 200, "accepted"},
	}
	var batch []core.DebugEntry
	for _, r := range rows[1:] {
		e := fullDebugEntry(r.ws, r.sec)
		e.Status, e.Verdict = r.status, r.verdict
		batch = append(batch, e)
	}
	if err := d.AddDebugEntries(ctx, batch); err != nil {
		t.Fatal(err)
	}
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	for _, tc := range []struct {
		name string
		f    core.DebugFilter
		want []int64
	}{
		{"all, newest first", core.DebugFilter{}, []int64{8, 7, 6, 5, 3, 2, 1, 4}},
		{"webservice a", core.DebugFilter{Webservice: "a"}, []int64{8, 7, 5, 1, 4}},
		{"webservice b", core.DebugFilter{Webservice: "b"}, []int64{6, 2}},
		{"since, inclusive", core.DebugFilter{Since: at(40)}, []int64{8, 7, 6, 5}},
		{"since, in another zone", core.DebugFilter{Since: at(40).In(time.FixedZone("X", -7*3600))}, []int64{8, 7, 6, 5}},
		{"status", core.DebugFilter{Status: 401}, []int64{3, 2}},
		{"verdict", core.DebugFilter{Verdict: "refused"}, []int64{6, 3, 2}},
		{"no token involved", core.DebugFilter{Verdict: ""}, []int64{8, 7, 6, 5, 3, 2, 1, 4}},
		{"limit", core.DebugFilter{Limit: 3}, []int64{8, 7, 6}},
		{"every filter", core.DebugFilter{Webservice: "a", Since: at(10), Status: 200, Verdict: "accepted", Limit: 2}, []int64{8, 7}},
		{"every filter, beyond the limit", core.DebugFilter{Webservice: "a", Since: at(10), Status: 200, Verdict: "accepted", Limit: 5}, []int64{8, 7, 1}},
		{"nothing matches", core.DebugFilter{Webservice: "b", Status: 200}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := d.DebugEntries(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(es); !slices.Equal(got, tc.want) {
				t.Errorf("ids: got %v, want %v", got, tc.want)
			}
			for _, e := range es {
				r := rows[e.ID]
				if e.Webservice != r.ws || e.Status != r.status || e.Verdict != r.verdict || !e.Time.Equal(at(r.sec)) {
					t.Errorf("entry %d: %q %d %q %v, want %+v", e.ID, e.Webservice, e.Status, e.Verdict, e.Time, r)
				}
			}
		})
	}
	t.Run("missing webservice", func(t *testing.T) {
		_, err := d.DebugEntries(ctx, core.DebugFilter{Webservice: "nope"})
		if want := (&core.NotFoundError{Kind: "webservice", Name: "nope"}); !reflect.DeepEqual(err, want) {
			t.Errorf("got %#v, want %#v", err, want)
		}
	})
}

func TestDebugEntriesDefaultLimit(t *testing.T) {
	ctx := context.Background()
	d, _ := withDebugWebservices(t)
	const n = DefaultDebugLimit + 30
	var batch []core.DebugEntry
	for i := range n {
		batch = append(batch, fullDebugEntry("a", i))
	}
	if err := d.AddDebugEntries(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, -1} {
		es, err := d.DebugEntries(ctx, core.DebugFilter{Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 100 || es[0].ID != n || es[99].ID != n-99 {
			t.Errorf("limit %d: %d entries from %d to %d; want the newest 100", limit, len(es), es[0].ID, es[len(es)-1].ID)
		}
	}
	if es, err := d.DebugEntries(ctx, core.DebugFilter{Limit: n + 10}); err != nil || len(es) != n {
		t.Errorf("limit beyond the count: %d, %v; want %d", len(es), err, n)
	}
}

func TestDebugEntryNotFound(t *testing.T) {
	d, _ := withDebugWebservices(t)
	_, err := d.DebugEntry(context.Background(), 42)
	if want := (&core.NotFoundError{Kind: "debug entry", Name: "42"}); !reflect.DeepEqual(err, want) {
		t.Errorf("got %#v, want %#v", err, want)
	}
}

// debugCounts returns how many entries each webservice has ("" those
// without one).
func debugCounts(t *testing.T, d *DB) map[string]int {
	t.Helper()
	es, err := d.DebugEntries(context.Background(), core.DebugFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range es {
		out[e.Webservice]++
	}
	return out
}

func TestClearDebug(t *testing.T) {
	ctx := context.Background()
	d, _ := withDebugWebservices(t)
	var batch []core.DebugEntry
	for i := range 4 {
		for _, ws := range []string{"a", "b", ""} {
			if ws != "b" || i < 2 {
				batch = append(batch, fullDebugEntry(ws, i))
			}
		}
	}
	if err := d.AddDebugEntries(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n, err := d.ClearDebug(ctx, "b"); err != nil || n != 2 {
		t.Errorf("ClearDebug b: %d, %v; want 2", n, err)
	}
	if got, want := debugCounts(t, d), map[string]int{"a": 4, "": 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("after clearing b: %v, want %v", got, want)
	}
	if n, err := d.ClearDebug(ctx, "b"); err != nil || n != 0 {
		t.Errorf("ClearDebug b again: %d, %v; want 0", n, err)
	}
	if _, err := d.ClearDebug(ctx, "nope"); !reflect.DeepEqual(err, &core.NotFoundError{Kind: "webservice", Name: "nope"}) {
		t.Errorf("ClearDebug of a missing webservice: %v", err)
	}
	if n, err := d.ClearDebug(ctx, ""); err != nil || n != 8 {
		t.Errorf("ClearDebug all: %d, %v; want 8", n, err)
	}
	if got := debugCounts(t, d); len(got) != 0 {
		t.Errorf("after clearing all: %v", got)
	}
	// The webservices stay.
	if ws, err := d.Webservices(ctx); err != nil || len(ws) != 2 {
		t.Errorf("webservices after ClearDebug: %d, %v", len(ws), err)
	}
}

func TestPruneDebug(t *testing.T) {
	ctx := context.Background()
	d, clk := withDebugWebservices(t)
	// Ten entries each of a, b and no webservice, one an hour, stamped by
	// the database's clock.
	for h := range 10 {
		clk.Set(t0.Add(time.Duration(h) * time.Hour))
		var batch []core.DebugEntry
		for _, ws := range []string{"a", "b", ""} {
			e := fullDebugEntry(ws, h)
			e.Time = time.Time{}
			batch = append(batch, e)
		}
		if err := d.AddDebugEntries(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	now := clk.Now() // t0 + 9h
	hoursOf := func(ws string) []int {
		t.Helper()
		es, err := d.DebugEntries(ctx, core.DebugFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var hours []int
		for _, e := range es {
			if e.Webservice == ws {
				hours = append(hours, int(e.Time.Sub(t0)/time.Hour))
			}
		}
		return hours
	}
	steps := []struct {
		name       string
		ws         string
		before     time.Time
		keep       int
		removed    int
		a, b, none []int
	}{
		{"no bounds", "a", time.Time{}, 0, 0,
			[]int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"age: older than 6h", "a", now.Add(-6 * time.Hour), 0, 3,
			[]int{9, 8, 7, 6, 5, 4, 3}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"count: the newest 5", "a", time.Time{}, 5, 2,
			[]int{9, 8, 7, 6, 5}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"either bound removes: age 8h or beyond 6", "b", now.Add(-8 * time.Hour), 6, 4,
			[]int{9, 8, 7, 6, 5}, []int{9, 8, 7, 6, 5, 4}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"either bound removes: age 2h or beyond 6", "b", now.Add(-2 * time.Hour), 6, 3,
			[]int{9, 8, 7, 6, 5}, []int{9, 8, 7}, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"\"\" is the entries without a webservice", "", now.Add(-3 * time.Hour), 4, 6,
			[]int{9, 8, 7, 6, 5}, []int{9, 8, 7}, []int{9, 8, 7, 6}},
		{"missing webservice: nothing", "nope", now, 1, 0,
			[]int{9, 8, 7, 6, 5}, []int{9, 8, 7}, []int{9, 8, 7, 6}},
		{"keep more than there are", "a", time.Time{}, 50, 0,
			[]int{9, 8, 7, 6, 5}, []int{9, 8, 7}, []int{9, 8, 7, 6}},
	}
	for _, s := range steps {
		n, err := d.PruneDebug(ctx, s.ws, s.before, s.keep)
		if err != nil || n != s.removed {
			t.Errorf("%s: removed %d, %v; want %d", s.name, n, err, s.removed)
		}
		for ws, want := range map[string][]int{"a": s.a, "b": s.b, "": s.none} {
			if got := hoursOf(ws); !slices.Equal(got, want) {
				t.Errorf("%s: entries of %q: hours %v, want %v", s.name, ws, got, want)
			}
		}
	}

	// Same time: the count keeps the higher ids.
	clk.Set(now.Add(time.Hour))
	var batch []core.DebugEntry
	for i := range 3 {
		e := fullDebugEntry("a", i)
		e.Time = time.Time{}
		batch = append(batch, e)
	}
	if err := d.AddDebugEntries(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PruneDebug(ctx, "a", time.Time{}, 2); err != nil {
		t.Fatal(err)
	}
	es, err := d.DebugEntries(ctx, core.DebugFilter{Webservice: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].RequestID != "req-a-2" || es[1].RequestID != "req-a-1" {
		t.Errorf("after keeping 2 of 3 at one time: %v", es)
	}
}

// AppendDebug writes and prunes in one transaction: a reader never sees a
// log beyond its limits, and a failed write prunes nothing.
func TestAppendDebugPrunesInTheSameTransaction(t *testing.T) {
	ctx := context.Background()
	d, _ := withDebugWebservices(t)
	var batch []core.DebugEntry
	for i := range 6 {
		batch = append(batch, fullDebugEntry("a", i), fullDebugEntry("b", i), fullDebugEntry("", i))
	}
	if err := d.AddDebugEntries(ctx, batch); err != nil {
		t.Fatal(err)
	}
	count := func(ws string) int {
		t.Helper()
		es, err := d.DebugEntries(ctx, core.DebugFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Webservice == ws {
				n++
			}
		}
		return n
	}
	// A write that fails (a trigger refuses one entry) prunes nothing.
	if _, err := d.db.Exec(`CREATE TRIGGER test_fail BEFORE INSERT ON debug_log WHEN NEW.path = '/boom'
		BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	boom := fullDebugEntry("a", 9)
	boom.Path = "/boom"
	if _, err := d.AppendDebug(ctx, []core.DebugEntry{fullDebugEntry("a", 7), boom},
		map[string]core.DebugRetention{"a": {Keep: 2}}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v, want the failed insert's error", err)
	}
	if n := count("a"); n != 6 {
		t.Fatalf("a failed write pruned: %d entries of a, want 6", n)
	}

	// a: by count; "": by age (t0+3s and later stay); b is not named, so
	// it is not pruned; a webservice that does not exist is skipped.
	n, err := d.AppendDebug(ctx, []core.DebugEntry{fullDebugEntry("a", 7), fullDebugEntry("", 7)}, map[string]core.DebugRetention{
		"a":    {Keep: 2},
		"":     {Before: t0.Add(3 * time.Second)},
		"gone": {Keep: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	// a: 7 entries, 2 kept; "": 7 entries, those at 0s, 1s, 2s go.
	if n != 5+3 {
		t.Errorf("pruned %d, want 8", n)
	}
	for ws, want := range map[string]int{"a": 2, "b": 6, "": 4} {
		if got := count(ws); got != want {
			t.Errorf("%q: %d entries, want %d", ws, got, want)
		}
	}
	es, err := d.DebugEntries(ctx, core.DebugFilter{Webservice: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].RequestID != "req-a-7" || es[1].RequestID != "req-a-5" {
		t.Errorf("a keeps the newest two: %v", ids(es))
	}
	// Nothing to write and nothing to prune is nothing to do.
	if n, err := d.AppendDebug(ctx, nil, nil); n != 0 || err != nil {
		t.Errorf("empty: %d, %v", n, err)
	}
}
