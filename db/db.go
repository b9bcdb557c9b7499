// Package db keeps oidcctl's state in one SQLite file. It and the packages
// below it are the only ones that know SQL; it implements core.Store with
// the methods it shares with the PostgreSQL store (db/postgres), which are
// written once in db/internal/sqlstore against a small transaction
// interface. What is SQLite's own is here: the file and its modes, the
// DSN, how a transaction begins (tx.go) and the migrations.
//
// Every public method runs in one transaction. Writes begin IMMEDIATE (the
// DSN sets _txlock=immediate), so that read-modify-write cycles of two
// processes on one database are serialized by SQLite instead of failing
// with SQLITE_BUSY or overwriting each other; reads begin DEFERRED and, in
// WAL mode, never wait for a writer. The transactions are begun, rolled
// back and committed in one place (run); the methods hand them functions
// of the transaction that do no other I/O.
//
// Representation, for anyone reading the file with the sqlite3 shell:
// times are INTEGER unix milliseconds (UTC), so they come back in UTC with
// millisecond precision; durations are INTEGER nanoseconds; secrets are
// sealed BLOBs (see crypt.Key.Seal), NULL when not set; what is not queried
// by itself is kept as a JSON document in a settings column. The
// migrations in migrations/*.sql are the schema's documentation.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/internal/sqlstore"
)

// FileName is the name of the database file in the default locations.
const FileName = "oidcctl.db"

// DB is a SQLite database holding profiles, accounts, cached discovery
// documents, the token state of each account, shared settings, local
// users, webservices, the debugger's log and the configuration version.
// It is safe for concurrent use, also by several processes on one file.
//
// Its methods, and its clock (the field Now, time.Now unless set), are
// those it shares with the PostgreSQL store (db/internal/sqlstore); what
// is SQLite's own is here: the file, its modes, the DSN, the transactions
// (tx.go) and the migrations.
type DB struct {
	*store
	db       *sql.DB
	path     string
	readOnly bool
}

// store is the shared implementation, embedded under a name of its own.
type store = sqlstore.Store

// dialect is what SQLite says differently: NOCASE, as the unique indexes
// of the name columns compare, and LIMIT -1 for no limit.
var dialect = sqlstore.Dialect{
	SameNameFold: func(column string) string { return column + ` = $1 COLLATE NOCASE` },
	NoLimit:      `LIMIT -1`,
}

// DefaultDebugLimit is how many entries DebugEntries returns when the
// filter sets no limit.
const DefaultDebugLimit = sqlstore.DefaultDebugLimit

var _ core.Store = (*DB)(nil)

// ErrReadOnly is wrapped by the errors of writes to a database opened
// read-only, and by Open's error for a read-only database whose schema
// would need migrating.
// It is core.ErrReadOnly, which core's packages test for.
var ErrReadOnly = core.ErrReadOnly

// Options are the choices of OpenWith.
type Options struct {
	// ReadOnly opens the database for reading only: no migration, no
	// switch to WAL, and every write fails with ErrReadOnly. OpenWith opens
	// read-only anyway when this process may not write the file or its
	// directory (a read-only file system, another user's file).
	ReadOnly bool
	// Log gets warnings: a file mode tightened, a read-only open. Nil
	// discards them.
	Log *slog.Logger
}

// Open opens the database at path with default Options; see OpenWith.
func Open(ctx context.Context, path string, key *crypt.Key) (*DB, error) {
	return OpenWith(ctx, path, key, Options{})
}

// OpenWith opens the database at path, creating it and its directory when
// missing, migrates its schema to the newest version this binary knows and
// checks that key is the key its secrets were sealed with.
//
// A new directory is created 0700 and a new file 0600, whatever the umask;
// an existing database file (and its -wal and -shm files) that its group or
// others could read is narrowed to its owner, with a warning.
// A database whose schema is newer than this binary gives an error wrapping
// ErrSchemaTooNew; a key other than the database's gives the
// *crypt.KeyError (errors.Is crypt.ErrWrongKey) that names the key tried.
// Several processes may open one database at the same time.
//
// A database this process may not write (see Options.ReadOnly) is opened
// read-only when its schema is current, so that reading commands still
// work; one that would need migrating gives an error wrapping ErrReadOnly.
func OpenWith(ctx context.Context, path string, key *crypt.Key, opts Options) (*DB, error) {
	if key == nil {
		return nil, fmt.Errorf("open database %s: no secret key", path)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	readOnly := opts.ReadOnly
	if fileExists(abs) {
		tightenModes(abs, log)
		if !readOnly && (!canWrite(abs) || !canWrite(filepath.Dir(abs))) {
			readOnly = true
			log.Warn("the database or its directory is not writable: opened read-only, only reading commands work", "path", abs)
		}
	} else if readOnly {
		return nil, fmt.Errorf("open database %s: %w, and there is no database to read", abs, fs.ErrNotExist)
	} else if err := createFile(abs); err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	source := dsn(abs)
	if readOnly {
		source = readOnlyDSN(abs)
	}
	sqldb, err := sql.Open("sqlite", source)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	// Writers take turns anyway (immediate transactions); a few
	// connections serve the readers, and each one costs a page cache.
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	db := &DB{db: sqldb, path: abs, readOnly: readOnly}
	db.store = sqlstore.New(key, dialect, db.runShared)
	if err := db.init(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	return db, nil
}

// ReadOnly reports whether the database was opened for reading only.
func (db *DB) ReadOnly() bool { return db.readOnly }

// tightenModes narrows the database file and its -wal and -shm files to
// their owner when their group or others may read or write them (an old
// umask, a copy made by hand). SQLite gives new -wal and -shm files the
// database file's mode, so the database file comes first. A file this
// process may not change is left as it is, with a warning.
func tightenModes(abs string, log *slog.Logger) {
	for _, p := range []string{abs, abs + "-wal", abs + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		was := fi.Mode().Perm()
		if err := os.Chmod(p, was&^0o077); err != nil {
			log.Warn("database file may be read by others and cannot be narrowed", "path", p, "mode", fmt.Sprintf("%04o", was), "err", err)
			continue
		}
		log.Warn("database file could be read by others: narrowed to its owner", "path", p, "was", fmt.Sprintf("%04o", was), "now", fmt.Sprintf("%04o", was&^0o077))
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// SealedBy returns the id of the key that the secrets of the database at
// path were sealed with, or "" when there is no database there yet, or one
// without secrets. It only reads, and creates nothing but SQLite's -wal
// and -shm files beside an existing database.
func SealedBy(ctx context.Context, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("read database %s: %w", path, err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.Size() == 0 {
		return "", nil // none yet, or created and never set up
	}
	sqldb, err := sql.Open("sqlite", readOnlyDSN(abs))
	if err != nil {
		return "", fmt.Errorf("read database %s: %w", abs, err)
	}
	defer sqldb.Close()
	var sealed []byte
	err = sqldb.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, keyCheckName).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) || err != nil && strings.Contains(err.Error(), "no such table") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read database %s: %w", abs, err)
	}
	id, ok := crypt.SealedKeyID(sealed)
	if !ok {
		return "", fmt.Errorf("read database %s: its key check is not in oidcctl's sealed format", abs)
	}
	return id, nil
}

// maxConns bounds the connections of one process to the database file.
const maxConns = 8

// Close closes the database. The last process to close it folds the
// write-ahead log back into the database file.
func (db *DB) Close() error { return db.db.Close() }

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// dsn builds the driver's data source name. The pragmas are in it, not run
// once after opening, so that every pooled connection gets them.
func dsn(abs string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return u.String() + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// readOnlyDSN is dsn for reading only. It leaves out the switch to WAL,
// which writes when the database is not in WAL mode yet.
//
// A WAL database needs its -shm file, even to read, and SQLite creates it
// when it is missing: in a directory this process may not write it cannot
// (SQLITE_READONLY_DIRECTORY), and beside a file it may not write it would
// leave a -shm file of its own that the owner's processes then cannot
// write. A missing -shm file means that no process has the database open;
// then it is opened immutable, which reads the file as it is, without the
// -shm file.
func readOnlyDSN(abs string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := "?mode=ro&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	if !fileExists(abs+"-shm") && (!canWrite(abs) || !canWrite(filepath.Dir(abs))) {
		q += "&immutable=1"
	}
	return u.String() + q
}

// createFile creates the directory of the database (0700) and the empty
// database file (0600) when they do not exist, so that SQLite never creates
// them with the umask's modes. SQLite gives the -wal and -shm files the
// mode of the database file.
func createFile(abs string) error {
	dir := filepath.Dir(abs)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		// The umask may have narrowed it; 0700 is what we mean.
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // an existing database, or another process was first
	}
	if err != nil {
		return err
	}
	cerr := f.Chmod(0o600)
	if err := f.Close(); cerr == nil {
		cerr = err
	}
	return cerr
}

// openRetryFor bounds how long Open retries SQLITE_BUSY that SQLite's busy
// handler does not wait for.
const openRetryFor = 10 * time.Second

// init migrates the schema and checks the key.
//
// Processes opening a new database at once race to switch it to WAL (the
// journal_mode(WAL) pragma of the DSN, the only one that writes), and the
// loser can get SQLITE_BUSY while its connection is set up, without the
// busy handler waiting: measured, about one open in 150 with six openers
// (TestConcurrentFreshOpenInProcess). WAL mode is persistent, so later the
// pragma only reads. init therefore retries SQLITE_BUSY after a short random
// pause, for up to openRetryFor; each attempt is one transaction, rolled
// back when it fails.
func (db *DB) init(ctx context.Context) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(openRetryFor)
	for {
		err := db.initOnce(ctx, migrations)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Millisecond + rand.N(20*time.Millisecond)):
		}
	}
}

// isBusy reports whether err is SQLITE_BUSY or one of its extended codes.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// initOnce migrates the schema and checks the key, in one IMMEDIATE
// transaction, so that a second process opening a new database at the same
// time waits and then finds everything done.
//
// Read-only, it only checks that the schema is current and the key fits.
func (db *DB) initOnce(ctx context.Context, migrations []migration) error {
	return db.run(ctx, !db.readOnly, func(tx *sql.Tx) error {
		if db.readOnly {
			if err := checkSchema(ctx, tx, migrations); err != nil {
				return err
			}
		} else if err := migrate(ctx, tx, migrations, db.Now()); err != nil {
			return err
		}
		return verifyKey(ctx, tx, db.Key(), !db.readOnly)
	})
}
