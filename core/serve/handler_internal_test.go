package serve

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/serve/debuglog"
)

func bareServer(logs *bytes.Buffer) *Server {
	log := slog.New(slog.NewJSONHandler(logs, nil))
	s := &Server{log: log, metrics: newMetrics(nil, NewTokenWatch().refreshes, log, time.Now), recorder: &debuglog.Recorder{}, debugRate: newDebugLimiter(0)}
	s.table.Store(&routeTable{webservices: map[string]*route{}})
	return s
}

// A panic answers 500, is logged once with the webservice and request id,
// and does not take the server down.
func TestPanicIsRecovered(t *testing.T) {
	var logs bytes.Buffer
	s := bareServer(&logs)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/ws/tickets/x", nil)
	req.Header.Set("X-Request-Id", "req-42")
	s.protect(rec, req, func(c *call) error {
		c.webservice = "tickets"
		c.startCapture(core.DebugSettings{Enabled: true})
		var ws []string
		_ = ws[len(c.webservice)] // index out of range: a runtime panic
		return nil
	})
	if rec.Code != 500 || rec.Header().Get("X-Request-Id") != "req-42" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] != "server_error" || !strings.Contains(body["error_description"], "req-42") {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs.String())
	}
	var entry map[string]any
	json.Unmarshal([]byte(lines[0]), &entry)
	if entry["webservice"] != "tickets" || entry["request_id"] != "req-42" || !strings.Contains(entry["panic"].(string), "index out of range") {
		t.Fatalf("log: %v", entry)
	}
	// A panic after the answer started does not write a second one.
	rec = httptest.NewRecorder()
	s.protect(rec, req, func(c *call) error {
		c.w.WriteHeader(202)
		panic("late")
	})
	if rec.Code != 202 {
		t.Fatalf("late panic: %d", rec.Code)
	}
	// http.ErrAbortHandler is net/http's to handle.
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want ErrAbortHandler passed on", v)
		}
	}()
	s.protect(httptest.NewRecorder(), req, func(*call) error { panic(http.ErrAbortHandler) })
}

func TestRouteMatch(t *testing.T) {
	r := &route{segments: splitPath("/GetTicket/:TicketID/Article/:ArticleID")}
	for _, tt := range []struct {
		path   string
		ok     bool
		ticket string
	}{
		{"/GetTicket/1/Article/2", true, "1"},
		{"/GetTicket/abc%20x/Article/2", true, "abc%20x"},
		{"/GetTicket/1/Article", false, ""},
		{"/GetTicket/1/Article/2/3", false, ""},
		{"/GetTicket//Article/2", false, ""},
		{"/GetTicket/../Article/2", false, ""},
		{"/GetTicket/./Article/2", false, ""},
		{"/Other/1/Article/2", false, ""},
		{"", false, ""},
	} {
		params, ok := r.match(tt.path)
		if ok != tt.ok || params["TicketID"] != tt.ticket {
			t.Errorf("%q: %v %v", tt.path, ok, params)
		}
	}
	root := &route{segments: splitPath("/")}
	if _, ok := root.match(""); !ok {
		t.Error("/ does not match the bare webservice")
	}
	if _, ok := root.match("/"); !ok {
		t.Error("/ does not match /")
	}
}

func TestRequestID(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if id := requestID(r); len(id) != 16 {
		t.Fatalf("new id %q", id)
	}
	r.Header.Set("X-Request-Id", "abc-123_X.y")
	if id := requestID(r); id != "abc-123_X.y" {
		t.Fatalf("kept id %q", id)
	}
	r.Header.Set("X-Request-Id", "evil\"id\nwith newline")
	if id := requestID(r); id == r.Header.Get("X-Request-Id") || len(id) != 16 {
		t.Fatalf("unsafe id kept: %q", id)
	}
}
