package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"oidcctl/db/internal/sqlstore"
)

// The transactions of the store. Every public method (the shared ones of
// db/internal/sqlstore) runs its work in one of them through run, the only
// place that begins, rolls back and commits: the work itself is a function
// of the transaction, which does no I/O but the database's (whatever reads
// files, standard input or a person runs before, in the caller).
//
// What is SQLite's lives here and in the DSN: a write transaction begins
// IMMEDIATE because the DSN sets _txlock=immediate, so that it takes the
// write lock at once and a read-modify-write of two processes waits
// instead of failing with SQLITE_BUSY; a read transaction is DEFERRED and,
// in WAL mode, never waits for a writer.

// run begins a transaction (a write or a read-only one), runs fn in it and
// ends it: a write is committed when fn returns nil, everything else is
// rolled back. Errors come back unwrapped; the public methods say what
// they were doing.
func (db *DB) run(ctx context.Context, write bool, fn func(tx *sql.Tx) error) error {
	tx, err := db.begin(ctx, write)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after a commit, a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if !write {
		return nil
	}
	return tx.Commit()
}

// begin starts a transaction: IMMEDIATE for writes, DEFERRED for reads. A
// write to a database opened read-only fails here, saying so.
func (db *DB) begin(ctx context.Context, write bool) (*sql.Tx, error) {
	if write && db.readOnly {
		return nil, fmt.Errorf("%w (this process may not write %s)", ErrReadOnly, db.path)
	}
	return db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
}

// runShared is run for the shared store (sqlstore): fn gets the
// transaction through sqlTx.
func (db *DB) runShared(ctx context.Context, write bool, fn func(sqlstore.Tx) error) error {
	return db.run(ctx, write, func(tx *sql.Tx) error { return fn(sqlTx{tx}) })
}

// sqlTx is a *sql.Tx as the shared store's sqlstore.Tx.
type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t sqlTx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (t sqlTx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return sqlRow{t.tx.QueryRowContext(ctx, query, args...)}
}

// ExecBatch runs query once for each set of arguments, as one prepared
// statement.
func (t sqlTx) ExecBatch(ctx context.Context, query string, args [][]any) error {
	stmt, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, a := range args {
		if _, err := stmt.ExecContext(ctx, a...); err != nil {
			return err
		}
	}
	return nil
}

// sqlRow turns sql.ErrNoRows into sqlstore.ErrNoRows.
type sqlRow struct{ row *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

// sqlRows is *sql.Rows with a Close that returns nothing: the error of
// reading the rows comes from Err.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
