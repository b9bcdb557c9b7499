package db_test

import (
	"testing"

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
		}
	})
}
