package db

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/crypt"
)

// TestNamesDifferingOnlyInCase: a profile, account, webservice or user
// whose name differs from an existing one only in case is refused with a
// *core.ValidationError that names the existing one.
func TestNamesDifferingOnlyInCase(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	p := core.NewProfile("base")
	p.DiscoveryURL, p.ClientID = "https://idp.example/.well-known/openid-configuration", "cid"
	noErr(t, d.CreateProfile(ctx, p))
	noErr(t, d.CreateAccount(ctx, core.NewAccount("billing", "base")))
	ws := core.NewWebservice("tickets", core.Provider)
	ws.Profile, ws.Route, ws.Methods, ws.Upstream = "base", "/t", []string{"GET"}, "http://127.0.0.1:1/x"
	noErr(t, d.CreateWebservice(ctx, ws))
	noErr(t, d.CreateUser(ctx, core.User{Login: "Alice"}))

	p2 := p
	p2.Name = "BASE"
	ws2 := ws
	ws2.Name = "Tickets"
	for _, tt := range []struct {
		what, existing string
		err            error
	}{
		{"profile", "base", d.CreateProfile(ctx, p2)},
		{"account", "billing", d.CreateAccount(ctx, core.NewAccount("BILLING", "base"))},
		{"webservice", "tickets", d.CreateWebservice(ctx, ws2)},
		{"user", "Alice", d.CreateUser(ctx, core.User{Login: "alice"})},
	} {
		var v *core.ValidationError
		if !errors.As(tt.err, &v) || !errors.Is(tt.err, core.ErrInvalid) {
			t.Errorf("%s: %v, want a *core.ValidationError", tt.what, tt.err)
			continue
		}
		if !strings.Contains(tt.err.Error(), `differs only in case from the existing `+tt.what+` "`+tt.existing+`"`) {
			t.Errorf("%s: %v", tt.what, tt.err)
		}
	}
	// The exact name is still "already exists".
	if err := d.CreateProfile(ctx, p); !errors.Is(err, core.ErrExists) {
		t.Errorf("same name: %v, want ErrExists", err)
	}
	// The unique indexes hold where the check is not made (another process
	// between check and insert, a hand-made INSERT).
	_, err := d.db.ExecContext(ctx, `INSERT INTO users (login, created_at, updated_at) VALUES ('ALICE', 1, 1)`)
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("raw insert of ALICE: %v", err)
	}
}

// TestMigrationRefusesCaseDuplicates: a database that an older oidcctl
// filled with names differing only in case is not migrated; the error
// names them all, and the database is left as it was.
func TestMigrationRefusesCaseDuplicates(t *testing.T) {
	ctx := context.Background()
	path, key, raw, before := olderDatabase(t, "nocase_names",
		`INSERT INTO profiles (name, discovery_url, client_id, settings, created_at, updated_at) VALUES
			('base', 'https://idp/.well-known/openid-configuration', 'c', '{}', 1, 1),
			('BASE', 'https://idp/.well-known/openid-configuration', 'c', '{}', 1, 1),
			('other', 'https://idp/.well-known/openid-configuration', 'c', '{}', 1, 1)`,
		`INSERT INTO users (login, created_at, updated_at) VALUES ('alice', 1, 1), ('Alice', 1, 1), ('ALICE', 1, 1), ('bob', 1, 1)`,
	)

	_, err := Open(ctx, path, key)
	if err == nil {
		t.Fatal("Open migrated a database with names differing only in case")
	}
	for _, want := range []string{"nocase_names", `profiles "BASE", "base"`, `users "ALICE", "Alice", "alice"`, "remove all but one"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "other") || strings.Contains(err.Error(), "bob") {
		t.Errorf("error names a name without a twin: %v", err)
	}
	var version int
	noErr(t, raw.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&version))
	if version != len(before) {
		t.Errorf("schema version %d after the refused migration, want %d", version, len(before))
	}
}

// olderDatabase makes a database file as an older oidcctl left it: every
// migration before the one named name applied, the key check written, and
// the rows of inserts (SQL run in that transaction). It returns the file,
// its key, the file opened without migrating (closed at the end of the
// test) and the migrations applied.
func olderDatabase(t *testing.T, name string, inserts ...string) (path string, key *crypt.Key, raw *sql.DB, applied []migration) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), FileName)
	key = newKey(t, "k")
	all, err := loadMigrations()
	noErr(t, err)
	for _, m := range all {
		if m.Name == name {
			break
		}
		applied = append(applied, m)
	}
	if len(applied) == len(all) {
		t.Fatalf("no migration %s", name)
	}
	noErr(t, createFile(path))
	raw, err = sql.Open("sqlite", dsn(path))
	noErr(t, err)
	t.Cleanup(func() { raw.Close() })
	tx, err := raw.BeginTx(ctx, nil)
	noErr(t, err)
	noErr(t, migrate(ctx, tx, applied, t0))
	noErr(t, checkKey(ctx, tx, key))
	for _, q := range inserts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	noErr(t, tx.Commit())
	return path, key, raw, applied
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
