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

func user(t *testing.T, e *screentest.Env, login string) core.User {
	t.Helper()
	u, err := e.DB.User(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAddEditDelete(t *testing.T) {
	e := screentest.New(t)
	term := e.Shell(t, 80, 24, users.New(e.Deps))
	tuitest.Golden(t, "empty", term.WaitFor("No user yet: press a to add one"))

	term.Type("a")
	tuitest.Golden(t, "add", focus(term, "Login"))
	fill(term,
		step{"Login", "acc-service"},
		step{"Email", "svc@example.test"},
		step{"First name", "Service"},
		step{"Last name", "Account"},
		step{"Roles", "ticket-writer ticket-reader,ticket-reader"},
	)
	f := term.WaitFor("User acc-service added.", "by hand")
	tuitest.Golden(t, "list", f)
	u := user(t, e, "acc-service")
	if u.Email != "svc@example.test" || u.FirstName != "Service" || u.LastName != "Account" ||
		!slices.Equal(u.Roles, []string{"ticket-reader", "ticket-writer"}) || u.Profile != "" {
		t.Fatalf("stored: %+v", u)
	}

	// Edit: the login stays, the roles change; a bad email is refused with
	// the form kept.
	term.Type("e")
	f = focus(term, "Email")
	if strings.Contains(f, "Login:") || !strings.Contains(f, "Roles: ticket-reader ticket-writer") {
		t.Fatalf("edit form:\n%s", f)
	}
	term.Press("ctrl+u")
	term.Type("not an address")
	term.Press("ctrl+s")
	f = term.WaitFor(`✗ email "not an address" is not an email address`)
	tuitest.Golden(t, "invalid", f)
	focus(term, "Email")
	term.Press("ctrl+u")
	term.Type("ops@example.test")
	term.Press("enter")
	fill(term, step{"First name", ""}, step{"Last name", ""})
	focus(term, "Roles")
	term.Press("ctrl+u")
	term.Type("admin")
	term.Press("enter")
	term.WaitFor("User acc-service saved.", "ops@example.test", "admin")
	if u = user(t, e, "acc-service"); u.Email != "ops@example.test" || !slices.Equal(u.Roles, []string{"admin"}) {
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
	term.Type("d")
	f = term.WaitFor("Delete user id1?", "creates it again")
	tuitest.Golden(t, "delete-confirm", f)
	term.Press("enter")
	term.WaitGone("Delete user id1?")
	term.Type("d")
	term.WaitFor("Delete user id1?")
	term.Type("y")
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
	term := e.Shell(t, 80, 24, users.New(e.Deps))
	term.WaitFor("svc", "by hand")
	term.Type("a")
	focus(term, "Login")
	term.Type("svc")
	term.Press("ctrl+s")
	term.WaitFor("✗", "svc", "exists")
	term.Press("esc")
	term.WaitTitle("Users")
}
