package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
)

// ErrSchemaTooNew is wrapped by the error Open returns for a database that
// a newer oidcctl has migrated past what this binary knows.
var ErrSchemaTooNew = errors.New("database schema is newer than this oidcctl")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema step: migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations, ordered by version, and
// checks that their versions run 1, 2, 3 … without gaps.
func loadMigrations() ([]migration, error) {
	return parseMigrations(migrationFiles, "migrations")
}

func parseMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir) // sorted by file name
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: want a name like 0001_init.sql", e.Name())
		}
		if v != len(out)+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d", e.Name(), v, len(out)+1)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	if len(out) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return out, nil
}

// migrate applies the migrations the database has not seen yet. It runs
// inside the caller's IMMEDIATE transaction, so the version it reads cannot
// change under it: of two processes opening a new database at once, the
// second finds the first one's work done.
func migrate(ctx context.Context, tx *sql.Tx, migrations []migration, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL -- unix milliseconds
		) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	known := migrations[len(migrations)-1].version
	if current > known {
		return fmt.Errorf("%w: it has schema version %d, this oidcctl knows up to %d; use a newer oidcctl", ErrSchemaTooNew, current, known)
	}
	for _, m := range migrations[current:] {
		if check := preMigrationChecks[m.name]; check != nil {
			if err := check(ctx, tx); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now.UnixMilli()); err != nil {
			return fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// keyCheckName is the key of the key check in the meta table; see
// sealed.NewKeyCheck.
const keyCheckName = sealed.KeyCheckName

// checkSchema checks, without writing, that a database has the schema
// this binary knows: for a read-only open, which cannot migrate.
func checkSchema(ctx context.Context, tx *sql.Tx, migrations []migration) error {
	var current int
	err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return fmt.Errorf("%w and holds no oidcctl schema yet: open it once with write access", ErrReadOnly)
	}
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	known := migrations[len(migrations)-1].version
	switch {
	case current > known:
		return fmt.Errorf("%w: it has schema version %d, this oidcctl knows up to %d; use a newer oidcctl", ErrSchemaTooNew, current, known)
	case current < known:
		return fmt.Errorf("%w and has schema version %d, which this oidcctl must migrate to %d: open it once with write access", ErrReadOnly, current, known)
	}
	return nil
}

// checkKey stores the key check in a new database, or opens it in an
// existing one.
func checkKey(ctx context.Context, tx *sql.Tx, key *crypt.Key) error {
	return verifyKey(ctx, tx, key, true)
}

// verifyKey is checkKey; without write, a database without a key check is
// an error instead of getting one.
func verifyKey(ctx context.Context, tx *sql.Tx, key *crypt.Key, write bool) error {
	var stored []byte
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, keyCheckName).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) && !write {
		return fmt.Errorf("%w and has no key check yet: open it once with write access", ErrReadOnly)
	}
	if errors.Is(err, sql.ErrNoRows) {
		check, err := sealed.NewKeyCheck(key)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, keyCheckName, check); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read key check: %w", err)
	}
	return sealed.VerifyKeyCheck(key, stored)
}
