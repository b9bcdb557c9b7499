// Package postgres keeps oidcctl's state in a PostgreSQL database, for
// several oidcctl processes on several hosts that share one state. It
// implements core.Store as package db does on SQLite, with the same
// promises and the same methods: both embed the store written once in
// db/internal/sqlstore, and keep only what is their engine's own (here: the
// pool, the transactions and their writer lock in tx.go, the migrations,
// LISTEN). The two are tested by one conformance suite (core/storetest).
//
// Transactions: every public method runs in one transaction. A write
// transaction first takes one transaction-level advisory lock
// (WriterLock), so that the writers of all processes on the database take
// turns, as SQLite's IMMEDIATE transactions make them do: a
// read-modify-write (an Update* method, a lease taken, the rotated refresh
// token stored as the refresh ends) can neither overwrite another nor be
// overwritten. Readers take no lock and read one snapshot (REPEATABLE
// READ, READ ONLY). The lock ends with the transaction, also when a
// process dies: PostgreSQL ends its session. One write takes no lock:
// SeeProofID, a single INSERT ... ON CONFLICT that is atomic by itself
// and runs once per DPoP call of every serve instance.
//
// Representation, kept as close to the SQLite store's as the engines
// allow so that a database can be copied between them: times are bigint
// unix milliseconds (UTC), durations bigint nanoseconds, secrets sealed
// bytea (see package db/internal/sealed) with the same associated data,
// NULL when not set, and what is not queried by itself a jsonb document in
// a settings column. Names are text COLLATE "C" (byte order, as SQLite
// sorts them) and unique regardless of ASCII case. The migrations in
// migrations/*.sql are the schema's documentation.
//
// Configuration changes: the triggers that raise the configuration
// version also NOTIFY oidcctl_config, and ConfigChanges LISTENs on it
// (core.ChangeNotifier), so that serve on every host reloads within a
// second; see listen.go.
//
// Not here yet (issue #10, later steps): the schedulers of several serve
// instances sharing the renewal work (claiming due accounts with
// SELECT ... FOR UPDATE SKIP LOCKED and a lease, instead of each instance
// trying every account) and the benchmarks. Copying a database between
// SQLite and here, sealed secrets as they are, is package db/dbcopy (the
// representation above is kept for it). The one writer lock is the simplest way to keep every
// promise of the SQLite store; where it limits many instances, writes
// that touch one account can move to row locks on that account.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
	"oidcctl/db/internal/sqlstore"
)

// DB is a PostgreSQL database holding profiles, accounts, cached discovery
// documents, the token state of each account, shared settings, local
// users, webservices, the debugger's log and the configuration version.
// It is safe for concurrent use, also by several processes on several
// hosts on one database.
//
// Its methods, and its clock (the field Now, time.Now unless set), are
// those it shares with the SQLite store (db/internal/sqlstore); what is
// PostgreSQL's own is here: the pool, the transactions and their writer
// lock (tx.go), the migrations and LISTEN (listen.go).
type DB struct {
	*store
	pool *pgxpool.Pool
	name string // where the database is, as shown to people: no password
}

// store is the shared implementation, embedded under a name of its own.
type store = sqlstore.Store

// dialect is what PostgreSQL says differently: lower() for names that
// differ only in ASCII case (lower() folds only ASCII letters in the "C"
// collation of the name columns, as SQLite's NOCASE does), and no LIMIT
// before OFFSET.
var dialect = sqlstore.Dialect{
	SameNameFold: func(column string) string { return `lower(` + column + `) = lower($1)` },
	NoLimit:      ``,
}

// DefaultDebugLimit is how many entries DebugEntries returns when the
// filter sets no limit.
const DefaultDebugLimit = sqlstore.DefaultDebugLimit

var _ core.Store = (*DB)(nil)

// Open connects to the database that conn names (a postgres:// URL or a
// key=value string; the PG* environment variables and the password file
// fill in what it leaves out, as libpq's do), migrates its schema to the
// newest version this binary knows and checks that key is the key its
// secrets were sealed with.
//
// Several processes may open one database at the same time: the
// migrations run under an advisory lock, and the later ones find the work
// done. A database whose schema is newer than this binary gives an error
// wrapping ErrSchemaTooNew; a key other than the database's gives the
// *crypt.KeyError (errors.Is crypt.ErrWrongKey) that names the key tried.
// Errors name the database by host, port and database, never with its
// password.
func Open(ctx context.Context, conn string, key *crypt.Key) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		// pgconn's parse errors leave the password out.
		return nil, fmt.Errorf("open PostgreSQL database: %w", err)
	}
	name := displayName(cfg.ConnConfig)
	if key == nil {
		return nil, fmt.Errorf("open database %s: no secret key", name)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	db := &DB{pool: pool, name: name}
	db.store = sqlstore.New(key, dialect, db.runShared)
	db.store.Statements = db.runStatements // SeeProofID: no writer lock
	if err := db.init(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	return db, nil
}

// displayName is where the database cfg connects to, as shown to people:
// user@host:port/database, never the password.
func displayName(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// Close closes the connections of the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Path says where the database is, as errors and the console show it:
// user@host:port/database, never the password.
func (db *DB) Path() string { return db.name }

// IsConnString reports whether s names a PostgreSQL database rather than
// a SQLite file: a postgres:// or postgresql:// URL, or a key=value
// connection string ("host=db.internal dbname=oidcctl"), whose first word
// is followed by "=". A file path with "=" in its first word is taken for
// a key=value string; write it as ./path.
func IsConnString(s string) bool {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		return true
	}
	word, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	k, _, ok := strings.Cut(word, "=")
	return ok && k != "" && !strings.ContainsAny(k, "/\\.")
}

// SealedBy returns the id of the key that the secrets of the database
// conn names were sealed with, or "" when it holds no oidcctl schema or no
// key check yet. It only reads, and does not migrate.
func SealedBy(ctx context.Context, conn string) (string, error) {
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		return "", fmt.Errorf("read PostgreSQL database: %w", err)
	}
	name := displayName(cfg)
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("read database %s: %w", name, err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	var stored []byte
	err = c.QueryRow(ctx, `SELECT value FROM meta WHERE to_regclass('meta') IS NOT NULL AND key = $1`, sealed.KeyCheckName).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: no schema yet
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read database %s: %w", name, err)
	}
	id, ok := crypt.SealedKeyID(stored)
	if !ok {
		return "", fmt.Errorf("read database %s: its key check is not in oidcctl's sealed format", name)
	}
	return id, nil
}

// Redact returns the connection string conn with its password, if any,
// replaced by "xxxxx", for messages about a database that is not open.
func Redact(conn string) string {
	if u, ok := connURL(conn); ok {
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return passwordField.ReplaceAllString(conn, "${1}xxxxx")
}

// HasPassword reports whether the connection string conn holds a
// password: in a URL's user information or its password parameter, or as
// a key=value string's password.
func HasPassword(conn string) bool {
	if u, ok := connURL(conn); ok {
		_, set := u.User.Password()
		return set || u.Query().Has("password")
	}
	return passwordField.MatchString(conn)
}

// connURL is conn as a URL, when it is a postgres:// or postgresql:// one.
func connURL(conn string) (*url.URL, bool) {
	u, err := url.Parse(conn)
	return u, err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// passwordField is the password of a key=value connection string, quoted
// or not.
var passwordField = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
