package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"oidcctl/core"
)

// loginRow is a pending login and the id of its account: a login whose
// account was removed (or removed and created again) is gone, as the
// SQLite store's ON DELETE CASCADE removes it.
type loginRow struct {
	accountID int64
	l         core.PendingLogin
}

func copyLogin(l core.PendingLogin) core.PendingLogin {
	l.Scopes = slices.Clone(l.Scopes)
	return l
}

// login returns the row of a state whose account still exists.
func (s *Store) login(state string) (*loginRow, error) {
	r, ok := s.logins[state]
	if ok {
		if a, live := s.accounts[r.l.Account]; !live || a.id != r.accountID {
			delete(s.logins, state)
			ok = false
		}
	}
	if !ok {
		return nil, &core.NotFoundError{Kind: "login", Name: state}
	}
	return r, nil
}

// CreatePendingLogin implements core.PendingLoginStore.
func (s *Store) CreatePendingLogin(_ context.Context, l core.PendingLogin) error {
	if l.State == "" || !l.Verifier.IsSet() || l.ExpiresAt.IsZero() {
		return fmt.Errorf("create login of account %s: state, verifier and expiry are required", l.Account)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(l.Account)
	if err != nil {
		return err
	}
	if _, err := s.login(l.State); err == nil {
		return &core.ExistsError{Kind: "login", Name: l.State}
	}
	l = copyLogin(l)
	if l.Scopes == nil {
		l.Scopes = []string{}
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	if l.Status == "" {
		l.Status = core.LoginPending
	}
	l.CreatedAt, l.ExpiresAt, l.FinishedAt = stored(l.CreatedAt), stored(l.ExpiresAt), stored(l.FinishedAt)
	if s.logins == nil {
		s.logins = map[string]*loginRow{}
	}
	s.logins[l.State] = &loginRow{accountID: a.id, l: l}
	return nil
}

// PendingLogin implements core.PendingLoginStore.
func (s *Store) PendingLogin(_ context.Context, state string) (core.PendingLogin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.login(state)
	if err != nil {
		return core.PendingLogin{}, err
	}
	return copyLogin(r.l), nil
}

// UpdatePendingLogin implements core.PendingLoginStore: only Status,
// Reason and FinishedAt are kept of what fn changes.
func (s *Store) UpdatePendingLogin(_ context.Context, state string, fn func(*core.PendingLogin) error) (core.PendingLogin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.login(state)
	if err != nil {
		return core.PendingLogin{}, err
	}
	l := copyLogin(r.l)
	if err := fn(&l); err != nil {
		return core.PendingLogin{}, err
	}
	r.l.Status, r.l.Reason, r.l.FinishedAt = l.Status, l.Reason, stored(l.FinishedAt)
	return copyLogin(r.l), nil
}

// PendingLoginStates implements core.PendingLoginStore.
func (s *Store) PendingLoginStates(_ context.Context, at time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	states := []string{}
	for state := range s.logins {
		if r, err := s.login(state); err == nil && !r.l.ExpiresAt.Before(stored(at)) {
			states = append(states, state)
		}
	}
	slices.Sort(states)
	return states, nil
}

// DeletePendingLogins implements core.PendingLoginStore.
func (s *Store) DeletePendingLogins(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for state, r := range s.logins {
		if r.l.ExpiresAt.Before(before) {
			delete(s.logins, state)
			n++
		}
	}
	return n, nil
}
