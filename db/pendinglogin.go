package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"oidcctl/core"
)

// The pending logins of logins through serve (core.PendingLoginStore):
// one row of pending_logins per state, the PKCE verifier sealed.

// CreatePendingLogin stores a new login; *core.ExistsError when its state
// is taken, *core.NotFoundError when its account does not exist. A zero
// CreatedAt is set from db.Now, an empty Status is core.LoginPending.
func (db *DB) CreatePendingLogin(ctx context.Context, l core.PendingLogin) error {
	if l.State == "" || !l.Verifier.IsSet() || l.ExpiresAt.IsZero() {
		return fmt.Errorf("create login of account %s: state, verifier and expiry are required", l.Account)
	}
	if l.Scopes == nil {
		l.Scopes = []string{}
	}
	scopes, err := json.Marshal(l.Scopes)
	if err != nil {
		return fmt.Errorf("create login of account %s: %w", l.Account, err)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = db.Now()
	}
	if l.Status == "" {
		l.Status = core.LoginPending
	}
	return wrap("create login of account", l.Account, db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := accountID(ctx, tx, l.Account)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pending_logins WHERE state = ?`, l.State).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &core.ExistsError{Kind: "login", Name: l.State}
		}
		verifier, err := db.seal(l.Verifier, secretAD("login", l.State, "verifier"))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO pending_logins (state, account_id, redirect_uri, verifier, nonce, scopes,
				created_at, expires_at, status, reason, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			l.State, id, l.RedirectURI, verifier, l.Nonce, string(scopes),
			l.CreatedAt.UnixMilli(), l.ExpiresAt.UnixMilli(), string(l.Status), l.Reason, nullMillis(l.FinishedAt))
		return err
	}))
}

// PendingLogin returns one login; *core.NotFoundError when there is none
// with that state.
func (db *DB) PendingLogin(ctx context.Context, state string) (core.PendingLogin, error) {
	l, err := readTx(ctx, db, func(tx *sql.Tx) (core.PendingLogin, error) {
		return db.pendingLogin(ctx, tx, state)
	})
	return l, wrapOp("read login", err)
}

// UpdatePendingLogin reads a login, lets fn change it and writes its
// Status, Reason and FinishedAt back in one IMMEDIATE transaction.
func (db *DB) UpdatePendingLogin(ctx context.Context, state string, fn func(*core.PendingLogin) error) (core.PendingLogin, error) {
	l, err := writeTx(ctx, db, func(tx *sql.Tx) (core.PendingLogin, error) {
		l, err := db.pendingLogin(ctx, tx, state)
		if err != nil {
			return l, err
		}
		if err := fn(&l); err != nil {
			return core.PendingLogin{}, keepAsIs(err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE pending_logins SET status = ?, reason = ?, finished_at = ? WHERE state = ?`,
			string(l.Status), l.Reason, nullMillis(l.FinishedAt), state)
		l.FinishedAt = asStored(l.FinishedAt)
		return l, err
	})
	return l, wrapOp("update login", err)
}

// DeletePendingLogins removes the logins that expired before before.
func (db *DB) DeletePendingLogins(ctx context.Context, before time.Time) (int, error) {
	n, err := writeTx(ctx, db, func(tx *sql.Tx) (int, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_logins WHERE expires_at < ?`, before.UnixMilli())
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		return int(n), err
	})
	return n, wrapOp("delete expired logins", err)
}

// pendingLogin is PendingLogin in tx.
func (db *DB) pendingLogin(ctx context.Context, tx *sql.Tx, state string) (core.PendingLogin, error) {
	var (
		l                core.PendingLogin
		verifier         []byte
		scopes, status   string
		created, expires int64
		finished         sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `
		SELECT l.state, a.name, l.redirect_uri, l.verifier, l.nonce, l.scopes,
			l.created_at, l.expires_at, l.status, l.reason, l.finished_at
		FROM pending_logins l JOIN accounts a ON a.id = l.account_id
		WHERE l.state = ?`, state).Scan(&l.State, &l.Account, &l.RedirectURI, &verifier, &l.Nonce, &scopes,
		&created, &expires, &status, &l.Reason, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return l, &core.NotFoundError{Kind: "login", Name: state}
	}
	if err != nil {
		return l, err
	}
	if l.Verifier, err = db.open(verifier, secretAD("login", l.State, "verifier")); err != nil {
		return core.PendingLogin{}, fmt.Errorf("the stored verifier cannot be opened: %w", err)
	}
	if err := json.Unmarshal([]byte(scopes), &l.Scopes); err != nil {
		return core.PendingLogin{}, fmt.Errorf("scopes: %w", err)
	}
	l.CreatedAt, l.ExpiresAt, l.FinishedAt = fromMillis(created), fromMillis(expires), fromNullMillis(finished)
	l.Status = core.LoginStatus(status)
	return l, nil
}
