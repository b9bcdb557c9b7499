package db_test

import (
	"context"
	"path/filepath"
	"testing"

	"oidcctl/core/crypt"
	"oidcctl/db"
	"oidcctl/db/internal/refreshtest"
)

// TestTwoProcessesNeverReuseARefreshToken runs two real processes that
// refresh one account in a loop, on one SQLite file, against a provider
// whose refresh tokens rotate and die on reuse: every refresh token must
// be sent exactly once (see package refreshtest).
func TestTwoProcessesNeverReuseARefreshToken(t *testing.T) {
	dir := t.TempDir()
	keyFile, path := filepath.Join(dir, crypt.KeyFileName), filepath.Join(dir, db.FileName)
	key, err := crypt.LoadKey(keyFile, true)
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	refreshtest.Run(t, refreshtest.Config{
		Store: store, Where: path, KeyFile: keyFile,
		HelperTest: "TestRefreshHelperProcess", Processes: 2, PerProcess: 25,
	})
}

// TestRefreshHelperProcess is not a test: it is the body of the processes
// of TestTwoProcessesNeverReuseARefreshToken. Run normally it returns at
// once.
func TestRefreshHelperProcess(t *testing.T) {
	refreshtest.Helper(func(ctx context.Context, path string, key *crypt.Key) (refreshtest.Store, error) {
		return db.Open(ctx, path, key)
	})
}
