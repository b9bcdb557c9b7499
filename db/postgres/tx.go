package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"oidcctl/db/internal/sqlstore"
)

// The transactions of the store. Every public method (the shared ones of
// db/internal/sqlstore) runs its work in one of them through run, the only
// place that begins, rolls back and commits: the work itself is a function
// of the transaction, which does no I/O but the database's.

// WriterLock is the key of the transaction-level advisory lock that every
// write transaction takes first, so that the writers of every process on
// the database take turns (see the package documentation); a program that
// writes the database by other means (db copy) takes it too. Its value is
// arbitrary and fixed: "oidcctl" in ASCII.
const WriterLock int64 = 0x6f69646363746c

// run begins a transaction (a write or a read-only one), runs fn in it and
// ends it: a write is committed when fn returns nil, everything else is
// rolled back. A write transaction takes the writer lock before fn runs.
// Errors come back unwrapped; the public methods say what they were doing.
func (db *DB) run(ctx context.Context, write bool, fn func(tx pgx.Tx) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	if write {
		// Read committed: after the lock, each statement sees what the
		// writer before this one committed.
		opts = pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}
	}
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // after a commit, a no-op
	if write {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, WriterLock); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if !write {
		return nil
	}
	return tx.Commit(ctx)
}

// runShared is run for the shared store (sqlstore): fn gets the
// transaction through pgTx.
func (db *DB) runShared(ctx context.Context, write bool, fn func(sqlstore.Tx) error) error {
	return db.run(ctx, write, func(tx pgx.Tx) error { return fn(pgTx{tx}) })
}

// pgTx is a transaction (pgx.Tx), or the pool (runStatements), as the
// shared store's sqlstore.Tx.
type pgTx struct{ tx pgQuerier }

// pgQuerier is what pgx.Tx and pgxpool.Pool both run statements with.
type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func (t pgTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (t pgTx) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return t.tx.Query(ctx, query, args...)
}

func (t pgTx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return pgRow{t.tx.QueryRow(ctx, query, args...)}
}

// ExecBatch runs query once for each set of arguments in one pipelined
// batch: one round trip for all of them.
func (t pgTx) ExecBatch(ctx context.Context, query string, args [][]any) error {
	var batch pgx.Batch
	for _, a := range args {
		batch.Queue(query, a...)
	}
	return t.tx.SendBatch(ctx, &batch).Close()
}

// pgRow turns pgx.ErrNoRows into sqlstore.ErrNoRows.
type pgRow struct{ row pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

// runStatements is sqlstore.Store.Statements: fn's statements run on the
// pool, each committed on its own, without the writer lock (one round
// trip each).
func (db *DB) runStatements(_ context.Context, fn func(sqlstore.Tx) error) error {
	return fn(pgTx{db.pool})
}
