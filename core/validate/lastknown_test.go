package validate_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"oidcctl/core"
	"oidcctl/core/memstore"
	"oidcctl/core/validate"
)

// unreachable is a user store whose reads fail while down is set, as
// those of a database that went away do.
type unreachable struct {
	core.UserStore
	down atomic.Bool
}

func (u *unreachable) User(ctx context.Context, login string) (core.User, error) {
	if u.down.Load() {
		return core.User{}, errors.New("read user: failed to connect: server closed the connection")
	}
	return u.UserStore.User(ctx, login)
}

// TestLastKnownUsersRideOutAnOutage: a user read before the store went
// away is still found while it is away; one never read, and one the store
// said was gone, are not; and the remembered roles cannot be changed
// through what User returned.
func TestLastKnownUsersRideOutAnOutage(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	for _, login := range []string{"alice", "bob", "carol"} {
		if err := mem.CreateUser(ctx, core.User{Login: login, Roles: []string{"api"}}); err != nil {
			t.Fatal(err)
		}
	}
	store := &unreachable{UserStore: mem}
	users := validate.RememberUsers(store)
	for _, login := range []string{"alice", "carol"} {
		if _, err := users.User(ctx, login); err != nil {
			t.Fatal(err)
		}
	}
	if err := mem.DeleteUser(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.User(ctx, "carol"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("carol after her deletion: %v", err)
	}
	store.down.Store(true)
	u, err := users.User(ctx, "alice")
	if err != nil || u.Login != "alice" || len(u.Roles) != 1 || u.Roles[0] != "api" {
		t.Fatalf("alice with the store down: %+v, %v", u, err)
	}
	u.Roles[0] = "admin"
	if again, _ := users.User(ctx, "alice"); again.Roles[0] != "api" {
		t.Fatal("the remembered roles changed through a returned user")
	}
	if _, err := users.User(ctx, "bob"); err == nil {
		t.Fatal("bob, never read, was found with the store down")
	}
	if _, err := users.User(ctx, "carol"); err == nil || errors.Is(err, core.ErrNotFound) {
		t.Fatalf("carol, deleted, with the store down: %v (want the store's error)", err)
	}
}
