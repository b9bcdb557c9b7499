package debugger_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/screens/debugger"
	"oidcctl/screens/internal/screentest"
	"oidcctl/tui/tuitest"
)

// setup stores two webservices and calls of them, as serve records them.
func setup(t *testing.T) *screentest.Env {
	t.Helper()
	e := screentest.WithProfile(t, "keycloak")
	ctx := context.Background()
	e.AddAccount(t, core.NewAccount("billing", "keycloak"))
	tickets := core.NewWebservice("tickets", core.Provider)
	tickets.Profile, tickets.Route, tickets.Methods, tickets.Upstream = "keycloak", "/GetTicket/:TicketID", []string{"GET"}, "http://127.0.0.1:8080/otobo"
	echo := core.NewWebservice("echo", core.Requester)
	echo.Account, echo.Endpoint, echo.Path, echo.Method = "billing", "https://echo.example", "/rest/api", "POST"
	for _, w := range []core.Webservice{tickets, echo} {
		if err := e.DB.CreateWebservice(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	t0 := screentest.T0
	json := http.Header{"Content-Type": {"application/json"}}
	entries := []core.DebugEntry{
		{Time: t0.Add(-3 * time.Minute), RequestID: "req-1", Webservice: "tickets", Direction: core.DirectionIncoming, Method: "GET",
			Path: "/ws/tickets/GetTicket/42", Status: 200, Duration: 4200 * time.Microsecond, User: "sid1", Verdict: "accepted",
			RequestHeader:  http.Header{"Authorization": {"Bearer [REDACTED]"}, "Accept": {"application/json"}},
			ResponseHeader: json, ResponseBody: []byte(`{"Ticket":{"TicketID":42,"Title":"Printer on fire","State":"open"}}`),
			TokenClaims: `{"header":{"alg":"RS256","kid":"k1"},"claims":{"sub":"sid1","groups":["ops"]}}`},
		{Time: t0.Add(-2 * time.Minute), RequestID: "req-2", Webservice: "tickets", Direction: core.DirectionIncoming, Method: "GET",
			Path: "/ws/tickets/GetTicket/43", Status: 401, Duration: 310 * time.Microsecond, Verdict: "refused",
			Reason:         "expired: The token expired at 2026-03-04T09:50:00Z, 8m0s ago (leeway 2s): get a new one.",
			RequestHeader:  http.Header{"Authorization": {"Bearer [REDACTED]"}},
			ResponseHeader: http.Header{"Www-Authenticate": {`Bearer error="invalid_token", error_description="The token expired"`}}},
		{Time: t0.Add(-time.Minute), RequestID: "req-3", Webservice: "echo", Direction: core.DirectionOutgoing, Method: "POST",
			Path: "/invoke/echo", Status: 502, Duration: 1500 * time.Millisecond, Verdict: "error", Reason: "dial tcp: connection refused",
			RequestHeader: json, RequestBody: []byte(`{"hello":"world","password":"[REDACTED]"}`)},
	}
	if err := e.DB.AddDebugEntries(ctx, entries); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestListFiltersAndDetail(t *testing.T) {
	e := setup(t)
	term, f := e.OpenGolden(t, debugger.New(e.Deps), "list", "09:59:00", "09:57:00", "accepted", "refused", "error")
	if strings.Index(f, "09:59:00") > strings.Index(f, "09:57:00") {
		t.Fatalf("not newest first:\n%s", f)
	}

	// Filters by key: the store selects.
	term.Type("w")
	f = term.WaitFor("webservice echo")
	if strings.Contains(f, "09:57:00") {
		t.Fatalf("webservice filter:\n%s", f)
	}
	term.Type("w")
	term.WaitFor("webservice tickets", "09:57:00", "09:58:00")
	term.Type("vv") // accepted, then refused
	f = term.WaitFor("verdict refused", "1/1")
	tuitest.Golden(t, "filtered", f)
	term.Type("a")
	term.WaitFor("webservice all · status all · verdict all", "2/3") // still on that call
	term.Type("s")                                                   // 200, the lowest status seen
	term.WaitFor("status 200", "1/1")
	term.Type("a")
	term.WaitFor("3/3", "accepted as sid1")

	// And by text.
	term.Type("/")
	term.Type("echo")
	term.Press("enter")
	term.WaitFor("filter: echo", "1/1 (of 3)", "dial tcp: connection refused")
	term.Press("esc")
	term.WaitFor("1/3")

	// The detail of the accepted call, its JSON indented.
	term.Press("end")
	term.WaitFor("3/3", "accepted as sid1")
	term.Press("enter")
	f = term.WaitFor("Call #1", "Request headers", "Bearer [REDACTED]")
	tuitest.Golden(t, "detail", f)
	term.Press("end")
	// The token's header and claims the profile logged, at the end.
	term.WaitFor("redacted by serve", "Token header and claims (no signature)", `"groups": [`, `"kid": "k1"`)
	term.Press("pgup")
	f = term.WaitFor(`"Title": "Printer on fire"`)
	if !strings.Contains(f, "  {\n    \"Ticket\": {") {
		t.Errorf("the JSON body is not indented:\n%s", f)
	}
	term.Press("esc")
	term.WaitTitle("Debugger")
}

func TestReloadsAndClears(t *testing.T) {
	e := setup(t)
	term, _ := e.Open(t, debugger.New(e.Deps), "1/3")

	// A call recorded meanwhile appears without a key.
	if err := e.DB.AddDebugEntries(context.Background(), []core.DebugEntry{{Time: screentest.T0, Webservice: "tickets",
		Direction: core.DirectionIncoming, Method: "GET", Path: "/ws/tickets/GetTicket/44", Status: 404, Verdict: "accepted", User: "sid1"}}); err != nil {
		t.Fatal(err)
	}
	term.WaitFor("10:00:00", "/GetTicket/44", "2/4") // the cursor stays on its call

	// Clearing one webservice's log asks first, then leaves the others.
	term.Type("ww") // tickets
	term.WaitFor("webservice tickets", "2/3")
	term.Ask("x", "clear-confirm", "Clear the log of tickets?")
	term.Type("y")
	term.WaitFor("Removed 3 recorded calls of tickets.", "No recorded call matches the filters")
	term.Type("a")
	term.WaitFor("/invoke/echo", "1/1")
	term.Confirm("x", "Clear the log of every webservice?")
	term.WaitFor("Removed 1 recorded calls of every webservice.", "No call recorded yet")
}
