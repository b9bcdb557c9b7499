package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/serve"
	"oidcctl/core/storetest"
	"oidcctl/db"
	"oidcctl/db/dbtest"
)

// serve runs on this store.
var _ serve.Store = (*db.DB)(nil)

// The SQLite store keeps every promise of core.Store: the conformance
// suite that core/memstore, the fake core's tests use, also passes.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opened {
		s, dir := dbtest.Open(t)
		return storetest.Opened{
			Store:  s,
			SetNow: s.SetNow,
			CorruptToken: func(t testing.TB, account, column string) {
				dbtest.CorruptToken(t, dir, account, column)
			},
			Another: func(t testing.TB) core.Store {
				t.Helper()
				key, err := crypt.LoadKey(filepath.Join(dir, crypt.KeyFileName), false)
				if err != nil {
					t.Fatal(err)
				}
				other, err := db.Open(context.Background(), filepath.Join(dir, db.FileName), key)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { other.Close() })
				return other
			},
		}
	})
}
