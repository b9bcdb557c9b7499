package serve_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestForwardAuthAllocs: a forward-auth call with a token whose result
// is cached, and one with a refused token whose refusal is cached, cost
// serve's handler (the call, the answer, the metrics, the debugger's
// capture) at most 10 and 14 allocations, httptest's recorder included
// (its own 7). They were 17 and 28 before the call's writer, capture,
// secrets and header values shared the call's allocation, a Bearer call
// stopped reading DPoP's forwarding headers, and a refusal kept its
// headers in its callError, wrote its JSON body directly (which the
// debugger keeps without a copy) and made its detail only for the
// debugger; 23 and 55 before the refusal's JSON was
// a struct rather than a map, its log attributes were boxed only when
// logged, its challenge made once, and the accepted call's headers
// shared one array. Under wrk these are what every call of a flood of
// repeated tokens costs besides net/http's own; BenchmarkForwardAuth
// measures them without the recorder.
func TestForwardAuthAllocs(t *testing.T) {
	// As bench/forward-auth.sh runs serve: --log-level error, and the
	// debugger's rate bound spent on the first refusal.
	h := start(t, func(c *serveConfig) {
		c.Logger = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
		c.DebugRate = 1
	})
	good := h.signed(nil)
	bad := good[:len(good)-4] + "AAAA"
	if bad == good {
		t.Fatal("the refused token is the good one")
	}
	for _, tc := range []struct {
		name   string
		token  string
		status int
		limit  float64
	}{
		{"accepted", good, http.StatusOK, 10},
		{"refused", bad, http.StatusUnauthorized, 14},
	} {
		req := httptest.NewRequest(http.MethodGet, "/auth", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		serve := func() int {
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			return rec.Code
		}
		if code := serve(); code != tc.status {
			t.Fatalf("%s: status %d, want %d", tc.name, code, tc.status)
		}
		allocs := testing.AllocsPerRun(200, func() {
			if serve() != tc.status {
				panic("status changed")
			}
		})
		t.Logf("%s: %.0f allocations", tc.name, allocs)
		if allocs > tc.limit+raceAllocs {
			t.Errorf("%s: %.0f allocations per call, want at most %.0f", tc.name, allocs, tc.limit+raceAllocs)
		}
	}
}
