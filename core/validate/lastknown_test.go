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
	users.Purge() // serve's reload, which the deletion causes
	if _, err := users.User(ctx, "carol"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("carol after her deletion: %v", err)
	}
	store.down.Store(true)
	users.Purge()
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

// counting counts the reads of users that reach the store.
type counting struct {
	core.UserStore
	reads atomic.Int64
}

func (c *counting) User(ctx context.Context, login string) (core.User, error) {
	c.reads.Add(1)
	return c.UserStore.User(ctx, login)
}

// TestLastKnownUsersAnswerFromMemoryUntilPurged: a user read or written
// once is answered from memory, without a read of the store, until Purge
// (serve's configuration reload, which every change to users causes);
// then the store is read again and its change is seen. A user the store
// does not have is asked for every time.
func TestLastKnownUsersAnswerFromMemoryUntilPurged(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	if err := mem.CreateUser(ctx, core.User{Login: "alice", Roles: []string{"api"}}); err != nil {
		t.Fatal(err)
	}
	store := &counting{UserStore: mem}
	users := validate.RememberUsers(store)
	for range 5 {
		if u, err := users.User(ctx, "alice"); err != nil || u.Roles[0] != "api" {
			t.Fatalf("alice: %+v %v", u, err)
		}
	}
	if err := users.CreateUser(ctx, core.User{Login: "bob", Roles: []string{"ops"}}); err != nil {
		t.Fatal(err)
	}
	if u, err := users.User(ctx, "bob"); err != nil || u.Roles[0] != "ops" {
		t.Fatalf("bob: %+v %v", u, err)
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d reads of the store for 5 reads of alice and one of bob, who was created through it; want 1", n)
	}
	if _, err := mem.UpdateUser(ctx, "alice", func(u *core.User) error { u.Roles = []string{"admin"}; return nil }); err != nil {
		t.Fatal(err)
	}
	users.Purge()
	if u, err := users.User(ctx, "alice"); err != nil || len(u.Roles) != 1 || u.Roles[0] != "admin" {
		t.Fatalf("alice after the change and a purge: %+v %v", u, err)
	}
	if n := store.reads.Load(); n != 2 {
		t.Fatalf("%d reads of the store after the purge, want 2", n)
	}
	for range 2 {
		if _, err := users.User(ctx, "nobody"); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("nobody: %v", err)
		}
	}
	if n := store.reads.Load(); n != 4 {
		t.Fatalf("%d reads of the store after two reads of a missing user, want 4", n)
	}
}
