package serve_test

import (
	"strings"
	"testing"
)

// TestNotFoundHidesTheRoute: a call to a provider webservice on a path its
// route does not match gets a 404 whose body does not tell the caller, who
// has not even shown a token, the route pattern; the debugger and the log
// have it.
func TestNotFoundHidesTheRoute(t *testing.T) {
	h := start(t)
	const route = "/GetTicket/:TicketID"
	h.addWebservice(provider("tickets", route, "http://"+freeAddr(t)+"/otobo", "GET"))

	r := h.do("GET", "/ws/tickets/Other/1", "", nil)
	if r.status != 404 {
		t.Fatalf("status %d, want 404: %s", r.status, r.body)
	}
	m := r.json(t)
	if m["error"] != "not_found" || m["error_description"] == "" {
		t.Fatalf("answer %v, want error not_found with a description", m)
	}
	if strings.Contains(r.body, "GetTicket") || strings.Contains(r.body, ":TicketID") {
		t.Fatalf("the 404 tells an unauthenticated caller the route: %s", r.body)
	}
	es := h.entries("tickets")
	if len(es) != 1 || es[0].Status != 404 || !strings.Contains(es[0].Reason, route) {
		t.Fatalf("the debugger lacks the route: %+v", es)
	}
	if !strings.Contains(h.logs.String(), route) {
		t.Fatalf("the log lacks the route:\n%s", h.logs.String())
	}
}
