package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
)

// Three processes opening a new database at once: each one opens it, and
// the schema is migrated once (one row per migration), under the
// migration lock.
func TestThreeOpensAtOnceMigrateOnce(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.URL(t)
	key := newKey(t)
	const n = 3
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(ctx, conn, key)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	raw, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	var rows, distinct int
	if err := raw.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != distinct {
		t.Fatalf("schema_migrations: %d rows for %d versions, want each once", rows, distinct)
	}
}

// Secrets are sealed at rest: no column holds a secret's plain text, the
// stored bytes are crypt's sealed form bound to their row and column (as
// the SQLite store keeps them), and another key cannot open the database.
func TestSecretsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	s, conn := open(t)
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = "https://op.example/.well-known/openid-configuration", "cid", core.NewSecret("plain-client-secret")
	if err := s.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	a := core.NewAccount("acc", "op")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTokens(ctx, "acc", "", core.TokenSet{RefreshToken: core.NewSecret("plain-refresh-token")}); err != nil {
		t.Fatal(err)
	}
	raw, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	var clientSecret, refresh []byte
	if err := raw.QueryRow(ctx, `SELECT client_secret FROM profiles WHERE name = 'op'`).Scan(&clientSecret); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(ctx, `SELECT refresh_token FROM tokens`).Scan(&refresh); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stored []byte
		plain  string
		ad     string
	}{
		{clientSecret, "plain-client-secret", sealed.AD("profile", "op", "client_secret")},
		{refresh, "plain-refresh-token", sealed.AD("account", "acc", "refresh_token")},
	} {
		if bytes.Contains(c.stored, []byte(c.plain)) {
			t.Fatalf("%s is stored in plain text", c.ad)
		}
		got, err := sealed.Open(s.Key(), c.stored, c.ad)
		if err != nil || got.Reveal() != c.plain {
			t.Fatalf("%s does not open as the SQLite store's sealed form: %v", c.ad, err)
		}
		if _, err := sealed.Open(s.Key(), c.stored, "profile/other/client_secret"); err == nil {
			t.Fatalf("%s opens under another row's associated data", c.ad)
		}
	}
	// A second instance with another key refuses to start, naming the key.
	s.Close()
	other := newKey(t)
	_, err = postgres.Open(ctx, conn, other)
	var ke *crypt.KeyError
	if !errors.Is(err, crypt.ErrWrongKey) || !errors.As(err, &ke) || ke.KeyID != other.ID() {
		t.Fatalf("open with another key: %v, want a *crypt.KeyError naming %s", err, other.ID())
	}
}

// The password of the connection string appears in no error of Open.
func TestOpenErrorsKeepThePassword(t *testing.T) {
	ctx := context.Background()
	const password = "hunter2-do-not-print"
	key := newKey(t)
	for _, conn := range []string{
		"postgres://oidcctl:" + password + "@127.0.0.1:1/oidcctl?connect_timeout=2",
		"host=127.0.0.1 port=1 user=oidcctl password=" + password + " dbname=oidcctl connect_timeout=2",
		"postgres://oidcctl:" + password + "@127.0.0.1:1/oidcctl?sslmode=nonsense",
	} {
		_, err := postgres.Open(ctx, conn, key)
		if err == nil {
			t.Fatalf("open of %q worked", strings.ReplaceAll(conn, password, "***"))
		}
		if strings.Contains(err.Error(), password) {
			t.Fatalf("the error shows the password: %v", strings.ReplaceAll(err.Error(), password, "***"))
		}
	}
}

// A database migrated by a newer oidcctl is refused, not downgraded.
func TestSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	s, conn := open(t)
	s.Close()
	raw, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, conn, s.Key()); !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Fatalf("open: %v, want ErrSchemaTooNew", err)
	}
}

// --db and OIDCCTL_DB tell a PostgreSQL database from a SQLite file.
func TestIsConnString(t *testing.T) {
	for s, want := range map[string]bool{
		"postgres://oidcctl@db.internal/oidcctl?sslmode=verify-full": true,
		"postgresql:///oidcctl?host=/run/postgresql":                 true,
		"host=db.internal dbname=oidcctl":                            true,
		" dbname=oidcctl":                                            true,
		"/var/lib/oidcctl/oidcctl.db":                                false,
		"oidcctl.db":                                                 false,
		"./a=b.db":                                                   false,
		"data/x=y":                                                   false,
		"":                                                           false,
	} {
		if got := postgres.IsConnString(s); got != want {
			t.Errorf("IsConnString(%q) = %v, want %v", s, got, want)
		}
	}
}

// SealedBy reads the key id of a database without migrating it: "" for
// an empty database, the key's id once a store has opened it.
func TestSealedBy(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.URL(t)
	if id, err := postgres.SealedBy(ctx, conn); err != nil || id != "" {
		t.Fatalf("empty database: %q, %v", id, err)
	}
	key := newKey(t)
	s, err := postgres.Open(ctx, conn, key)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if id, err := postgres.SealedBy(ctx, conn); err != nil || id != key.ID() {
		t.Fatalf("sealed by %q, %v; want %s", id, err, key.ID())
	}
}

// Redact masks the password of a connection string, in either form.
func TestRedact(t *testing.T) {
	for conn, want := range map[string]string{
		"postgres://u:s3cret@db/x?sslmode=require": "postgres://u:xxxxx@db/x?sslmode=require",
		"postgresql://u@db/x":                      "postgresql://u@db/x",
		"host=db password=s3cret dbname=x":         "host=db password=xxxxx dbname=x",
		"host=db password = 's3 cr\\'et' dbname=x": "host=db password = xxxxx dbname=x",
		"host=db dbname=x":                         "host=db dbname=x",
		"postgres://u@db/x?password=s3cret":        "postgres://u@db/x?password=xxxxx",
	} {
		if got := postgres.Redact(conn); got != want {
			t.Errorf("Redact(%q) = %q, want %q", conn, got, want)
		}
	}
}

// HasPassword finds a password wherever a connection string can hold one.
func TestHasPassword(t *testing.T) {
	for conn, want := range map[string]bool{
		"postgres://u:s3cret@db/x":                 true,
		"postgres://u:@db/x":                       true,
		"postgresql://u@db/x?password=s3cret":      true,
		"postgres://u@db/x?sslmode=verify-full":    false,
		"postgres://db/x":                          false,
		"host=db password=s3cret dbname=x":         true,
		"host=db password = 's3 cr\\'et' dbname=x": true,
		"host=db dbname=x user=u":                  false,
	} {
		if got := postgres.HasPassword(conn); got != want {
			t.Errorf("HasPassword(%q) = %v, want %v", conn, got, want)
		}
	}
}

// Migrate only migrates: a new database gets the schema and no key check,
// with a key or without one, so that Open (or a copy) ties it to a key
// later; once tied, Migrate checks the key it is given and refuses another
// key or none.
func TestMigrateTiesNoKey(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.URL(t)
	other := newKey(t)
	for _, k := range []*crypt.Key{nil, other} {
		name, err := postgres.Migrate(ctx, conn, k)
		if err != nil || name == "" || strings.Contains(name, "://") {
			t.Fatalf("migrate a new database: %q, %v", name, err)
		}
		if id, err := postgres.SealedBy(ctx, conn); err != nil || id != "" {
			t.Fatalf("after Migrate the database is sealed by %q, %v; want no key check", id, err)
		}
	}
	raw, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	var versions int
	if err := raw.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions == 0 {
		t.Fatalf("schema_migrations after Migrate: %d, %v", versions, err)
	}

	key := newKey(t)
	s, err := postgres.Open(ctx, conn, key)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := postgres.Migrate(ctx, conn, key); err != nil {
		t.Fatalf("migrate with the database's key: %v", err)
	}
	var ke *crypt.KeyError
	if _, err := postgres.Migrate(ctx, conn, other); !errors.As(err, &ke) || ke.KeyID != other.ID() {
		t.Fatalf("migrate with another key: %v, want a *crypt.KeyError naming %s", err, other.ID())
	}
	if _, err := postgres.Migrate(ctx, conn, nil); err == nil || !strings.Contains(err.Error(), key.ID()) {
		t.Fatalf("migrate without a key: %v, want an error naming key %s", err, key.ID())
	}
}
