package validate

import (
	"context"
	"errors"
	"slices"
	"sync"

	"oidcctl/core"
)

// DefaultLastKnownUsers bounds how many users a LastKnownUsers remembers.
const DefaultLastKnownUsers = 10000

// LastKnownUsers is a core.UserStore that remembers every user it read or
// wrote, and answers User with the one it remembers when the store fails
// (the database is unreachable: a PostgreSQL server restarting), so that
// serve goes on validating tokens of known users through an outage. A user
// the store says does not exist is forgotten; creating and updating users
// still need the store. It remembers at most DefaultLastKnownUsers users;
// beyond, it forgets one at random for each new one.
type LastKnownUsers struct {
	core.UserStore
	mu    sync.Mutex
	users map[string]core.User
}

// RememberUsers returns a LastKnownUsers in front of store.
func RememberUsers(store core.UserStore) *LastKnownUsers {
	return &LastKnownUsers{UserStore: store, users: map[string]core.User{}}
}

// User returns the store's user, or the last one read when the store
// fails for another reason than the user's absence.
func (l *LastKnownUsers) User(ctx context.Context, login string) (core.User, error) {
	u, err := l.UserStore.User(ctx, login)
	switch {
	case err == nil:
		l.remember(u)
		return u, nil
	case errors.Is(err, core.ErrNotFound):
		l.mu.Lock()
		delete(l.users, login)
		l.mu.Unlock()
		return u, err
	case ctx.Err() != nil:
		return u, err
	}
	l.mu.Lock()
	known, ok := l.users[login]
	l.mu.Unlock()
	if ok {
		known.Roles = slices.Clone(known.Roles)
		return known, nil
	}
	return u, err
}

// CreateUser creates the user in the store and remembers it.
func (l *LastKnownUsers) CreateUser(ctx context.Context, u core.User) error {
	if err := l.UserStore.CreateUser(ctx, u); err != nil {
		return err
	}
	l.remember(u)
	return nil
}

// UpdateUser updates the user in the store and remembers the result.
func (l *LastKnownUsers) UpdateUser(ctx context.Context, login string, fn func(*core.User) error) (core.User, error) {
	u, err := l.UserStore.UpdateUser(ctx, login, fn)
	if err == nil {
		l.remember(u)
	}
	return u, err
}

// DeleteUser deletes the user in the store and forgets it.
func (l *LastKnownUsers) DeleteUser(ctx context.Context, login string) error {
	err := l.UserStore.DeleteUser(ctx, login)
	if err == nil || errors.Is(err, core.ErrNotFound) {
		l.mu.Lock()
		delete(l.users, login)
		l.mu.Unlock()
	}
	return err
}

func (l *LastKnownUsers) remember(u core.User) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.users[u.Login]; !ok && len(l.users) >= DefaultLastKnownUsers {
		for k := range l.users { // map order: a random one
			delete(l.users, k)
			break
		}
	}
	u.Roles = slices.Clone(u.Roles)
	l.users[u.Login] = u
}
