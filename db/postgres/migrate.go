package postgres

import (
	"context"
	"embed"
	"fmt"

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
	if err := sqlstore.Migrate(ctx, pgTx{tx}, migrations, createMigrationsTable, db.Now().UnixMilli(), nil); err != nil {
		return err
	}
	if err := sqlstore.VerifyKey(ctx, pgTx{tx}, db.Key(), true); err != nil {
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
