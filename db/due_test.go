package db

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestMigrationGivesEveryAccountATokensRow: an account that an older
// oidcctl made, which never had tokens and so has no row in tokens, is
// still found due by the refresh scheduler's indexed query after the
// migration (which makes its row), as it was when the scheduler read
// every account. Without the migration's backfill it would never be
// renewed by the scheduler.
func TestMigrationGivesEveryAccountATokensRow(t *testing.T) {
	ctx := context.Background()
	// As the older binary wrote them: a profile and two accounts, one
	// with tokens that last a day, one that never had any (no row).
	path, key, _, _ := olderDatabase(t, "due_index",
		`INSERT INTO profiles (name, discovery_url, client_id, settings, created_at, updated_at)
			VALUES ('old', 'https://idp/.well-known/openid-configuration', 'cid', '{}', 1, 1)`,
		`INSERT INTO accounts (name, profile_id, grant_type, settings, created_at, updated_at)
			SELECT 'never', id, 'client_credentials', '{}', 1, 1 FROM profiles`,
		`INSERT INTO accounts (name, profile_id, grant_type, settings, created_at, updated_at)
			SELECT 'fresh', id, 'client_credentials', '{}', 1, 1 FROM profiles`,
		fmt.Sprintf(`INSERT INTO tokens (account_id, access_token, expiry) SELECT id, X'00', %d FROM accounts WHERE name = 'fresh'`,
			t0.Add(24*time.Hour).UnixMilli()),
	)

	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatalf("Open of an older database: %v", err)
	}
	defer d.Close()
	sts, err := d.DueTokenStates(ctx, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].Account != "never" || sts[0].Tokens.AccessToken.IsSet() {
		t.Fatalf("due after the migration: %+v, want the account that never had tokens", sts)
	}
	var rows int
	if err := d.db.QueryRow(`SELECT count(*) FROM tokens`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("tokens rows after the migration: %d, %v; want one per account", rows, err)
	}
}
