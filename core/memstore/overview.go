package memstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"oidcctl/core"
)

// overviewRow is an account as the overview selects and orders it.
type overviewRow struct {
	a       *accountRow
	profile string
	state   string
}

// overview returns the accounts q selects, ordered by profile name and
// then account name (byte order), with the state of each judged as the
// SQL stores judge it: from what is stored, a damaged token counting as
// the token it was. The caller holds s.mu.
func (s *Store) overview(q core.AccountQuery) []overviewRow {
	now := q.Now.Truncate(time.Millisecond) // as a database compares
	text := foldASCII(q.Text)
	var out []overviewRow
	for _, a := range s.accounts {
		r := overviewRow{a: a, profile: s.profileName(a.profileID), state: storedState(s.tokens[a.id], now)}
		if text == "" || slices.ContainsFunc([]string{a.a.Name, r.profile, string(a.a.GrantType), r.state},
			func(f string) bool { return strings.Contains(foldASCII(f), text) }) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y overviewRow) int {
		if c := strings.Compare(x.profile, y.profile); c != 0 {
			return c
		}
		return strings.Compare(x.a.a.Name, y.a.a.Name)
	})
	return out
}

// storedState is TokenState.Status at now of a token row as stored (nil:
// none yet), without opening it: never damaged.
func storedState(t *tokenRow, now time.Time) string {
	if t == nil {
		return core.TokenState{}.Status(now)
	}
	return core.TokenState{
		Tokens: t.set, LastError: t.lastError, NeedsAuthorization: t.needsAuthorization,
	}.Status(now)
}

// foldASCII folds the ASCII letters of s to lower case and leaves every
// other character as it is, as SQLite's lower() and PostgreSQL's under
// COLLATE "C" do.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CountAccounts implements core.OverviewStore.
func (s *Store) CountAccounts(_ context.Context, q core.AccountQuery) (core.AccountCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := core.AccountCounts{Profiles: map[string]int{}, States: map[string]int{}}
	for _, r := range s.overview(q) {
		c.Total++
		c.Profiles[r.profile]++
		c.States[r.state]++
	}
	return c, nil
}

// TokenStatePage implements core.OverviewStore: none when limit is not
// positive; a negative offset is 0.
func (s *Store) TokenStatePage(_ context.Context, q core.AccountQuery, offset, limit int) ([]core.TokenState, error) {
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.overview(q)
	rows = rows[min(max(offset, 0), len(rows)):]
	rows = rows[:min(limit, len(rows))]
	var out []core.TokenState
	for _, r := range rows {
		out = append(out, s.tokenState(r.a))
	}
	return out, nil
}
