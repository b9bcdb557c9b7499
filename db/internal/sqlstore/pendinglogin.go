package sqlstore

import (
	"context"
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
func (db *Store) CreatePendingLogin(ctx context.Context, l core.PendingLogin) error {
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
	return wrap("create login of account", l.Account, db.inTx(ctx, func(tx Tx) error {
		id, err := accountID(ctx, tx, l.Account)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pending_logins WHERE state = $1`, l.State).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &core.ExistsError{Kind: "login", Name: l.State}
		}
		verifier, err := db.seal(l.Verifier, secretAD("login", l.State, "verifier"))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO pending_logins (state, account_id, redirect_uri, verifier, nonce, scopes,
				created_at, expires_at, status, reason, finished_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			l.State, id, l.RedirectURI, verifier, l.Nonce, string(scopes),
			l.CreatedAt.UnixMilli(), l.ExpiresAt.UnixMilli(), string(l.Status), l.Reason, nullMillis(l.FinishedAt))
		return err
	}))
}

// PendingLogin returns one login; *core.NotFoundError when there is none
// with that state.
func (db *Store) PendingLogin(ctx context.Context, state string) (core.PendingLogin, error) {
	l, err := readTx(ctx, db, func(tx Tx) (core.PendingLogin, error) {
		return db.pendingLogin(ctx, tx, state)
	})
	return l, wrapOp("read login", err)
}

// UpdatePendingLogin reads a login, lets fn change it and writes its
// Status, Reason and FinishedAt back in one transaction.
func (db *Store) UpdatePendingLogin(ctx context.Context, state string, fn func(*core.PendingLogin) error) (core.PendingLogin, error) {
	l, err := writeTx(ctx, db, func(tx Tx) (core.PendingLogin, error) {
		l, err := db.pendingLogin(ctx, tx, state)
		if err != nil {
			return l, err
		}
		if err := fn(&l); err != nil {
			return core.PendingLogin{}, keepAsIs(err)
		}
		_, err = tx.Exec(ctx, `UPDATE pending_logins SET status = $1, reason = $2, finished_at = $3 WHERE state = $4`,
			string(l.Status), l.Reason, nullMillis(l.FinishedAt), state)
		l.FinishedAt = asStored(l.FinishedAt)
		return l, err
	})
	return l, wrapOp("update login", err)
}

// PendingLoginStates returns the states of the logins that have not
// expired at at.
func (db *Store) PendingLoginStates(ctx context.Context, at time.Time) ([]string, error) {
	states, err := readTx(ctx, db, func(tx Tx) ([]string, error) {
		return queryStrings(ctx, tx, []string{}, `SELECT state FROM pending_logins WHERE expires_at >= $1 ORDER BY state`, at.UnixMilli())
	})
	return states, wrapOp("list logins", err)
}

// DeletePendingLogins removes the logins that expired before before.
func (db *Store) DeletePendingLogins(ctx context.Context, before time.Time) (int, error) {
	n, err := writeTx(ctx, db, func(tx Tx) (int, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM pending_logins WHERE expires_at < $1`, before.UnixMilli())
		if err != nil {
			return 0, err
		}
		return int(tag), nil
	})
	return n, wrapOp("delete expired logins", err)
}

// pendingLogin is PendingLogin in tx.
func (db *Store) pendingLogin(ctx context.Context, tx Tx, state string) (core.PendingLogin, error) {
	var (
		l                core.PendingLogin
		verifier         []byte
		scopes, status   string
		created, expires int64
	)
	err := tx.QueryRow(ctx, `
		SELECT l.state, a.name, l.redirect_uri, l.verifier, l.nonce, l.scopes,
			l.created_at, l.expires_at, l.status, l.reason, l.finished_at
		FROM pending_logins l JOIN accounts a ON a.id = l.account_id
		WHERE l.state = $1`, state).Scan(&l.State, &l.Account, &l.RedirectURI, &verifier, &l.Nonce, &scopes,
		&created, &expires, &status, &l.Reason, nullTime{&l.FinishedAt})
	if errors.Is(err, ErrNoRows) {
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
	l.CreatedAt, l.ExpiresAt = fromMillis(created), fromMillis(expires)
	l.Status = core.LoginStatus(status)
	return l, nil
}
