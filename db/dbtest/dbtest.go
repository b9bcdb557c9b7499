// Package dbtest opens real, temporary databases for the tests of other
// packages (the console's screens, for instance), which must not depend on
// the db package themselves.
package dbtest

import (
	"context"
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
