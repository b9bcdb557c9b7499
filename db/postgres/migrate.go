package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
)

// ErrSchemaTooNew is wrapped by the error Open returns for a database that
// a newer oidcctl has migrated past what this binary knows.
var ErrSchemaTooNew = errors.New("database schema is newer than this oidcctl")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the key of the advisory lock under which Open migrates
// and checks the key: "oidcmig" in ASCII. It is not WriterLock, so that
// an open never waits for the writes of running processes longer than one
// of them takes.
const migrateLock int64 = 0x6f6964636d6967

// migration is one schema step: migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations, ordered by version, and
// checks that their versions run 1, 2, 3 … without gaps.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations") // sorted by file name
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
		body, err := fs.ReadFile(migrationFiles, path.Join("migrations", e.Name()))
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

// init migrates the schema and checks the key, in one transaction that
// holds migrateLock: of several processes opening a new database at once,
// one migrates and the others wait, then find the work done. PostgreSQL's
// DDL is transactional, so a migration that fails leaves nothing behind.
func (db *DB) init(ctx context.Context) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("lock for migrating: %w", err)
	}
	if err := migrate(ctx, tx, migrations, db.Now().UnixMilli()); err != nil {
		return err
	}
	if err := verifyKey(ctx, tx, db.Key()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// migrate applies the migrations the database has not seen yet.
func migrate(ctx context.Context, tx pgx.Tx, migrations []migration, now int64) error {
	if _, err := tx.Exec(ctx, `
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text    NOT NULL,
			applied_at bigint  NOT NULL -- unix milliseconds
		)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	known := migrations[len(migrations)-1].version
	if current > known {
		return fmt.Errorf("%w: it has schema version %d, this oidcctl knows up to %d; use a newer oidcctl", ErrSchemaTooNew, current, known)
	}
	for _, m := range migrations[current:] {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, now); err != nil {
			return fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}

// verifyKey stores the key check in a new database, or opens it in an
// existing one.
func verifyKey(ctx context.Context, tx pgx.Tx, key *crypt.Key) error {
	var stored []byte
	err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, sealed.KeyCheckName).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		check, err := sealed.NewKeyCheck(key)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`, sealed.KeyCheckName, check); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read key check: %w", err)
	}
	return sealed.VerifyKeyCheck(key, stored)
}
