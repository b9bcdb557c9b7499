package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/serve"
	"oidcctl/core/storetest"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// serve runs on this store.
var _ serve.Store = (*postgres.DB)(nil)

// newKey makes a new key in a temporary directory.
func newKey(t testing.TB) *crypt.Key {
	t.Helper()
	key, err := crypt.LoadKey(filepath.Join(t.TempDir(), crypt.KeyFileName), true)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// open opens a new, empty database and closes it when the test ends; it
// returns the store and its connection string.
func open(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	conn := pgtest.URL(t)
	s, err := postgres.Open(context.Background(), conn, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, conn
}

// The PostgreSQL store keeps every promise of core.Store that the SQLite
// store and the in-memory fake keep: the same conformance suite passes.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opened {
		s, conn := open(t)
		return storetest.Opened{
			Store:  s,
			SetNow: func(now func() time.Time) { s.Now = now },
			CorruptToken: func(t testing.TB, account, column string) {
				corruptToken(t, conn, account, column)
			},
			Another: func(t testing.TB) core.Store {
				t.Helper()
				other, err := postgres.Open(context.Background(), conn, s.Key())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { other.Close() })
				return other
			},
		}
	})
}

// corruptToken flips a bit in the middle of a sealed token, as a damaged
// disk or a bad copy would.
func corruptToken(t testing.TB, conn, account, column string) {
	t.Helper()
	switch column {
	case "access_token", "refresh_token", "id_token":
	default:
		t.Fatalf("no token column %q", column)
	}
	ctx := context.Background()
	raw, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	const where = ` WHERE account_id = (SELECT id FROM accounts WHERE name = $1)`
	var sealed []byte
	if err := raw.QueryRow(ctx, `SELECT `+column+` FROM tokens`+where, account).Scan(&sealed); err != nil || len(sealed) == 0 {
		t.Fatalf("read %s of %s: %v", column, account, err)
	}
	sealed[len(sealed)/2] ^= 0x40
	if _, err := raw.Exec(ctx, `UPDATE tokens SET `+column+` = $2`+where, account, sealed); err != nil {
		t.Fatal(err)
	}
}
