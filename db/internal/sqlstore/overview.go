package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"oidcctl/core"
)

// The overview of accounts (core.OverviewStore) counts and pages accounts
// without opening their tokens: the state of an account is judged in SQL
// from its stored columns, by accountState, which says what
// core.TokenState.Status says of the same row except Damaged (telling a
// damaged token needs it opened).

// accountState is the state word of an account (a, with its tokens row t,
// which may be missing) at now, a parameter of unix milliseconds, in the
// order of core.TokenState.Status: an expiry at now is expired, as
// Status's !now.Before(expiry). Times are stored in milliseconds and now
// is truncated to them, which judges as Status judges the stored expiry.
func accountState(now string) string {
	return `CASE
		WHEN coalesce(t.needs_authorization, false) THEN '` + core.StateNeedsAuthorization + `'
		WHEN coalesce(t.last_error, '') <> '' THEN '` + core.StateFailing + `'
		WHEN t.access_token IS NULL THEN '` + core.StateNone + `'
		WHEN t.expiry IS NOT NULL AND t.expiry <= ` + now + ` THEN '` + core.StateExpired + `'
		ELSE '` + core.StateValid + `' END`
}

// stateWords are the words accountState says.
var stateWords = []string{core.StateNeedsAuthorization, core.StateFailing, core.StateNone, core.StateExpired, core.StateValid}

// textMatch is the condition that an account's name, its profile's name,
// its grant type or, when now is given, its state (accountState) contains
// text, pattern being the parameter that holds likePattern(text). The
// state is left out when no state word contains text, so that the
// tokens need not be read: it could not match.
//
// lower() folds ASCII letters only, on both engines (SQLite's lower,
// PostgreSQL's under the names' COLLATE "C"; grant types and state words
// are ASCII), and likePattern folds text the same way: ASCII letters
// match in any case, other letters only in the same case.
func textMatch(text, pattern, now string) string {
	like := ` LIKE ` + pattern + ` ESCAPE '\'`
	cond := `lower(a.name)` + like + ` OR lower(p.name)` + like + ` OR lower(a.grant_type)` + like
	if now != "" && stateMayMatch(text) {
		cond += ` OR ` + accountState(now) + like
	}
	return `(` + cond + `)`
}

// stateMayMatch reports whether a state word contains text, in any ASCII
// case.
func stateMayMatch(text string) bool {
	if strings.ContainsAny(text, `%_\`) {
		return false // no state word holds one
	}
	folded := strings.Trim(likePattern(text), "%")
	for _, w := range stateWords {
		if strings.Contains(w, folded) {
			return true
		}
	}
	return false
}

// likePattern is the LIKE pattern for "contains text": text with its
// ASCII letters folded to lower case and %, _ and \ escaped (ESCAPE '\'),
// so that they stand for themselves.
func likePattern(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 2)
	b.WriteByte('%')
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '%' || c == '_' || c == '\\':
			b.WriteByte('\\')
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	b.WriteByte('%')
	return b.String()
}

// CountAccounts counts the accounts q selects, per profile and per state,
// in one read transaction and without reading their tokens. With a Text,
// every account's state is judged (accountState) to match it; without
// one, see countAll.
func (db *Store) CountAccounts(ctx context.Context, q core.AccountQuery) (core.AccountCounts, error) {
	c, err := readTx(ctx, db, func(tx Tx) (core.AccountCounts, error) {
		c := core.AccountCounts{Profiles: map[string]int{}, States: map[string]int{}}
		if q.Text == "" {
			return c, countAll(ctx, tx, q.Now, &c)
		}
		err := countRows(ctx, tx, `
			SELECT p.name, `+accountState("$1")+`, count(*)
			FROM accounts a
			JOIN profiles p ON p.id = a.profile_id
			LEFT JOIN tokens t ON t.account_id = a.id
			WHERE `+textMatch(q.Text, "$2", "$1")+`
			GROUP BY 1, 2`, []any{q.Now.UnixMilli(), likePattern(q.Text)}, func(profile, state string, n int) {
			c.Total += n
			c.Profiles[profile] += n
			c.States[state] += n
		})
		return c, err
	})
	return c, wrapOp("count accounts", err)
}

// accountsPerProfile joins each profile that has accounts (p) to their
// number (c.n), counted from the accounts' profile index.
const accountsPerProfile = `(SELECT profile_id, count(*) AS n FROM accounts GROUP BY profile_id) c
	JOIN profiles p ON p.id = c.profile_id`

// countAll counts every account into c without judging the state of
// each: at 100,000 accounts, reading every tokens row (with its
// ciphertext) is what takes the time. The profiles are counted from the
// accounts' profile index; the states from the accounts that are not
// valid at now, which indexes find (the partial ones of migration 0014
// and tokens_expiry): needs authorization, failing, no access token,
// expired. accountState judges those; every other account with a tokens
// row is valid, and one without a row (none since migration 0013, which
// made them) has no tokens. A row belongs to an account (ON DELETE
// CASCADE), so the accounts without one are the total less the rows.
func countAll(ctx context.Context, tx Tx, now time.Time, c *core.AccountCounts) error {
	err := countRows(ctx, tx, `SELECT p.name, '', c.n FROM `+accountsPerProfile, nil, func(profile, _ string, n int) {
		c.Total += n
		c.Profiles[profile] += n
	})
	if err != nil {
		return err
	}
	var rows int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM tokens`).Scan(&rows); err != nil {
		return err
	}
	notValid := 0
	err = countRows(ctx, tx, `
		SELECT '', `+accountState("$1")+`, count(*) FROM tokens t WHERE t.account_id IN (
			SELECT account_id FROM tokens WHERE needs_authorization
			UNION ALL SELECT account_id FROM tokens WHERE last_error <> ''
			UNION ALL SELECT account_id FROM tokens WHERE access_token IS NULL
			UNION ALL SELECT account_id FROM tokens WHERE expiry <= $1)
		GROUP BY 2`, []any{now.UnixMilli()}, func(_, state string, n int) {
		c.States[state] += n
		notValid += n
	})
	if err != nil {
		return err
	}
	if none := c.Total - rows; none > 0 {
		c.States[core.StateNone] += none
		notValid += none
	}
	if valid := c.Total - notValid; valid > 0 {
		c.States[core.StateValid] = valid
	}
	return nil
}

// countRows runs a query of (profile, state, count) rows and hands each
// to add.
func countRows(ctx context.Context, tx Tx, query string, args []any, add func(profile, state string, n int)) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			profile, state string
			n              int
		)
		if err := rows.Scan(&profile, &state, &n); err != nil {
			return err
		}
		add(profile, state, n)
	}
	return rows.Err()
}

// TokenStatePage returns the token states of the accounts q selects,
// ordered by profile name and then account name (byte order), from
// offset on and at most limit of them (none when limit is not positive;
// a negative offset is 0). The page's accounts are chosen first from the
// stored columns; only their tokens are read and opened, and one that
// does not open is reported in Damaged, as TokenState does.
func (db *Store) TokenStatePage(ctx context.Context, q core.AccountQuery, offset, limit int) ([]core.TokenState, error) {
	if limit <= 0 {
		return nil, nil
	}
	offset = max(offset, 0)
	sts, err := readTx(ctx, db, func(tx Tx) ([]core.TokenState, error) {
		var (
			from  = ` FROM accounts a JOIN profiles p ON p.id = a.profile_id`
			where string
			args  []any
		)
		switch {
		case q.Text != "" && stateMayMatch(q.Text):
			from += ` LEFT JOIN tokens t ON t.account_id = a.id`
			where, args = ` WHERE `+textMatch(q.Text, "$2", "$1"), []any{q.Now.UnixMilli(), likePattern(q.Text)}
		case q.Text != "":
			where, args = ` WHERE `+textMatch(q.Text, "$1", ""), []any{likePattern(q.Text)}
		case offset >= skipProfilesFrom:
			first, rest, err := pageStart(ctx, tx, offset)
			if err != nil || first == "" {
				return nil, err
			}
			where, args, offset = ` WHERE p.name >= $1`, []any{first}, rest
		}
		n := len(args)
		args = append(args, limit, offset)
		// The page's ids first, from the names (and, with a Text, the
		// state's columns) alone: the rows skipped by an offset are
		// neither joined to their tokens' ciphertext nor opened.
		// Without a Text, the profiles' name index and
		// accounts_profile_name give them in order.
		return db.queryTokenStates(ctx, tx, tokenStateSelect+` WHERE a.id IN (
				SELECT a.id`+from+where+`
				ORDER BY p.name, a.name
				LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2)+`)
			ORDER BY p.name, a.name`, args...)
	})
	return sts, wrapOp("list a page of token states", err)
}

// skipProfilesFrom is the offset from which a page of every account
// skips whole profiles by their counts (pageStart) rather than having the
// engine order and skip every account before it: PostgreSQL sorts all of
// them (it does not see that its profile-by-profile index walk comes out
// ordered), some 80 ms at an offset of 90,000, where counting the
// profiles takes about 10 ms. A variable for the tests.
var skipProfilesFrom = 1000

// pageStart returns the first profile (by name) that has an account at
// offset among every account ordered by profile and account name, and
// how many of the accounts of that profile and the later ones come
// before it; "" when there are not more than offset accounts.
func pageStart(ctx context.Context, tx Tx, offset int) (string, int, error) {
	rows, err := tx.Query(ctx, `SELECT p.name, c.n FROM `+accountsPerProfile+` ORDER BY p.name`)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name string
			n    int
		)
		if err := rows.Scan(&name, &n); err != nil {
			return "", 0, err
		}
		if offset < n {
			return name, offset, nil
		}
		offset -= n
	}
	return "", 0, rows.Err()
}
