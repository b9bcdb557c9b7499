package postgres_test

import (
	"context"
	"testing"

	"oidcctl/core/crypt"
	"oidcctl/db/internal/refreshtest"
	"oidcctl/db/postgres"
)

// Three real processes, each with its own connection pool, refresh one
// account in a loop on one PostgreSQL database, against a provider whose
// refresh tokens rotate and die on reuse: every refresh token is sent
// exactly once, and no refresh fails. The lease and the rotated token
// stored in the transaction that ends the refresh hold across processes
// as they do on one SQLite file (see package refreshtest).
func TestThreeProcessesNeverReuseARefreshToken(t *testing.T) {
	store, conn := open(t)
	refreshtest.Run(t, refreshtest.Config{
		Store: store, Where: conn, KeyFile: store.Key().Source, // the file newKey made
		HelperTest: "TestRefreshHelperProcess", Processes: 3, PerProcess: 15,
	})
}

// TestRefreshHelperProcess is not a test: it is the body of the processes
// of TestThreeProcessesNeverReuseARefreshToken. Run normally it returns at
// once.
func TestRefreshHelperProcess(t *testing.T) {
	refreshtest.Helper(func(ctx context.Context, conn string, key *crypt.Key) (refreshtest.Store, error) {
		return postgres.Open(ctx, conn, key)
	})
}
