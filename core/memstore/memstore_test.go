package memstore_test

import (
	"testing"
	"time"

	"oidcctl/core/memstore"
	"oidcctl/core/storetest"
)

// The fake keeps every promise of core.Store that the SQLite store keeps:
// the same conformance suite runs against both.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opened {
		s := memstore.New()
		return storetest.Opened{
			Store:  s,
			SetNow: func(now func() time.Time) { s.Now = now },
			CorruptToken: func(t testing.TB, account, column string) {
				t.Helper()
				if err := s.CorruptToken(account, column); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
