package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/crypt"
)

// rawFiles returns the bytes of the database file and of its -wal file,
// when there is one.
func rawFiles(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "/test/oidcctl.key")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	const (
		clientSecret = "PLAINTEXT-client-secret-9f1c2e"
		keyPassword  = "PLAINTEXT-key-password-77ab0d"
		password     = "PLAINTEXT-account-password-c3d4"
		clientID     = "VISIBLE-client-id-5e6f"
		privateKey   = "PLAINTEXT-private-key-0a9b8c"
	)
	p := fullProfile("idp")
	p.ClientID = clientID
	p.ClientSecret = core.NewSecret(clientSecret)
	p.TLS.ClientKeyPassword = core.NewSecret(keyPassword)
	p.ClientKeys = []core.ClientKey{{ID: "k1", Algorithm: core.KeyES256, PrivateKey: core.NewSecret(privateKey)}}
	a := fullAccount("acct", "idp")
	a.Password = core.NewSecret(password)
	if err := d.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	// An update seals again; the old and new rows must both be sealed.
	if _, err := d.UpdateProfile(ctx, "idp", func(p *core.Profile) error { p.Scopes = append(p.Scopes, "x"); return nil }); err != nil {
		t.Fatal(err)
	}

	check := func(when string) {
		t.Helper()
		raw := rawFiles(t, path)
		// The scan looks at the right bytes: the client id, not a secret,
		// is there in plain.
		if !bytes.Contains(raw, []byte(clientID)) {
			t.Fatalf("%s: client id not found in the raw files: the scan reads the wrong bytes", when)
		}
		for _, secret := range []string{clientSecret, keyPassword, password, privateKey} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s: plaintext secret %q found in the database files", when, secret)
			}
		}
	}
	check("open (database + WAL)")

	// The columns hold sealed bytes that the key opens with the row's
	// associated data.
	var sealed []byte
	if err := d.db.QueryRow(`SELECT client_secret FROM profiles WHERE name = 'idp'`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if plain, err := key.Open(sealed, "profile/idp/client_secret"); err != nil || string(plain) != clientSecret {
		t.Errorf("client_secret column does not open to the secret: %q, %v", plain, err)
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed (checkpointed)")

	d, err = Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	gotP, err := d.Profile(ctx, "idp")
	if err != nil {
		t.Fatal(err)
	}
	gotA, err := d.Account(ctx, "acct")
	if err != nil {
		t.Fatal(err)
	}
	if gotP.ClientSecret.Reveal() != clientSecret || gotP.TLS.ClientKeyPassword.Reveal() != keyPassword || gotA.Password.Reveal() != password {
		t.Errorf("secrets after reopen: %q %q %q", gotP.ClientSecret.Reveal(), gotP.TLS.ClientKeyPassword.Reveal(), gotA.Password.Reveal())
	}
}

func TestSealedSecretBoundToRow(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	for _, n := range []string{"a", "b"} {
		if err := d.CreateProfile(ctx, fullProfile(n)); err != nil {
			t.Fatal(err)
		}
	}
	// Copy a's sealed secret into b's row, and into a's other column.
	if _, err := d.db.Exec(`UPDATE profiles SET client_secret = (SELECT client_secret FROM profiles WHERE name = 'a') WHERE name = 'b'`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec(`UPDATE profiles SET client_key_password = client_secret WHERE name = 'a'`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		_, err := d.Profile(ctx, name)
		var ke *crypt.KeyError
		if !errors.As(err, &ke) || !errors.Is(err, crypt.ErrWrongKey) {
			t.Errorf("profile %s with a moved secret: got %v, want a *crypt.KeyError", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "client-secret-") {
			t.Errorf("error reveals a secret: %v", err)
		}
	}
}

func TestWrongKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	right := newKey(t, "/etc/oidcctl/right.key")
	d, err := Open(ctx, path, right)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateProfile(ctx, fullProfile("idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	wrong := newKey(t, "/run/credentials/oidcctl.service/oidcctl.key")
	d, err = Open(ctx, path, wrong)
	if err == nil {
		d.Close()
		t.Fatal("Open with another key succeeded")
	}
	if d != nil {
		t.Error("Open returned a DB with its error")
	}
	if !errors.Is(err, crypt.ErrWrongKey) {
		t.Errorf("error %v is not errors.Is crypt.ErrWrongKey", err)
	}
	var ke *crypt.KeyError
	if !errors.As(err, &ke) || ke.Source != wrong.Source || ke.SealedBy != right.ID() {
		t.Errorf("KeyError: %#v, want the source of the key tried and the id of the right one", ke)
	}
	for _, part := range []string{wrong.Source, wrong.ID(), right.ID(), path} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %q", err, part)
		}
	}

	// The right key still works: nothing was changed by the failed Open.
	d, err = Open(ctx, path, right)
	if err != nil {
		t.Fatalf("Open with the right key after a wrong one: %v", err)
	}
	defer d.Close()
	if p, err := d.Profile(ctx, "idp"); err != nil || p.ClientSecret.Reveal() != "client-secret-idp" {
		t.Errorf("Profile: %v, %v", p.ClientSecret.Reveal(), err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "k")
	migrations, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}

	first, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	// A second handle while the first is open, then a third after both
	// are closed.
	second, err := Open(ctx, path, key)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := Open(ctx, path, key)
	if err != nil {
		t.Fatalf("third Open: %v", err)
	}
	defer third.Close()

	rows, err := third.db.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []migration
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.Version, &m.Name); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != len(migrations) {
		t.Fatalf("schema_migrations has %d rows, want %d", len(got), len(migrations))
	}
	for i, m := range migrations {
		if got[i].Version != m.Version || got[i].Name != m.Name {
			t.Errorf("schema_migrations row %d: %+v, want %d %s", i, got[i], m.Version, m.Name)
		}
	}
	if _, err := third.Profile(ctx, "idp"); err != nil {
		t.Errorf("data lost across opens: %v", err)
	}
	var checks int
	if err := third.db.QueryRow(`SELECT count(*) FROM meta WHERE key = 'key_check'`).Scan(&checks); err != nil || checks != 1 {
		t.Errorf("key checks stored: %d, %v; want 1", checks, err)
	}
}

func TestFutureSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "k")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (97, 'from_the_future', 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	d, err = Open(ctx, path, key)
	if err == nil {
		d.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("error %v is not errors.Is ErrSchemaTooNew", err)
	}
	for _, part := range []string{"97", "newer", path} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
}

func TestEmbeddedMigrationsParse(t *testing.T) {
	// The embedded ones parse.
	if ms, err := loadMigrations(); err != nil || len(ms) == 0 || ms[0].Name != "init" {
		t.Errorf("embedded migrations: %v, %v", ms, err)
	}
}

func TestFailedMigrationLeavesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	good, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	bad := append(good, migration{Version: len(good) + 1, Name: "broken", SQL: "CREATE TABLE x (a); SELECT no_such_function();"})
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = migrate(ctx, tx, bad, t0)
	tx.Rollback()
	if err == nil || !strings.Contains(err.Error(), "_broken") {
		t.Fatalf("got %v, want the broken migration named", err)
	}
	var tables int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables after a failed migration, want 0", tables)
	}
}

func TestOpenEscapesPath(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "we ird?x=1#frag %41 dir")
	path := filepath.Join(dir, "my db?.sqlite")
	key := newKey(t, "k")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	if d.Path() != path {
		t.Errorf("Path: %q, want %q", d.Path(), path)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"my db?.sqlite"}) {
		t.Errorf("files in the directory: %q, want only the database", names)
	}
	d, err = Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Profile(ctx, "idp"); err != nil {
		t.Errorf("reopened: %v", err)
	}
}

func TestOpenRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	d, err := Open(context.Background(), "rel.db", newKey(t, "k"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if want := filepath.Join(dir, "rel.db"); d.Path() != want {
		t.Errorf("Path: %q, want %q", d.Path(), want)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, bytes.Repeat([]byte("this is not sqlite\n"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), path, newKey(t, "k"))
	if err == nil {
		d.Close()
		t.Fatal("Open of a text file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestResolvePath(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flag    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"flag wins", "/flag.db", map[string]string{"OIDCCTL_DB": "/env.db", "HOME": "/home/u"}, "/flag.db", false},
		{"relative flag as given", "state.db", nil, "state.db", false},
		{"OIDCCTL_DB", "", map[string]string{"OIDCCTL_DB": "/env.db", "STATE_DIRECTORY": "/var/lib/oidcctl"}, "/env.db", false},
		{"systemd state directory", "", map[string]string{"STATE_DIRECTORY": "/var/lib/oidcctl", "XDG_DATA_HOME": "/x"}, "/var/lib/oidcctl/oidcctl.db", false},
		{"several state directories: first", "", map[string]string{"STATE_DIRECTORY": "/var/lib/a:/var/lib/b"}, "/var/lib/a/oidcctl.db", false},
		{"XDG_DATA_HOME", "", map[string]string{"XDG_DATA_HOME": "/home/u/data", "HOME": "/home/u"}, "/home/u/data/oidcctl/oidcctl.db", false},
		{"relative XDG_DATA_HOME ignored", "", map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/u"}, "/home/u/.local/share/oidcctl/oidcctl.db", false},
		{"HOME", "", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/oidcctl/oidcctl.db", false},
		{"nothing", "", nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolvePath(tc.flag, func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("got %q, %v; want %q (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
