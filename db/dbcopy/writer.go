package dbcopy

import (
	"context"
	"database/sql"
	"fmt"
	"oidcctl/db/postgres"
	"strings"

	"github.com/jackc/pgx/v5"
)

// writer is the one transaction on the destination.
type writer interface {
	columns(ctx context.Context, table string) ([]column, error)
	count(ctx context.Context, table string) (int, error)
	exec(ctx context.Context, q string, args ...any) error
	insert(ctx context.Context, table string, cols []column, vals []any) error
	// finish brings what the copied ids leave behind up to date and
	// commits.
	finish(ctx context.Context, list []string) error
	rollback()
}

func (e *endpoint) begin(ctx context.Context) (writer, error) {
	if e.pg != nil {
		tx, err := e.pg.Begin(ctx)
		if err != nil {
			return nil, err
		}
		// Take turns with the writers of running processes, as the store
		// does (postgres.WriterLock).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, postgres.WriterLock); err != nil {
			tx.Rollback(ctx)
			return nil, err
		}
		return &pgWriter{e: e, tx: tx}, nil
	}
	conn, err := e.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil) // IMMEDIATE, from the DSN
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &sqliteWriter{e: e, conn: conn, tx: tx}, nil
}

type pgWriter struct {
	e  *endpoint
	tx pgx.Tx
}

func (w *pgWriter) columns(ctx context.Context, table string) ([]column, error) {
	return w.e.columns(ctx, table) // the schema, not changed by the copy
}

func (w *pgWriter) count(ctx context.Context, table string) (int, error) {
	var n int
	return n, w.tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n)
}

func (w *pgWriter) exec(ctx context.Context, q string, args ...any) error {
	_, err := w.tx.Exec(ctx, q, args...)
	return err
}

func (w *pgWriter) insert(ctx context.Context, table string, cols []column, vals []any) error {
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quote(c.name)
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	_, err := w.tx.Exec(ctx, `INSERT INTO `+table+` (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(marks, ", ")+`)`, vals...)
	return err
}

// finish moves each identity column's sequence past the ids copied, so
// that the next row made there gets a new id.
func (w *pgWriter) finish(ctx context.Context, list []string) error {
	for _, t := range list {
		if !identity[t] {
			continue
		}
		var seq *string
		if err := w.tx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, 'id')`, t).Scan(&seq); err != nil {
			return fmt.Errorf("find the id sequence of %s: %w", t, err)
		}
		if seq == nil {
			continue
		}
		if _, err := w.tx.Exec(ctx, `SELECT setval($1, coalesce((SELECT max(id) FROM `+t+`), 0) + 1, false)`, *seq); err != nil {
			return fmt.Errorf("move the ids of %s on: %w", t, err)
		}
	}
	return w.tx.Commit(ctx)
}

// identity names the tables whose id column PostgreSQL numbers.
var identity = map[string]bool{
	"profiles": true, "accounts": true, "users": true, "webservices": true,
	"invoke_credentials": true, "debug_log": true,
}

func (w *pgWriter) rollback() { w.tx.Rollback(context.Background()) }

type sqliteWriter struct {
	e    *endpoint
	conn *sql.Conn
	tx   *sql.Tx
}

func (w *sqliteWriter) columns(ctx context.Context, table string) ([]column, error) {
	rows, err := w.tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []column
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

func (w *sqliteWriter) count(ctx context.Context, table string) (int, error) {
	var n int
	return n, w.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n)
}

func (w *sqliteWriter) exec(ctx context.Context, q string, args ...any) error {
	_, err := w.tx.ExecContext(ctx, q, args...)
	return err
}

func (w *sqliteWriter) insert(ctx context.Context, table string, cols []column, vals []any) error {
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quote(c.name)
		marks[i] = "?"
	}
	_, err := w.tx.ExecContext(ctx, `INSERT INTO `+table+` (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(marks, ", ")+`)`, vals...)
	return err
}

// finish commits: SQLite's AUTOINCREMENT follows the largest id inserted
// by itself.
func (w *sqliteWriter) finish(context.Context, []string) error {
	err := w.tx.Commit()
	w.conn.Close()
	return err
}

func (w *sqliteWriter) rollback() {
	w.tx.Rollback()
	w.conn.Close()
}
