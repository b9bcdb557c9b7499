package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
)

// The steps of opening a database that both engines take in the same way:
// reading the embedded migrations, applying those the database has not
// seen, and the key check. Each engine runs them in a transaction of its
// own making (SQLite's IMMEDIATE one, PostgreSQL's under an advisory
// lock), with its own DDL for the table of applied migrations.

// ErrSchemaTooNew is wrapped by the error an open returns for a database
// that a newer oidcctl has migrated past what this binary knows.
var ErrSchemaTooNew = errors.New("database schema is newer than this oidcctl")

// Migration is one schema step: dir/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the migrations in dir of fsys, ordered by version,
// and checks that their versions run 1, 2, 3 … without gaps.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir) // sorted by file name
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
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
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	if len(out) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return out, nil
}

// Migrate applies the migrations the database has not seen yet, in the
// caller's transaction, which must keep other processes from migrating at
// the same time: the second one then finds the first one's work done.
// createTable is the engine's CREATE TABLE IF NOT EXISTS schema_migrations
// (version, name, applied_at); before, when not nil, runs before each
// migration that is applied and may refuse it, explaining what would make
// it fail. now is the applied_at recorded, in unix milliseconds.
func Migrate(ctx context.Context, tx Tx, migrations []Migration, createTable string, now int64, before func(context.Context, Migration) error) error {
	if _, err := tx.Exec(ctx, createTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := SchemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if err := tooNew(current, migrations); err != nil {
		return err
	}
	for _, m := range migrations[current:] {
		if before != nil {
			if err := before(ctx, m); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, now); err != nil {
			return fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// SchemaVersion returns the version of the newest migration applied; 0
// for none. Without a schema_migrations table it gives the engine's error.
func SchemaVersion(ctx context.Context, tx Tx) (int, error) {
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, nil
}

// CheckSchema checks, without writing, that a database at schema version
// current has the schema migrations end with: for a read-only open, which
// cannot migrate.
func CheckSchema(current int, migrations []Migration) error {
	if err := tooNew(current, migrations); err != nil {
		return err
	}
	if known := migrations[len(migrations)-1].Version; current < known {
		return fmt.Errorf("%w and has schema version %d, which this oidcctl must migrate to %d: open it once with write access", core.ErrReadOnly, current, known)
	}
	return nil
}

// tooNew wraps ErrSchemaTooNew when current is past the last of migrations.
func tooNew(current int, migrations []Migration) error {
	if known := migrations[len(migrations)-1].Version; current > known {
		return fmt.Errorf("%w: it has schema version %d, this oidcctl knows up to %d; use a newer oidcctl", ErrSchemaTooNew, current, known)
	}
	return nil
}

// VerifyKey checks that key opens the key check stored in the database's
// meta table (a *crypt.KeyError naming the key when it does not). A
// database without a key check gets one when write is set; otherwise that
// is an error wrapping core.ErrReadOnly.
func VerifyKey(ctx context.Context, tx Tx, key *crypt.Key, write bool) error {
	stored, err := readKeyCheck(ctx, tx)
	if err != nil {
		return err
	}
	if stored == nil && !write {
		return fmt.Errorf("%w and has no key check yet: open it once with write access", core.ErrReadOnly)
	}
	if stored == nil {
		check, err := sealed.NewKeyCheck(key)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`, sealed.KeyCheckName, check); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
		return nil
	}
	return sealed.VerifyKeyCheck(key, stored)
}

// readKeyCheck is the key check stored in the meta table, nil when there
// is none.
func readKeyCheck(ctx context.Context, tx Tx) ([]byte, error) {
	var stored []byte
	err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, sealed.KeyCheckName).Scan(&stored)
	if errors.Is(err, ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key check: %w", err)
	}
	return stored, nil
}

// CheckStoredKey checks key against the key check stored in the database's
// meta table when there is one, and writes none: for a migration that must
// not tie a new database to a key. A database without a key check passes
// with any key or none; one with a check and a nil key is an error.
func CheckStoredKey(ctx context.Context, tx Tx, key *crypt.Key) error {
	stored, err := readKeyCheck(ctx, tx)
	if err != nil || stored == nil {
		return err
	}
	if key == nil {
		id, _ := crypt.SealedKeyID(stored)
		return fmt.Errorf("the database's secrets are sealed with key id %s, and no key was given", id)
	}
	return sealed.VerifyKeyCheck(key, stored)
}
