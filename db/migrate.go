package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"
	"time"

	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
	"oidcctl/db/internal/sqlstore"
)

// The migrations run as sqlstore runs them for both engines; what is
// SQLite's here is the table of applied migrations (STRICT), the checks
// before a migration (preMigrationChecks) and the read-only open.

// ErrSchemaTooNew is wrapped by the error Open returns for a database that
// a newer oidcctl has migrated past what this binary knows. It is the same
// error as the PostgreSQL store's.
var ErrSchemaTooNew = sqlstore.ErrSchemaTooNew

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema step: migrations/NNNN_name.sql.
type migration = sqlstore.Migration

// loadMigrations reads the embedded migrations, ordered by version, and
// checks that their versions run 1, 2, 3 … without gaps.
func loadMigrations() ([]migration, error) {
	return sqlstore.LoadMigrations(migrationFiles, "migrations")
}

// createMigrationsTable is SQLite's table of applied migrations.
const createMigrationsTable = `
	CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL -- unix milliseconds
	) STRICT`

// migrate applies the migrations the database has not seen yet, each after
// its check in preMigrationChecks. It runs inside the caller's IMMEDIATE
// transaction, so the version it reads cannot change under it: of two
// processes opening a new database at once, the second finds the first
// one's work done.
func migrate(ctx context.Context, tx *sql.Tx, migrations []migration, now time.Time) error {
	return sqlstore.Migrate(ctx, sqlTx{tx}, migrations, createMigrationsTable, now.UnixMilli(),
		func(ctx context.Context, m migration) error {
			if check := preMigrationChecks[m.Name]; check != nil {
				return check(ctx, tx)
			}
			return nil
		})
}

// keyCheckName is the key of the key check in the meta table; see
// sealed.NewKeyCheck.
const keyCheckName = sealed.KeyCheckName

// checkSchema checks, without writing, that a database has the schema
// this binary knows: for a read-only open, which cannot migrate.
func checkSchema(ctx context.Context, tx *sql.Tx, migrations []migration) error {
	current, err := sqlstore.SchemaVersion(ctx, sqlTx{tx})
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return fmt.Errorf("%w and holds no oidcctl schema yet: open it once with write access", ErrReadOnly)
	}
	if err != nil {
		return err
	}
	return sqlstore.CheckSchema(current, migrations)
}

// checkKey stores the key check in a new database, or opens it in an
// existing one.
func checkKey(ctx context.Context, tx *sql.Tx, key *crypt.Key) error {
	return verifyKey(ctx, tx, key, true)
}

// verifyKey is checkKey; without write, a database without a key check is
// an error wrapping ErrReadOnly instead of getting one.
func verifyKey(ctx context.Context, tx *sql.Tx, key *crypt.Key, write bool) error {
	return sqlstore.VerifyKey(ctx, sqlTx{tx}, key, write)
}
