package serve_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// headerWriter is the least a ResponseWriter can be: a header map, reused
// (cleared) between calls, and a status. What a benchmark with it counts
// is serve's own cost, not net/http's or httptest's.
type headerWriter struct {
	h      http.Header
	status int
}

func (w *headerWriter) Header() http.Header { return w.h }

func (w *headerWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}

func (w *headerWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// BenchmarkForwardAuth: what serve adds to a forward-auth call whose
// token's result is cached, accepted or refused, as bench/forward-auth.sh
// runs serve (--log-level error, the debugger keeping refusals at its
// default rate). Compare it paired with the base: benchstat, -count 6.
func BenchmarkForwardAuth(b *testing.B) {
	h := start(b, func(c *serveConfig) {
		c.Logger = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
		c.Now = nil // the real clock, as oidcctl serve has it
	})
	good := h.signed(nil)
	bad := good[:len(good)-4] + "AAAA"
	for _, tc := range []struct {
		name   string
		token  string
		status int
	}{
		{"accepted", good, http.StatusOK},
		{"refused", bad, http.StatusUnauthorized},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/auth", nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			w := &headerWriter{h: http.Header{}}
			serve := func() {
				clear(w.h)
				w.status = 0
				h.srv.ServeHTTP(w, req)
				if w.status != tc.status {
					b.Fatalf("status %d, want %d", w.status, tc.status)
				}
			}
			serve() // the result is cached from here on
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
