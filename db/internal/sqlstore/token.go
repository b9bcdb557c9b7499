package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"oidcctl/core"
)

// The token state of an account is one row of the tokens table, created
// with the account (before migration 0013: by the first write, a lease,
// tokens or a failure). An account without a row, and a row as created,
// have the zero state. Whether a lease has expired is judged by the now
// the caller passes, not by db.Now; lease times are kept, like every time,
// in whole milliseconds.

// TokenState returns the token state of an account: zero tokens and no
// history when none were obtained yet; *core.NotFoundError when the
// account does not exist. Tokens that cannot be opened are left unset and
// reported in Damaged.
func (db *Store) TokenState(ctx context.Context, account string) (core.TokenState, error) {
	st, err := readTx(ctx, db, func(tx Tx) (core.TokenState, error) {
		st, _, err := db.tokenState(ctx, tx, account)
		return st, err
	})
	return st, wrap("read token state of account", account, err)
}

// TokenStates returns the token state of every account, those without
// tokens included, ordered by account name (byte order). An account whose
// tokens cannot be opened is listed with Damaged set, so that one bad row
// does not hide the others.
func (db *Store) TokenStates(ctx context.Context) ([]core.TokenState, error) {
	sts, err := readTx(ctx, db, func(tx Tx) ([]core.TokenState, error) {
		return db.listTokenStates(ctx, tx)
	})
	return sts, wrapOp("list token states", err)
}

// DueTokenStates returns, ordered by account name (byte order), the state
// of every account that a refresh run at now may have to renew because
// its tokens run out before before: accounts without an access and a
// refresh token, and those whose access or refresh token expires before
// before; not the accounts that need authorization or whose next attempt
// is after now. Indexes find them without reading every account: every
// account has a row in tokens (made with the account; migration 0013 made
// them for the accounts before it), so that the ones without tokens are
// found by an index too.
func (db *Store) DueTokenStates(ctx context.Context, now, before time.Time) ([]core.TokenState, error) {
	sts, err := readTx(ctx, db, func(tx Tx) ([]core.TokenState, error) {
		// UNION ALL, not UNION: SQLite merges a UNION in account_id
		// order, scanning the whole table instead of using the indexes.
		return db.queryTokenStates(ctx, tx, tokenStateSelect+` WHERE a.id IN (
				SELECT account_id FROM tokens WHERE expiry < $1
				UNION ALL SELECT account_id FROM tokens WHERE refresh_expiry < $1
				UNION ALL SELECT account_id FROM tokens WHERE access_token IS NULL AND refresh_token IS NULL)
			AND NOT coalesce(t.needs_authorization, false)
			AND (t.next_attempt IS NULL OR t.next_attempt <= $2)
			ORDER BY a.name`, before.UnixMilli(), now.UnixMilli())
	})
	return sts, wrapOp("list due token states", err)
}

// NextTokenWake returns the earliest time after now and before before at
// which a refresh run has something to do that its schedule does not
// foresee: the next attempt of an account held back after a failure (one
// that does not need authorization), or the end of a lease that an owner
// other than owner holds. Zero when there is none.
func (db *Store) NextTokenWake(ctx context.Context, owner string, now, before time.Time) (time.Time, error) {
	t, err := readTx(ctx, db, func(tx Tx) (time.Time, error) {
		var next time.Time
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`SELECT next_attempt FROM tokens
				WHERE next_attempt > $1 AND next_attempt < $2 AND last_error <> '' AND NOT needs_authorization
				ORDER BY next_attempt LIMIT 1`, []any{now.UnixMilli(), before.UnixMilli()}},
			{`SELECT lease_until FROM tokens
				WHERE lease_until > $1 AND lease_until < $2 AND lease_owner <> '' AND lease_owner <> $3
				ORDER BY lease_until LIMIT 1`, []any{now.UnixMilli(), before.UnixMilli(), owner}},
		} {
			var at time.Time
			err := tx.QueryRow(ctx, q.sql, q.args...).Scan(nullTime{&at})
			if errors.Is(err, ErrNoRows) {
				continue
			}
			if err != nil {
				return time.Time{}, err
			}
			if next.IsZero() || at.Before(next) {
				next = at
			}
		}
		return next, nil
	})
	return t, wrapOp("find the next token wake", err)
}

// EachTokenState calls fn with the state of every account, as
// TokenStates lists them, one row at a time, in one read transaction: fn
// must not write to the store (SQLite would wait for itself). An error of
// fn stops it and is returned as it is.
func (db *Store) EachTokenState(ctx context.Context, fn func(core.TokenState) error) error {
	var fnErr error
	err := db.run(ctx, false, func(tx Tx) error {
		rows, err := tx.Query(ctx, tokenStateSelect+` ORDER BY a.name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			st, _, err := db.scanTokenState(rows)
			if err != nil {
				return err
			}
			if fnErr = fn(st); fnErr != nil {
				return fnErr
			}
		}
		return rows.Err()
	})
	if fnErr != nil {
		return fnErr
	}
	return wrapOp("list token states", err)
}

// AcquireLease gives owner the refresh lease of an account until until,
// unless another owner holds a lease that has not expired at now (its
// LeaseUntil is after now). The owner that holds it may acquire it again,
// which moves LeaseUntil to until. Reading and taking are one write
// transaction, so two processes cannot both take it.
//
// When the lease is taken, the state returned is as stored afterwards
// (LeaseOwner is owner); when not, it is as stored, naming the holder.
// owner must not be empty; *core.NotFoundError when the account does not
// exist.
func (db *Store) AcquireLease(ctx context.Context, account, owner string, now, until time.Time) (core.TokenState, bool, error) {
	if owner == "" {
		return core.TokenState{}, false, fmt.Errorf("acquire lease of account %s: no lease owner given", account)
	}
	taken := false
	st, err := writeTx(ctx, db, func(tx Tx) (core.TokenState, error) {
		st, id, err := db.tokenState(ctx, tx, account)
		if err != nil {
			return st, err
		}
		if st.LeaseOwner != "" && st.LeaseOwner != owner && st.LeaseUntil.After(now) {
			return st, nil // held by another: nothing written
		}
		if err := setLease(ctx, tx, id, owner, until); err != nil {
			return st, err
		}
		st.LeaseOwner, st.LeaseUntil, taken = owner, asStored(until), true
		return st, nil
	})
	if err != nil {
		return core.TokenState{}, false, wrap("acquire lease of account", account, err)
	}
	return st, taken, nil
}

// SaveTokens stores a new token set, in one write transaction: the
// whole set replaces the stored one, LastSuccess becomes set.ObtainedAt
// (db.Now when that is zero), the last error, the failure count, the next
// attempt and NeedsAuthorization are cleared, and owner's lease is
// released.
//
// The tokens are stored even when owner no longer holds the lease (it
// expired and another process took it, or owner is ""): a refresh token
// the provider has rotated is the only one that works from now on, and
// dropping it would lose the account. The other holder's lease is then
// left as it is.
//
// An empty set.RefreshToken keeps the stored refresh token and its
// RefreshExpiry (set.RefreshExpiry is then ignored): providers that do not
// rotate refresh tokens leave them out of a refresh response, and an
// empty one must never overwrite one that works. A stored refresh token
// that cannot be opened is dropped instead. ClearTokens is the way to
// forget a refresh token.
//
// *core.NotFoundError when the account does not exist.
func (db *Store) SaveTokens(ctx context.Context, account, owner string, set core.TokenSet) error {
	return wrap("save tokens of account", account, db.inTx(ctx, func(tx Tx) error {
		return db.saveTokens(ctx, tx, account, owner, &set)
	}))
}

// RecordFailure keeps a failed attempt, in one write transaction: the
// stored tokens stay, LastError and LastErrorAt are f.Err and f.At (db.Now
// when zero), Failures goes up by one, NextAttempt and NeedsAuthorization
// are f's, and owner's lease is released. *core.NotFoundError when the
// account does not exist.
func (db *Store) RecordFailure(ctx context.Context, account, owner string, f core.Failure) error {
	return wrap("record failure of account", account, db.inTx(ctx, func(tx Tx) error {
		return db.recordFailure(ctx, tx, account, owner, f)
	}))
}

// ReleaseLease gives up owner's lease of an account, if owner still holds
// it; a lease held by another owner (or none) is left as it is.
// *core.NotFoundError when the account does not exist.
func (db *Store) ReleaseLease(ctx context.Context, account, owner string) error {
	return wrap("release lease of account", account, db.inTx(ctx, func(tx Tx) error {
		id, err := accountID(ctx, tx, account)
		if err != nil {
			return err
		}
		return releaseLease(ctx, tx, id, owner)
	}))
}

// ClearTokens forgets the tokens of an account and how getting them went
// (last success, last error, failures, next attempt, NeedsAuthorization),
// so that its state is that of an account that never had tokens. The
// lease is kept: a process renewing at that moment still holds it, and
// stores what it obtains. *core.NotFoundError when the account does not
// exist.
func (db *Store) ClearTokens(ctx context.Context, account string) error {
	return wrap("clear tokens of account", account, db.inTx(ctx, func(tx Tx) error {
		return clearTokens(ctx, tx, account)
	}))
}

// tokenStateSelect reads the state of accounts, with or without a tokens
// row: the columns of a missing row come back as their zero values.
const tokenStateSelect = `
	SELECT a.id, a.name, p.name, a.grant_type,
		t.access_token, t.refresh_token, t.id_token, coalesce(t.token_type, ''),
		t.expiry, t.refresh_expiry, coalesce(t.scope, ''), t.obtained_at,
		t.last_success, coalesce(t.last_error, ''), t.last_error_at, coalesce(t.failures, 0),
		t.next_attempt, coalesce(t.needs_authorization, false), coalesce(t.lease_owner, ''), t.lease_until
	FROM accounts a
	JOIN profiles p ON p.id = a.profile_id
	LEFT JOIN tokens t ON t.account_id = a.id`

// scanTokenState reads one row of tokenStateSelect and opens its tokens.
// A token that does not open is left unset and the reason kept in
// Damaged: the other columns, and the other rows, stay readable.
func (db *Store) scanTokenState(row Row) (core.TokenState, int64, error) {
	var (
		st                       core.TokenState
		id                       int64
		access, refresh, idToken []byte
		grantType                string
		t                        = &st.Tokens
		needsAuthorization       bool
	)
	if err := row.Scan(&id, &st.Account, &st.Profile, &grantType,
		&access, &refresh, &idToken, &t.TokenType,
		nullTime{&t.Expiry}, nullTime{&t.RefreshExpiry}, &t.Scope, nullTime{&t.ObtainedAt},
		nullTime{&st.LastSuccess}, &st.LastError, nullTime{&st.LastErrorAt}, &st.Failures,
		nullTime{&st.NextAttempt}, &needsAuthorization, &st.LeaseOwner, nullTime{&st.LeaseUntil}); err != nil {
		return core.TokenState{}, 0, err
	}
	st.GrantType = core.GrantType(grantType)
	var damaged []error
	for _, c := range []struct {
		sealed []byte
		column string
		to     *core.Secret
	}{{access, "access_token", &t.AccessToken}, {refresh, "refresh_token", &t.RefreshToken}, {idToken, "id_token", &t.IDToken}} {
		var err error
		if *c.to, err = db.open(c.sealed, secretAD("account", st.Account, c.column)); err != nil {
			damaged = append(damaged, fmt.Errorf("the stored %s cannot be opened: %w", c.column, err))
		}
	}
	if len(damaged) > 0 {
		st.Damaged = core.DamagedTokens(damaged)
	}
	st.NeedsAuthorization = needsAuthorization
	return st, id, nil
}

// tokenState returns the token state of an account and the account's id;
// *core.NotFoundError when there is no such account.
func (db *Store) tokenState(ctx context.Context, tx Tx, account string) (core.TokenState, int64, error) {
	st, id, err := db.scanTokenState(tx.QueryRow(ctx, tokenStateSelect+` WHERE a.name = $1`, account))
	if errors.Is(err, ErrNoRows) {
		return core.TokenState{}, 0, &core.NotFoundError{Kind: "account", Name: account}
	}
	return st, id, err
}

func (db *Store) listTokenStates(ctx context.Context, tx Tx) ([]core.TokenState, error) {
	return db.queryTokenStates(ctx, tx, tokenStateSelect+` ORDER BY a.name`)
}

// queryTokenStates reads the rows of a query of tokenStateSelect.
func (db *Store) queryTokenStates(ctx context.Context, tx Tx, query string, args ...any) ([]core.TokenState, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.TokenState
	for rows.Next() {
		st, _, err := db.scanTokenState(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// setLease gives the lease of account id to owner until until, creating
// the row when there is none.
func setLease(ctx context.Context, tx Tx, id int64, owner string, until time.Time) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO tokens (account_id, lease_owner, lease_until) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until`,
		id, owner, nullMillis(until))
	return err
}

// releaseLease clears the lease of account id when owner holds it. The
// empty owner holds nothing.
func releaseLease(ctx context.Context, tx Tx, id int64, owner string) error {
	if owner == "" {
		return nil
	}
	_, err := tx.Exec(ctx,
		`UPDATE tokens SET lease_owner = '', lease_until = NULL WHERE account_id = $1 AND lease_owner = $2`,
		id, owner)
	return err
}

// saveTokens stores set as SaveTokens describes.
func (db *Store) saveTokens(ctx context.Context, tx Tx, account, owner string, set *core.TokenSet) error {
	id, err := accountID(ctx, tx, account)
	if err != nil {
		return err
	}
	access, err := db.seal(set.AccessToken, secretAD("account", account, "access_token"))
	if err != nil {
		return err
	}
	refresh, err := db.seal(set.RefreshToken, secretAD("account", account, "refresh_token"))
	if err != nil {
		return err
	}
	idToken, err := db.seal(set.IDToken, secretAD("account", account, "id_token"))
	if err != nil {
		return err
	}
	refreshExpiry := nullMillis(set.RefreshExpiry)
	if refresh == nil {
		refreshExpiry = nil // kept from the stored row below, with its token
		// unless that token cannot be opened: keeping it would keep the
		// account damaged for good.
		if err := db.dropDamagedRefreshToken(ctx, tx, id, account); err != nil {
			return err
		}
	}
	lastSuccess := set.ObtainedAt
	if lastSuccess.IsZero() {
		lastSuccess = db.Now()
	}
	// A NULL refresh_token in the new values keeps the stored token and
	// its expiry (the CASE reads the stored row, before this update).
	_, err = tx.Exec(ctx, `
		INSERT INTO tokens (account_id, access_token, refresh_token, id_token, token_type, expiry, refresh_expiry,
			scope, obtained_at, last_success)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (account_id) DO UPDATE SET
			access_token        = excluded.access_token,
			refresh_token       = coalesce(excluded.refresh_token, tokens.refresh_token),
			id_token            = excluded.id_token,
			token_type          = excluded.token_type,
			expiry              = excluded.expiry,
			refresh_expiry      = CASE WHEN excluded.refresh_token IS NULL THEN tokens.refresh_expiry ELSE excluded.refresh_expiry END,
			scope               = excluded.scope,
			obtained_at         = excluded.obtained_at,
			last_success        = excluded.last_success,
			last_error          = '',
			last_error_at       = NULL,
			failures            = 0,
			next_attempt        = NULL,
			needs_authorization = false`,
		id, access, refresh, idToken, set.TokenType, nullMillis(set.Expiry), refreshExpiry,
		set.Scope, nullMillis(set.ObtainedAt), lastSuccess.UnixMilli())
	if err != nil {
		return err
	}
	return releaseLease(ctx, tx, id, owner)
}

// dropDamagedRefreshToken clears the stored refresh token of account id
// (named account) when it cannot be opened.
func (db *Store) dropDamagedRefreshToken(ctx context.Context, tx Tx, id int64, account string) error {
	var stored []byte
	err := tx.QueryRow(ctx, `SELECT refresh_token FROM tokens WHERE account_id = $1`, id).Scan(&stored)
	if errors.Is(err, ErrNoRows) || err == nil && stored == nil {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := db.open(stored, secretAD("account", account, "refresh_token")); err == nil {
		return nil
	}
	_, err = tx.Exec(ctx, `UPDATE tokens SET refresh_token = NULL, refresh_expiry = NULL WHERE account_id = $1`, id)
	return err
}

// recordFailure keeps f as RecordFailure describes.
func (db *Store) recordFailure(ctx context.Context, tx Tx, account, owner string, f core.Failure) error {
	id, err := accountID(ctx, tx, account)
	if err != nil {
		return err
	}
	at := f.At
	if at.IsZero() {
		at = db.Now()
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO tokens (account_id, last_error, last_error_at, failures, next_attempt, needs_authorization)
		VALUES ($1, $2, $3, 1, $4, $5)
		ON CONFLICT (account_id) DO UPDATE SET
			last_error          = excluded.last_error,
			last_error_at       = excluded.last_error_at,
			failures            = tokens.failures + 1,
			next_attempt        = excluded.next_attempt,
			needs_authorization = excluded.needs_authorization`,
		id, f.Err, at.UnixMilli(), nullMillis(f.NextAttempt), f.NeedsAuthorization)
	if err != nil {
		return err
	}
	return releaseLease(ctx, tx, id, owner)
}

// clearTokens empties every column of an account's row but the lease.
func clearTokens(ctx context.Context, tx Tx, account string) error {
	id, err := accountID(ctx, tx, account)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		UPDATE tokens SET
			access_token = NULL, refresh_token = NULL, id_token = NULL, token_type = '',
			expiry = NULL, refresh_expiry = NULL, scope = '', obtained_at = NULL,
			last_success = NULL, last_error = '', last_error_at = NULL, failures = 0,
			next_attempt = NULL, needs_authorization = false
		WHERE account_id = $1`, id)
	return err
}
