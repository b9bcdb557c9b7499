package users_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/users"
	"oidcctl/tui/tuitest"
)

func TestAddEditDelete(t *testing.T) {
	e := screentest.New(t)
	term, _ := e.OpenGolden(t, users.New(e.Deps), "empty", "No user yet: press a to add one")

	term.Type("a")
	tuitest.Golden(t, "add", term.WaitFocus("Login"))
	term.Fill(
		tuitest.Field{"Login", "acc-service"},
		tuitest.Field{"Email", "svc@example.test"},
		tuitest.Field{"First name", "Service"},
		tuitest.Field{"Last name", "Account"},
		tuitest.Field{"Roles", "ticket-writer ticket-reader,ticket-reader"},
	)
	f := term.WaitFor("User acc-service added.", "by hand")
	tuitest.Golden(t, "list", f)
	u := screentest.Get(t, e.DB.User, "acc-service")
	if u.Email != "svc@example.test" || u.FirstName != "Service" || u.LastName != "Account" ||
		!slices.Equal(u.Roles, []string{"ticket-reader", "ticket-writer"}) || u.Profile != "" {
		t.Fatalf("stored: %+v", u)
	}

	// Edit: the login stays, the roles change; a bad email is refused with
	// the form kept.
	term.Type("e")
	f = term.WaitFocus("Email")
	if strings.Contains(f, "Login:") || !strings.Contains(f, "Roles: ticket-reader ticket-writer") {
		t.Fatalf("edit form:\n%s", f)
	}
	term.Press("ctrl+u")
	term.Type("not an address")
	term.Press("ctrl+s")
	f = term.WaitFor(`✗ email "not an address" is not an email address`)
	tuitest.Golden(t, "invalid", f)
	term.WaitFocus("Email")
	term.Press("ctrl+u")
	term.Type("ops@example.test")
	term.Press("enter")
	term.Fill(tuitest.Field{"First name", ""}, tuitest.Field{"Last name", ""})
	term.WaitFocus("Roles")
	term.Press("ctrl+u")
	term.Type("admin")
	term.Press("enter")
	term.WaitFor("User acc-service saved.", "ops@example.test", "admin")
	if u = screentest.Get(t, e.DB.User, "acc-service"); u.Email != "ops@example.test" || !slices.Equal(u.Roles, []string{"admin"}) {
		t.Fatalf("after edit: %+v", u)
	}

	// A user created from a token says so; / filters.
	if err := e.DB.CreateUser(context.Background(), core.User{Login: "id1", Email: "user@example.test", Roles: []string{"agent"}, Profile: "idp"}); err != nil {
		t.Fatal(err)
	}
	term.Type("r")
	term.WaitFor("profile idp")
	term.Type("/")
	term.Type("agent")
	f = term.WaitFor("1/1 (of 2)")
	if strings.Contains(f, "\n acc-service ") || strings.Contains(f, "▸acc-service") {
		t.Fatalf("the filter shows acc-service:\n%s", f)
	}
	term.Press("enter")
	term.WaitFor("from a token of profile idp")

	// Delete asks first; no is the default.
	term.Ask("d", "delete-confirm", "Delete user id1?", "creates it again")
	term.Press("enter")
	term.WaitGone("Delete user id1?")
	term.Confirm("d", "Delete user id1?")
	term.WaitFor("User id1 deleted.")
	if _, err := e.DB.User(context.Background(), "id1"); err == nil {
		t.Fatal("id1 is still there")
	}
}

func TestAddTakenLogin(t *testing.T) {
	e := screentest.New(t)
	if err := e.DB.CreateUser(context.Background(), core.User{Login: "svc"}); err != nil {
		t.Fatal(err)
	}
	term, _ := e.Open(t, users.New(e.Deps), "svc", "by hand")
	term.Type("a")
	term.WaitFocus("Login")
	term.Type("svc")
	term.Press("ctrl+s")
	term.WaitFor("✗", "svc", "exists")
	term.Discard() // what was typed would be lost: it asks
	term.WaitTitle("Users")
}

// A form left untouched has nothing to lose: esc leaves it at once.
func TestUntouchedFormsLeaveAtOnce(t *testing.T) {
	e := screentest.New(t)
	if err := e.DB.CreateUser(context.Background(), core.User{Login: "svc", Email: "svc@example.test"}); err != nil {
		t.Fatal(err)
	}
	term, _ := e.Open(t, users.New(e.Deps), "▸svc")
	term.Press("a")
	term.WaitFocus("Login")
	term.Press("esc")
	term.WaitTitle("Users")
	term.Press("e")
	term.WaitFocus("Email")
	term.Press("enter")
	term.WaitFocus("First name")
	term.Press("esc")
	term.WaitTitle("Users")
}

// What the columns and the detail pane cut at 80 columns (a long name,
// many roles) is a key away: enter opens the user whole; e still edits.
func TestLongValuesWholeOnEnter(t *testing.T) {
	e := screentest.New(t)
	roles := []string{"customer-admin", "queue-manager-first-level", "queue-manager-second-level", "ticket-reader", "ticket-writer"} // sorted, as stored
	u := core.User{Login: "svc-billing-nightly-export", Email: "billing-nightly-export@accounting.example.test",
		FirstName: "Billing Nightly", LastName: "Export Service Account", Roles: roles}
	if err := e.DB.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	term, f := e.Open(t, users.New(e.Deps), "▸svc-billing")
	screentest.WholeOnEnter(t, term, f, "Users › svc-billing-nightly-export", "Users",
		"Billing Nightly Export Service Account", strings.Join(roles, ", "), u.Email)
	term.Press("e")
	term.WaitFocus("Email")
}
