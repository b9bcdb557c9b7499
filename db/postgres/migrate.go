package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"oidcctl/core/crypt"
	"oidcctl/db/internal/sqlstore"
)

// ErrSchemaTooNew is wrapped by the error Open returns for a database that
// a newer oidcctl has migrated past what this binary knows. It is the same
// error as the SQLite store's.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the key of the advisory lock under which Open migrates
// and checks the key: "oidcmig" in ASCII. It is not WriterLock, so that
// an open never waits for the writes of running processes longer than one
// of them takes.
const migrateLock int64 = 0x6f6964636d6967

// migration is one schema step: migrations/NNNN_name.sql.
type migration = sqlstore.Migration

// loadMigrations reads the embedded migrations, ordered by version, and
// checks that their versions run 1, 2, 3 … without gaps.
func loadMigrations() ([]migration, error) {
	return sqlstore.LoadMigrations(migrationFiles, "migrations")
}

// init migrates the schema and checks the key, in one transaction that
// holds migrateLock: of several processes opening a new database at once,
// one migrates and the others wait, then find the work done. PostgreSQL's
// DDL is transactional, so a migration that fails leaves nothing behind.
func (db *DB) init(ctx context.Context) error {
	return migrateLocked(ctx, db.pool, db.Now().UnixMilli(), func(tx pgx.Tx) error {
		return sqlstore.VerifyKey(ctx, pgTx{tx}, db.Key(), true)
	})
}

// Migrate creates or upgrades the schema of the database conn names, as
// Open does and under the same lock, and does nothing else: it stores no
// key check, so a new database is tied to no key yet and a copy (db/dbcopy)
// may fill it with secrets sealed under any key. When the database already
// has a key check, key must open it (the *crypt.KeyError of Open when it
// does not); key may be nil for a database without one. It returns the
// database as shown to people, without its password.
func Migrate(ctx context.Context, conn string, key *crypt.Key) (string, error) {
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		return "", fmt.Errorf("open PostgreSQL database: %w", err)
	}
	name := displayName(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("open database %s: %w", name, err)
	}
	defer pool.Close()
	err = migrateLocked(ctx, pool, time.Now().UnixMilli(), func(tx pgx.Tx) error {
		return sqlstore.CheckStoredKey(ctx, pgTx{tx}, key)
	})
	if err != nil {
		return "", fmt.Errorf("migrate database %s: %w", name, err)
	}
	return name, nil
}

// migrateLocked applies the migrations the database has not seen and then
// runs check, in one transaction that holds migrateLock.
func migrateLocked(ctx context.Context, pool *pgxpool.Pool, nowMilli int64, check func(pgx.Tx) error) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("lock for migrating: %w", err)
	}
	if err := sqlstore.Migrate(ctx, pgTx{tx}, migrations, createMigrationsTable, nowMilli, nil); err != nil {
		return err
	}
	if err := check(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// createMigrationsTable is PostgreSQL's table of applied migrations.
const createMigrationsTable = `
	CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text    NOT NULL,
		applied_at bigint  NOT NULL -- unix milliseconds
	)`
