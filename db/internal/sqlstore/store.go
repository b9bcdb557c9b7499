// Package sqlstore is what the SQLite store (package db) and the
// PostgreSQL store (package db/postgres) share: every method of
// core.Store, written once against a small transaction interface (Tx),
// with the mapping of rows to core's types, the checks before a write,
// the sealing of secrets, the wrapping of errors and the steps of the
// multi-step operations (a lease taken, tokens saved and the lease
// released, a failure recorded). Each engine keeps only what is its own:
// how a transaction begins, locks and ends, its connections, its
// migrations, and the few words of SQL in which the engines differ
// (Dialect). A new store method belongs here, written once; an engine
// gets a method of its own only for what the other cannot do.
//
// The SQL here is what both engines understand: $1-style parameters
// (SQLite takes $NNN as the NNN-th argument), TRUE and FALSE, INSERT ...
// ON CONFLICT ... DO UPDATE, RETURNING, IS NOT DISTINCT FROM and "user" as
// a quoted column name.
//
// Representation, the same on both engines so that a database can be
// copied between them: times are integer unix milliseconds (UTC),
// durations integer nanoseconds, secrets sealed bytes (package
// db/internal/sealed), NULL when not set, and what is not queried by
// itself a JSON document in a settings column.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
)

// Tx is what the shared code needs of a transaction; each engine adapts
// its own (*sql.Tx, pgx.Tx) to it.
type Tx interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query that returns at most one row; its Scan gives
	// ErrNoRows when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
	// ExecBatch runs one statement once for each set of arguments, as
	// cheaply as the engine can (a prepared statement, a pipelined batch).
	ExecBatch(ctx context.Context, query string, args [][]any) error
}

// Row is one row of QueryRow; the scan functions take it, and Rows too.
type Row interface {
	Scan(dest ...any) error
}

// Rows are the rows of Query. Close may be called more than once.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// ErrNoRows is what a Row's Scan gives when the query returned no row; the
// engines' adapters turn their own (sql.ErrNoRows, pgx.ErrNoRows) into it.
var ErrNoRows = errors.New("no rows in result set")

// Dialect holds the words of SQL in which the engines differ.
type Dialect struct {
	// SameNameFold is the condition that column equals $1 regardless of
	// ASCII case: SQLite's "col = $1 COLLATE NOCASE" (which its unique
	// NOCASE indexes answer), PostgreSQL's "lower(col) = lower($1)".
	SameNameFold func(column string) string
	// NoLimit is what must stand before OFFSET when there is no LIMIT:
	// "LIMIT -1" for SQLite, nothing for PostgreSQL.
	NoLimit string
}

// RunFunc begins a transaction (a write or a read-only one), runs fn in it
// and ends it: a write is committed when fn returns nil, everything else
// is rolled back. It returns fn's error as it is.
type RunFunc func(ctx context.Context, write bool, fn func(Tx) error) error

// Store implements core.Store on a SQL engine, given how that engine runs
// a transaction. The engines embed it.
type Store struct {
	key     *crypt.Key
	run     RunFunc
	dialect Dialect

	// Now is the clock for created and updated times. New sets it to
	// time.Now.
	Now func() time.Time

	// Statements, when set, runs fn with statements that each commit on
	// their own: no transaction around them and no writer lock. It is
	// for a write that is one statement whose atomicity the engine
	// ensures (INSERT ... ON CONFLICT), done so often that taking turns
	// with every other writer would cost too much (SeeProofID, once per
	// DPoP call). Nil: a write transaction, as every other write.
	Statements func(ctx context.Context, fn func(Tx) error) error

	// proofsSeen counts SeeProofID calls, so that every
	// proofSweepEvery-th deletes expired ids (replay.go).
	proofsSeen atomic.Uint64
}

// New returns a Store that seals secrets with key, runs its transactions
// with run and speaks dialect.
func New(key *crypt.Key, dialect Dialect, run RunFunc) *Store {
	return &Store{key: key, run: run, dialect: dialect, Now: time.Now}
}

// Key returns the key the store seals secrets with.
func (db *Store) Key() *crypt.Key { return db.key }

// inTx runs fn in one write transaction and commits it when fn returns
// nil; otherwise it rolls it back and returns fn's error as it is.
func (db *Store) inTx(ctx context.Context, fn func(tx Tx) error) error {
	return db.run(ctx, true, fn)
}

// writeTx is inTx for work that returns a value: the value fn returned,
// or the zero T with the error.
func writeTx[T any](ctx context.Context, db *Store, fn func(tx Tx) (T, error)) (T, error) {
	return withValue(ctx, db, true, fn)
}

// readTx runs fn in one read-only transaction, which it rolls back (there
// is nothing to commit), and returns fn's value; the zero T with the
// error.
func readTx[T any](ctx context.Context, db *Store, fn func(tx Tx) (T, error)) (T, error) {
	return withValue(ctx, db, false, fn)
}

func withValue[T any](ctx context.Context, db *Store, write bool, fn func(tx Tx) (T, error)) (T, error) {
	var v T
	err := db.run(ctx, write, func(tx Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// secretAD is the associated data a secret is sealed with; see sealed.AD.
func secretAD(kind, name, column string) string { return sealed.AD(kind, name, column) }

// seal returns the stored form of a secret: sealed, or nil (NULL) when it
// is not set.
func (db *Store) seal(s core.Secret, ad string) ([]byte, error) { return sealed.Seal(db.key, s, ad) }

// open turns a stored secret back into a Secret; NULL is "not set".
func (db *Store) open(b []byte, ad string) (core.Secret, error) { return sealed.Open(db.key, b, ad) }

// now returns the current time as stored: unix milliseconds.
func (db *Store) now() int64 { return db.Now().UnixMilli() }

// fromMillis turns a stored time back into a time.Time in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullMillis returns the stored form of a time in a nullable column: unix
// milliseconds, or nil (NULL) for the zero time.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// asStored returns t as a nullable time column gives it back: in UTC,
// truncated to the millisecond, zero for zero.
func asStored(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return fromMillis(t.UnixMilli())
}

// nullTime scans a nullable stored time (unix milliseconds) into the
// time.Time it points to, in UTC; NULL is the zero time. Both engines'
// drivers take it as a database/sql Scanner; it holds only a pointer, so
// passing it to Scan allocates nothing.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.t = time.Time{}
	case int64:
		*n.t = fromMillis(v)
	default:
		return fmt.Errorf("a stored time is %T, not an integer", src)
	}
	return nil
}

// typed reports whether err is one of core's typed errors, which already say
// what and which, so that the callers return them without more context.
func typed(err error) bool {
	var (
		nf *core.NotFoundError
		ex *core.ExistsError
		iu *core.InUseError
		ve *core.ValidationError
	)
	return errors.As(err, &nf) || errors.As(err, &ex) || errors.As(err, &iu) || errors.As(err, &ve)
}

// wrap adds what was being done to an error, except to core's typed errors.
func wrap(op, name string, err error) error {
	return wrapOp(op+" "+name, err)
}

// wrapOp is wrap where there is no name: it adds "op: " to an error,
// except to core's typed errors and to an asIs error, which it returns as
// it is.
func wrapOp(op string, err error) error {
	if a, ok := err.(asIs); ok {
		return a.err
	}
	if err == nil || typed(err) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// asIs carries an error out of a transaction's function to be returned as
// it is, without the method's context: the error of a caller's function
// (the fn of the Update methods), or one that already says more than the
// method would.
type asIs struct{ err error }

func (e asIs) Error() string { return e.err.Error() }
func (e asIs) Unwrap() error { return e.err }

// keepAsIs marks a non-nil err as asIs; nil stays nil.
func keepAsIs(err error) error {
	if err == nil {
		return nil
	}
	return asIs{err}
}

// queryStrings runs a query of one text column and appends its values
// to out.
func queryStrings(ctx context.Context, tx Tx, out []string, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
