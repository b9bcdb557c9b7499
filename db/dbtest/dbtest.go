// Package dbtest opens real, temporary databases for the tests of other
// packages (the console's screens, for instance), which must not depend on
// the db package themselves.
package dbtest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db"
)

// Store is a temporary database: the core.Store, and the clock it stamps
// rows with.
type Store interface {
	core.Store
	// SetNow sets the clock the store stamps rows with.
	SetNow(now func() time.Time)
}

type store struct{ *db.DB }

func (s store) SetNow(now func() time.Time) { s.DB.Now = now }

// Open opens a new database with a new key in a temporary directory and
// closes it when the test ends. It returns the store and the directory.
func Open(t testing.TB) (Store, string) {
	t.Helper()
	dir := t.TempDir()
	key, err := crypt.LoadKey(filepath.Join(dir, crypt.KeyFileName), true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Open(context.Background(), filepath.Join(dir, db.FileName), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return store{s}, dir
}

// CorruptToken flips a bit in the middle of the sealed token in column
// (access_token, refresh_token or id_token) of an account in the database
// in dir, as a damaged disk or a bad copy would.
func CorruptToken(t testing.TB, dir, account, column string) {
	t.Helper()
	switch column {
	case "access_token", "refresh_token", "id_token":
	default:
		t.Fatalf("dbtest: no token column %q", column)
	}
	raw, err := sql.Open("sqlite", filepath.Join(dir, db.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	const where = ` WHERE account_id = (SELECT id FROM accounts WHERE name = ?)`
	var sealed []byte
	if err := raw.QueryRow(`SELECT `+column+` FROM tokens`+where, account).Scan(&sealed); err != nil || len(sealed) == 0 {
		t.Fatalf("dbtest: read %s of %s: %v", column, account, err)
	}
	sealed[len(sealed)/2] ^= 0x40
	if _, err := raw.Exec(`UPDATE tokens SET `+column+` = ?`+where, sealed, account); err != nil {
		t.Fatal(err)
	}
}
