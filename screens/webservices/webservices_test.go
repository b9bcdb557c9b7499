package webservices_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/webservices"
	"oidcctl/tui/tuitest"
)

func focus(term *tuitest.Term, title string) string {
	return term.WaitUntil("focus on "+title, func(f string) bool {
		for _, l := range strings.Split(f, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "┃ "+title) {
				return true
			}
		}
		return false
	})
}

type step struct{ field, text string }

func fill(term *tuitest.Term, steps ...step) {
	for _, s := range steps {
		focus(term, s.field)
		term.Type(s.text)
		term.Press("enter")
	}
}

func service(t *testing.T, e *screentest.Env, name string) core.Webservice {
	t.Helper()
	w, err := e.DB.Webservice(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func setup(t *testing.T) *screentest.Env {
	e := screentest.New(t)
	e.AddProfile(t, screentest.Profile("keycloak", "https://idp.example/.well-known/openid-configuration", "someapi", "s"))
	e.AddAccount(t, core.NewAccount("billing", "keycloak"))
	return e
}

func TestProviderAndRequester(t *testing.T) {
	e := setup(t)
	term := e.Shell(t, 80, 24, webservices.New(e.Deps))
	tuitest.Golden(t, "empty", term.WaitFor("No webservice yet"))

	// A provider: validated with keycloak, proxied to the upstream.
	term.Type("a")
	focus(term, "Name")
	term.Type("tickets")
	term.Press("enter")
	focus(term, "Kind")
	term.Press("enter") // provider, the default
	tuitest.Golden(t, "add-provider", focus(term, "Profile"))
	term.Press("enter") // keycloak
	fill(term,
		step{"Route", "/GetTicket/:TicketID"},
		step{"Methods", " post"},
		step{"Upstream URL", "http://127.0.0.1:8080/otobo/nph-genericinterface.pl/Webservice/Test"},
		step{"Pass the caller's", ""},
		step{"Record calls", ""},
		step{"Keep of each body", ""},
		step{"Keep calls for", ""},
		step{"Keep at most", ""},
	)
	f := term.WaitFor("Webservice tickets added (/ws/tickets/GetTicket/:TicketID).", "GET POST")
	w := service(t, e, "tickets")
	if w.Kind != core.Provider || w.Profile != "keycloak" || w.Route != "/GetTicket/:TicketID" || !slices.Equal(w.Methods, []string{"GET", "POST"}) ||
		!w.Debug.Enabled || w.Debug.MaxBody != core.DefaultDebugMaxBody || w.Debug.MaxAge != core.DefaultDebugMaxAge {
		t.Fatalf("stored: %+v", w)
	}
	if !strings.Contains(f, "GET POST") || !strings.Contains(f, "validated with profile keycloak") {
		t.Fatalf("list:\n%s", f)
	}

	// A requester: the provider's fields are not asked for.
	term.Type("a")
	focus(term, "Name")
	term.Type("echo")
	term.Press("enter")
	focus(term, "Kind")
	term.Press("right", "enter")
	f = focus(term, "Account")
	if strings.Contains(f, "Upstream") || strings.Contains(f, "Route") {
		t.Fatalf("the requester form asks for provider fields:\n%s", f)
	}
	tuitest.Golden(t, "add-requester", f)
	term.Press("enter") // billing
	fill(term, step{"Endpoint", "https://echo.example/"}, step{"Path", "/rest/api/endpoint"})
	focus(term, "Method")
	term.Press("enter") // POST
	focus(term, "Record calls")
	term.Press("right", "enter") // no
	for _, s := range []step{{"Keep of each body", "64KiB"}, {"Keep calls for", "36h"}, {"Keep at most", "50"}} {
		focus(term, s.field)
		term.Press("ctrl+u") // the defaults are filled in
		term.Type(s.text)
		term.Press("enter")
	}
	f = term.WaitFor("Webservice echo added (/invoke/echo).", "requester")
	tuitest.Golden(t, "list", f)
	w = service(t, e, "echo")
	if w.Kind != core.Requester || w.Account != "billing" || w.Endpoint != "https://echo.example" || w.Path != "/rest/api/endpoint" ||
		w.Method != "POST" || w.Debug.Enabled || w.Debug.MaxBody != 64<<10 || w.Debug.MaxAge != 36*time.Hour || w.Debug.MaxEntries != 50 {
		t.Fatalf("stored: %+v", w)
	}

	// Edit tickets: the kind stays; the debugger keeps 30 days.
	term.Press("down")
	term.WaitFor("call     /ws/tickets")
	term.Type("e")
	focus(term, "Profile")
	term.Press("ctrl+s")
	term.WaitFor("Webservice tickets saved.")
	term.Type("e")
	focus(term, "Profile")
	term.Press("enter")
	fill(term, step{"Route", ""}, step{"Methods", ""}, step{"Upstream URL", ""}, step{"Pass the caller's", ""}, step{"Record calls", ""}, step{"Keep of each body", ""})
	focus(term, "Keep calls for")
	term.Press("ctrl+u")
	term.Type("30d")
	term.Press("ctrl+s")
	term.WaitFor("Webservice tickets saved.", "30d, at most 1000 calls")
	if w = service(t, e, "tickets"); w.Debug.MaxAge != 30*24*time.Hour || w.Kind != core.Provider {
		t.Fatalf("after edit: %+v", w)
	}

	// Delete asks first.
	term.Type("d")
	f = term.WaitFor("Delete webservice tickets?", "recorded calls go with it")
	tuitest.Golden(t, "delete-confirm", f)
	term.Type("y")
	term.WaitFor("Webservice tickets deleted.")
	if ws, _ := e.DB.Webservices(context.Background()); len(ws) != 1 {
		t.Fatalf("after delete: %v", ws)
	}
}

func TestRefusals(t *testing.T) {
	e := setup(t)
	term := e.Shell(t, 80, 24, webservices.New(e.Deps))
	term.WaitFor("No webservice yet")
	term.Type("a")
	focus(term, "Name")
	term.Type("bad")
	term.Press("enter")
	focus(term, "Kind")
	term.Press("enter")
	focus(term, "Profile")
	term.Press("enter")
	fill(term, step{"Route", "GetTicket"})
	focus(term, "Methods")
	term.Press("ctrl+u")
	term.Type("FETCH")
	term.Press("enter")
	focus(term, "Upstream URL")
	term.Type("ftp://x")
	term.Press("enter")
	fill(term, step{"Pass the caller's", ""}, step{"Record calls", ""})
	focus(term, "Keep of each body")
	term.Press("ctrl+u")
	term.Type("2GiB")
	term.Press("enter")
	focus(term, "Keep calls for")
	term.Press("ctrl+s")
	f := term.WaitFor(`✗ route "GetTicket" must start with /`, `✗ methods "FETCH" is not an HTTP method`, "✗ upstream", "✗ debug max body")
	tuitest.Golden(t, "invalid", f)
	term.Press("esc")
	term.WaitTitle("Webservices")
	if ws, _ := e.DB.Webservices(context.Background()); len(ws) != 0 {
		t.Fatalf("stored after a refusal: %v", ws)
	}

	// Nothing to validate with or call as: the screen says what to add.
	e2 := screentest.New(t)
	term = e2.Shell(t, 80, 24, webservices.New(e2.Deps))
	term.WaitFor("No webservice yet")
	term.Type("a")
	term.WaitFor("✗ a webservice needs a profile or an account: add one first (Profiles, Accounts)")
}
