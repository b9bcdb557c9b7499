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

func setup(t *testing.T) *screentest.Env {
	e := screentest.WithProfile(t, "keycloak")
	e.AddAccount(t, core.NewAccount("billing", "keycloak"))
	return e
}

// openAddForm opens the screen on setup's database, and its add form at
// the first field.
func openAddForm(t *testing.T) (*screentest.Env, *tuitest.Term) {
	t.Helper()
	e := setup(t)
	term, _ := e.Open(t, webservices.New(e.Deps), "No webservice yet")
	term.Type("a")
	term.WaitFocus("Name")
	return e, term
}

func TestProviderAndRequester(t *testing.T) {
	e := setup(t)
	term, _ := e.OpenGolden(t, webservices.New(e.Deps), "empty", "No webservice yet")

	// A provider: validated with keycloak, proxied to the upstream.
	term.Type("a")
	term.WaitFocus("Name")
	term.Type("tickets")
	term.Press("enter")
	term.WaitFocus("Kind")
	term.Press("enter") // provider, the default
	tuitest.Golden(t, "add-provider", term.WaitFocus("Profile"))
	term.Press("enter") // keycloak
	term.Fill(
		tuitest.Field{"Route", "/GetTicket/:TicketID"},
		tuitest.Field{"Methods", " post"},
		tuitest.Field{"Upstream URL", "http://127.0.0.1:8080/otobo/nph-genericinterface.pl/Webservice/Test"},
		tuitest.Field{"Pass the caller's", ""},
		tuitest.Field{"Record calls", ""},
		tuitest.Field{"Keep of each body", ""},
		tuitest.Field{"Keep calls for", ""},
		tuitest.Field{"Keep at most", ""},
	)
	f := term.WaitFor("Webservice tickets added (/ws/tickets/GetTicket/:TicketID).", "GET POST")
	w := screentest.Get(t, e.DB.Webservice, "tickets")
	if w.Kind != core.Provider || w.Profile != "keycloak" || w.Route != "/GetTicket/:TicketID" || !slices.Equal(w.Methods, []string{"GET", "POST"}) ||
		!w.Debug.Enabled || w.Debug.MaxBody != core.DefaultDebugMaxBody || w.Debug.MaxAge != core.DefaultDebugMaxAge {
		t.Fatalf("stored: %+v", w)
	}
	if !strings.Contains(f, "GET POST") || !strings.Contains(f, "validated with profile keycloak") {
		t.Fatalf("list:\n%s", f)
	}

	// A requester: the provider's fields are not asked for.
	term.Type("a")
	term.WaitFocus("Name")
	term.Type("echo")
	term.Press("enter")
	term.WaitFocus("Kind")
	term.Press("right", "enter")
	f = term.WaitFocus("Account")
	if strings.Contains(f, "Upstream") || strings.Contains(f, "Route") {
		t.Fatalf("the requester form asks for provider fields:\n%s", f)
	}
	tuitest.Golden(t, "add-requester", f)
	term.Press("enter") // billing
	term.Fill(tuitest.Field{"Endpoint", "https://echo.example/"}, tuitest.Field{"Path", "/rest/api/endpoint"})
	term.WaitFocus("Method")
	term.Press("enter") // POST
	term.WaitFocus("Record calls")
	term.Press("right", "enter") // no
	for _, s := range []tuitest.Field{{"Keep of each body", "64KiB"}, {"Keep calls for", "36h"}, {"Keep at most", "50"}} {
		term.WaitFocus(s[0])
		term.Press("ctrl+u") // the defaults are filled in
		term.Type(s[1])
		term.Press("enter")
	}
	f = term.WaitFor("Webservice echo added (/invoke/echo).", "requester")
	tuitest.Golden(t, "list", f)
	w = screentest.Get(t, e.DB.Webservice, "echo")
	if w.Kind != core.Requester || w.Account != "billing" || w.Endpoint != "https://echo.example" || w.Path != "/rest/api/endpoint" ||
		w.Method != "POST" || w.Debug.Enabled || w.Debug.MaxBody != 64<<10 || w.Debug.MaxAge != 36*time.Hour || w.Debug.MaxEntries != 50 {
		t.Fatalf("stored: %+v", w)
	}

	// Edit tickets: the kind stays; the debugger keeps 30 days.
	term.Press("down")
	term.WaitFor("call     /ws/tickets")
	term.Type("e")
	term.WaitFocus("Profile")
	term.Press("ctrl+s")
	term.WaitFor("Webservice tickets saved.")
	term.Type("e")
	term.WaitFocus("Profile")
	term.Press("enter")
	term.Fill(tuitest.Field{"Route", ""}, tuitest.Field{"Methods", ""}, tuitest.Field{"Upstream URL", ""}, tuitest.Field{"Pass the caller's", ""}, tuitest.Field{"Record calls", ""}, tuitest.Field{"Keep of each body", ""})
	term.WaitFocus("Keep calls for")
	term.Press("ctrl+u")
	term.Type("30d")
	term.Press("ctrl+s")
	term.WaitFor("Webservice tickets saved.", "30d, at most 1000 calls")
	if w = screentest.Get(t, e.DB.Webservice, "tickets"); w.Debug.MaxAge != 30*24*time.Hour || w.Kind != core.Provider {
		t.Fatalf("after edit: %+v", w)
	}

	// Delete asks first.
	term.Ask("d", "delete-confirm", "Delete webservice tickets?", "recorded calls go with it")
	term.Type("y")
	term.WaitFor("Webservice tickets deleted.")
	if ws, _ := e.DB.Webservices(context.Background()); len(ws) != 1 {
		t.Fatalf("after delete: %v", ws)
	}
}

func TestRefusals(t *testing.T) {
	e, term := openAddForm(t)
	term.Type("bad")
	term.Press("enter")
	term.WaitFocus("Kind")
	term.Press("enter")
	term.WaitFocus("Profile")
	term.Press("enter")
	term.Fill(tuitest.Field{"Route", "GetTicket"})
	term.WaitFocus("Methods")
	term.Press("ctrl+u")
	term.Type("FETCH")
	term.Press("enter")
	term.WaitFocus("Upstream URL")
	term.Type("ftp://x")
	term.Press("enter")
	term.Fill(tuitest.Field{"Pass the caller's", ""}, tuitest.Field{"Record calls", ""})
	term.WaitFocus("Keep of each body")
	term.Press("ctrl+u")
	term.Type("2GiB")
	term.Press("enter")
	term.WaitFocus("Keep calls for")
	term.Press("ctrl+s")
	f := term.WaitFor(`✗ route "GetTicket" must start with /`, `✗ methods "FETCH" is not an HTTP method`, "✗ upstream", "✗ debug max body")
	tuitest.Golden(t, "invalid", f)
	term.Discard() // what was typed would be lost: it asks
	term.WaitTitle("Webservices")
	if ws, _ := e.DB.Webservices(context.Background()); len(ws) != 0 {
		t.Fatalf("stored after a refusal: %v", ws)
	}

	// Nothing to validate with or call as: the screen says what to add.
	e2 := screentest.New(t)
	term, _ = e2.Open(t, webservices.New(e2.Deps), "No webservice yet")
	term.Type("a")
	term.WaitFor("✗ a webservice needs a profile or an account: add one first (Profiles, Accounts)")
}

// A form left untouched, or only walked through with enter, has nothing
// to lose: esc leaves it at once, without "Discard changes?".
func TestUntouchedFormLeavesAtOnce(t *testing.T) {
	_, term := openAddForm(t)
	term.Press("esc")
	term.WaitTitle("Webservices")
}

// What the columns and the detail pane cut at 80 columns (a long route
// and upstream URL, many methods) is a key away: enter opens the
// webservice whole; e still edits.
func TestLongValuesWholeOnEnter(t *testing.T) {
	e := setup(t)
	w := core.NewWebservice("tickets", core.Provider)
	w.Profile = "keycloak"
	w.Route = "/GetTicketList/:QueueID/:StateType"
	w.Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	w.Upstream = "http://otobo.internal.example.org:8080/otobo/nph-genericinterface.pl/Webservice/TicketConnectorREST"
	if err := e.DB.CreateWebservice(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	term, f := e.Open(t, webservices.New(e.Deps), "▸tickets")
	screentest.WholeOnEnter(t, term, f, "Webservices › tickets", "Webservices",
		"/ws/tickets"+w.Route+" → "+w.Upstream, "methods "+strings.Join(w.Methods, " "))
	term.Press("e")
	term.WaitFocus("Profile")
}
