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
// wrote. Until the next Purge it answers User from memory, so that
// validating a new token of a known user reads nothing from the database
// (forward-auth is as fast on PostgreSQL as on SQLite); serve calls Purge
// at every configuration reload, which every change to users and roles
// causes (they raise the configuration version), as it purges the
// validator's cached results. After a Purge, User reads the store again
// and answers with the user it remembers only when the store fails (the
// database is unreachable: a PostgreSQL server restarting), so that serve
// goes on validating tokens of known users through an outage. A user the
// store says does not exist is forgotten; creating and updating users
// still need the store. It remembers at most DefaultLastKnownUsers users;
// beyond, it forgets one at random for each new one.
type LastKnownUsers struct {
	core.UserStore
	mu    sync.Mutex
	users map[string]core.User
	// fresh holds the logins read or written since the last Purge.
	fresh map[string]bool
}

// RememberUsers returns a LastKnownUsers in front of store.
func RememberUsers(store core.UserStore) *LastKnownUsers {
	return &LastKnownUsers{UserStore: store, users: map[string]core.User{}, fresh: map[string]bool{}}
}

// Purge makes the next read of every user go to the store: the users
// may have changed there.
func (l *LastKnownUsers) Purge() {
	l.mu.Lock()
	clear(l.fresh)
	l.mu.Unlock()
}

// User returns the user read or written since the last Purge, else the
// store's user, or the last one read when the store fails for another
// reason than the user's absence.
func (l *LastKnownUsers) User(ctx context.Context, login string) (core.User, error) {
	l.mu.Lock()
	known, ok := l.users[login]
	ok = ok && l.fresh[login]
	l.mu.Unlock()
	if ok {
		known.Roles = slices.Clone(known.Roles)
		return known, nil
	}
	u, err := l.UserStore.User(ctx, login)
	switch {
	case err == nil:
		l.remember(u)
		return u, nil
	case errors.Is(err, core.ErrNotFound):
		l.forget(login)
		return u, err
	case ctx.Err() != nil:
		return u, err
	}
	l.mu.Lock()
	known, ok = l.users[login]
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
		l.forget(login)
	}
	return err
}

func (l *LastKnownUsers) remember(u core.User) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.users[u.Login]; !ok && len(l.users) >= DefaultLastKnownUsers {
		for k := range l.users { // map order: a random one
			delete(l.users, k)
			delete(l.fresh, k)
			break
		}
	}
	u.Roles = slices.Clone(u.Roles)
	l.users[u.Login] = u
	l.fresh[u.Login] = true
}

func (l *LastKnownUsers) forget(login string) {
	l.mu.Lock()
	delete(l.users, login)
	delete(l.fresh, login)
	l.mu.Unlock()
}
