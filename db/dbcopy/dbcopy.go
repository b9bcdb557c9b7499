// Package dbcopy copies oidcctl's state from one database to another, in
// either direction between SQLite and PostgreSQL (or between two of the
// same kind): `oidcctl db copy`.
//
// It copies rows as they are stored, ids included, so that sealed
// secrets (whose associated data names the row by kind, name and column,
// see db/internal/sealed) open on the other side with the same key and are
// never unsealed on the way. Both databases must already carry the
// current schema (open them with their store's Open first, which migrates
// them and checks the key); Copy then checks that both were sealed with
// the same key and refuses otherwise.
//
// What is copied: settings, profiles, their cached discovery documents,
// accounts, token states (leases included), users and their roles,
// webservices and their invoke credentials, and, with Options.Debug, the
// debugger's log. Not copied: the serve status (it describes processes
// running on the source), pending logins (a login under way completes on
// the database it started on; they expire within minutes) and the
// schema's own bookkeeping (migrations,
// key check, configuration version, which the destination keeps and
// raises).
//
// All is written in one transaction on the destination: a copy that fails
// leaves the destination as it was.
package dbcopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"oidcctl/db"
	"oidcctl/db/postgres"
)

// Tables in the order they are copied: each after those it refers to.
var tables = []string{
	"settings", "profiles", "discovery_cache", "accounts", "tokens",
	"users", "user_roles", "webservices", "invoke_credentials",
}

// debugTable is copied only with Options.Debug.
const debugTable = "debug_log"

// ErrNotEmpty is wrapped by the error of a copy into a destination that
// holds data, without Options.Replace.
var ErrNotEmpty = errors.New("destination database is not empty")

// ErrKeyMismatch is wrapped by the error of a copy between databases
// whose secrets were sealed with different keys.
var ErrKeyMismatch = errors.New("the databases' secrets are sealed with different keys")

// Options tune a copy.
type Options struct {
	// Debug copies the debugger's log too.
	Debug bool
	// Replace lets the copy go into a destination that holds data: what
	// it holds (of the tables copied) is deleted first, in the same
	// transaction.
	Replace bool
	// Progress, when not nil, is called after each batch of rows of a
	// table and at the end of each table, with the rows copied so far and
	// the table's total.
	Progress func(table string, done, total int)
}

// ProgressEvery is how many rows are copied between calls of
// Options.Progress.
const ProgressEvery = 1000

// Result says how many rows of each table were copied.
type Result struct {
	Tables []TableCount `json:"tables"`
}

// TableCount is the number of rows copied of one table.
type TableCount struct {
	Table string `json:"table"`
	Rows  int    `json:"rows"`
}

// Copy copies the state of the database from names into the database to
// names: each a SQLite file path or a PostgreSQL connection string (see
// postgres.IsConnString). keyID is the id of the key both must be sealed
// with (the key the caller opened them with); a database sealed with
// another one is refused with ErrKeyMismatch.
func Copy(ctx context.Context, from, to string, keyID string, opts Options) (Result, error) {
	var res Result
	if err := checkKey(ctx, from, keyID); err != nil {
		return res, err
	}
	if err := checkKey(ctx, to, keyID); err != nil {
		return res, err
	}
	src, err := connect(ctx, from, false)
	if err != nil {
		return res, err
	}
	defer src.close()
	if err := src.snapshot(ctx); err != nil {
		return res, err
	}
	dst, err := connect(ctx, to, true)
	if err != nil {
		return res, err
	}
	defer dst.close()

	list := tables
	if opts.Debug {
		list = append(append([]string(nil), tables...), debugTable)
	}
	w, err := dst.begin(ctx)
	if err != nil {
		return res, fmt.Errorf("copy to %s: %w", dst.name, err)
	}
	defer w.rollback()
	if err := prepare(ctx, w, list, opts.Replace); err != nil {
		return res, fmt.Errorf("copy to %s: %w", dst.name, err)
	}
	for _, t := range list {
		n, err := copyTable(ctx, src, w, t, opts.Progress)
		if err != nil {
			return res, fmt.Errorf("copy %s from %s to %s: %w", t, src.name, dst.name, err)
		}
		res.Tables = append(res.Tables, TableCount{Table: t, Rows: n})
	}
	if err := w.finish(ctx, list); err != nil {
		return res, fmt.Errorf("copy to %s: %w", dst.name, err)
	}
	return res, nil
}

// checkKey refuses a database sealed with another key than keyID.
func checkKey(ctx context.Context, where, keyID string) error {
	var (
		id  string
		err error
	)
	if postgres.IsConnString(where) {
		id, err = postgres.SealedBy(ctx, where)
	} else {
		id, err = db.SealedBy(ctx, where)
	}
	if err != nil {
		return err
	}
	if id != "" && id != keyID {
		return fmt.Errorf("%w: %s is sealed with key %s, the key given is %s", ErrKeyMismatch, display(where), id, keyID)
	}
	return nil
}

// display names a database for messages, without a password.
func display(where string) string {
	if postgres.IsConnString(where) {
		return postgres.Redact(where)
	}
	return where
}

// prepare refuses a destination that holds data unless replace, and then
// empties it, children first.
func prepare(ctx context.Context, w writer, list []string, replace bool) error {
	var held []string
	for _, t := range list {
		n, err := w.count(ctx, t)
		if err != nil {
			return err
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%s (%d)", t, n))
		}
	}
	if len(held) == 0 {
		return nil
	}
	if !replace {
		return fmt.Errorf("%w: it holds %s (replace its contents with --replace)", ErrNotEmpty, strings.Join(held, ", "))
	}
	for i := len(list) - 1; i >= 0; i-- {
		if err := w.exec(ctx, `DELETE FROM `+list[i]); err != nil {
			return fmt.Errorf("empty %s: %w", list[i], err)
		}
	}
	return nil
}

// copyTable copies the rows of one table, with the columns both sides
// have; a column of the source that the destination lacks is an error
// (it would be lost).
func copyTable(ctx context.Context, src *endpoint, w writer, table string, progress func(string, int, int)) (int, error) {
	srcCols, err := src.columns(ctx, table)
	if err != nil {
		return 0, err
	}
	dstCols, err := w.columns(ctx, table)
	if err != nil {
		return 0, err
	}
	kinds := map[string]kind{}
	for _, c := range dstCols {
		kinds[c.name] = c.kind
	}
	var cols []column
	for _, c := range srcCols {
		if _, ok := kinds[c.name]; !ok {
			return 0, fmt.Errorf("column %s is missing in the destination", c.name)
		}
		cols = append(cols, c)
	}
	total, err := src.count(ctx, table)
	if err != nil {
		return 0, err
	}
	done := 0
	err = src.each(ctx, table, cols, func(vals []any) error {
		for i, c := range cols {
			vals[i] = convert(vals[i], kinds[c.name])
		}
		if err := w.insert(ctx, table, cols, vals); err != nil {
			return err
		}
		done++
		if progress != nil && done%ProgressEvery == 0 {
			progress(table, done, total)
		}
		return nil
	})
	if err != nil {
		return done, err
	}
	if progress != nil {
		progress(table, done, total)
	}
	return done, nil
}

// kind is what a column holds, as far as the two engines store it
// differently.
type kind int

const (
	plain   kind = iota // integers, text, bytes: the same on both
	boolean             // PostgreSQL boolean, SQLite INTEGER 0/1
	json                // PostgreSQL jsonb, SQLite TEXT
)

type column struct {
	name string
	kind kind
}

// convert turns a value read from the source (booleans as integers, JSON
// as text: see endpoint.each) into what the destination's column takes.
func convert(v any, k kind) any {
	switch k {
	case boolean:
		if n, ok := v.(int64); ok {
			return n != 0
		}
	case json:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	}
	return v
}

// endpoint is one database, opened without its store: a SQLite file
// through database/sql, or a PostgreSQL connection.
type endpoint struct {
	name string
	sql  *sql.DB   // SQLite
	pg   *pgx.Conn // PostgreSQL
	// The read transaction of a source, once snapshot began it; reads go
	// through it.
	sqlSnap *sql.Tx
	pgSnap  pgx.Tx
}

// sqlQuerier and pgQuerier read from a database or from its snapshot.
type sqlQuerier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type pgQuerier interface {
	Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) pgx.Row
}

func (e *endpoint) sqlq() sqlQuerier {
	if e.sqlSnap != nil {
		return e.sqlSnap
	}
	return e.sql
}

func (e *endpoint) pgq() pgQuerier {
	if e.pgSnap != nil {
		return e.pgSnap
	}
	return e.pg
}

// snapshot starts one read-only transaction on a source, so that every
// table is read as of one moment, also while other processes write.
func (e *endpoint) snapshot(ctx context.Context) error {
	if e.pg != nil {
		tx, err := e.pg.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("read %s: %w", e.name, err)
		}
		e.pgSnap = tx
		return nil
	}
	tx, err := e.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read %s: %w", e.name, err)
	}
	e.sqlSnap = tx
	return nil
}

// connect opens a database; a SQLite destination (write) begins its
// transactions IMMEDIATE, a source reads in a deferred one that holds no
// lock against the source's writers.
func connect(ctx context.Context, where string, write bool) (*endpoint, error) {
	if postgres.IsConnString(where) {
		c, err := pgx.Connect(ctx, where)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", display(where), err)
		}
		return &endpoint{name: display(where), pg: c}, nil
	}
	abs, err := filepath.Abs(where)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	// As package db builds it: a path with "?" or "#" stays a path.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	dsn := u.String() + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"
	if write {
		dsn += "&_txlock=immediate"
	}
	d, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	d.SetMaxOpenConns(1)
	return &endpoint{name: where, sql: d}, nil
}

func (e *endpoint) close() {
	if e.pgSnap != nil {
		e.pgSnap.Rollback(context.Background())
	}
	if e.sqlSnap != nil {
		e.sqlSnap.Rollback()
	}
	if e.pg != nil {
		e.pg.Close(context.Background())
	}
	if e.sql != nil {
		e.sql.Close()
	}
}

// columns lists the columns of a table, in their order.
func (e *endpoint) columns(ctx context.Context, table string) ([]column, error) {
	var out []column
	if e.pg != nil {
		rows, err := e.pgq().Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				return nil, err
			}
			out = append(out, column{name: name, kind: pgKind(typ)})
		}
		return out, rows.Err()
	}
	rows, err := e.sqlq().QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, column{name: name})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no table %s", table)
	}
	return out, nil
}

func pgKind(typ string) kind {
	switch typ {
	case "boolean":
		return boolean
	case "jsonb", "json":
		return json
	}
	return plain
}

func (e *endpoint) count(ctx context.Context, table string) (int, error) {
	var n int
	if e.pg != nil {
		return n, e.pgq().QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	}
	return n, e.sqlq().QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n)
}

// each reads the rows of a table in the order of its first column and
// calls fn with the values of cols: integers as int64, text as string,
// bytes as []byte, booleans as int64 0/1 and JSON as text on both engines.
// The rows of one table are read in one snapshot.
func (e *endpoint) each(ctx context.Context, table string, cols []column, fn func([]any) error) error {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		switch {
		case e.pg != nil && c.kind == boolean:
			exprs[i] = quote(c.name) + `::int::int8`
		case e.pg != nil && c.kind == json:
			exprs[i] = quote(c.name) + `::text`
		default:
			exprs[i] = quote(c.name)
		}
	}
	q := `SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + table + ` ORDER BY 1`
	if e.pg != nil {
		rows, err := e.pgq().Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	rows, err := e.sqlq().QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// quote makes a column name an identifier on both engines, also where it
// is a keyword of one of them (debug_log.user).
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
