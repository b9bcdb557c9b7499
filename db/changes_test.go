package db

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"oidcctl/core"
)

func mustVersion(t *testing.T, d *DB) int64 {
	t.Helper()
	v, err := d.ConfigVersion(context.Background())
	if err != nil {
		t.Fatalf("ConfigVersion: %v", err)
	}
	return v
}

// TestConfigVersion makes one write of each kind, in order, and checks
// whether the configuration version rose.
func TestConfigVersion(t *testing.T) {
	ctx := context.Background()
	d, clk := openTest(t)
	if v := mustVersion(t, d); v != 0 {
		t.Fatalf("version of a new database: %d, want 0", v)
	}
	boom := errors.New("boom")
	steps := []struct {
		name  string
		rises bool
		write func() error
	}{
		// Configuration.
		{"create profile", true, func() error { return d.CreateProfile(ctx, minimalProfile("idp")) }},
		{"update profile", true, func() error {
			_, err := d.UpdateProfile(ctx, "idp", func(p *core.Profile) error { p.Introspect = true; return nil })
			return err
		}},
		{"create account", true, func() error { return d.CreateAccount(ctx, fullAccount("acct", "idp")) }},
		{"update account", true, func() error {
			_, err := d.UpdateAccount(ctx, "acct", func(a *core.Account) error { a.Username = "other"; return nil })
			return err
		}},
		{"create user", true, func() error { return d.CreateUser(ctx, fullUser("ada")) }},
		{"update user", true, func() error {
			_, err := d.UpdateUser(ctx, "ada", func(u *core.User) error { u.Email = "ada@new.example"; return nil })
			return err
		}},
		{"update user's roles only", true, func() error {
			_, err := d.UpdateUser(ctx, "ada", func(u *core.User) error { u.Roles = []string{"admin", "auditor"}; return nil })
			return err
		}},
		{"create webservice", true, func() error { return d.CreateWebservice(ctx, providerWebservice("ws", "idp")) }},
		{"create requester webservice", true, func() error { return d.CreateWebservice(ctx, requesterWebservice("out", "acct")) }},
		{"update webservice", true, func() error {
			_, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error { w.Debug.Enabled = false; return nil })
			return err
		}},
		{"set setting", true, func() error { return d.SetSetting(ctx, "refresh.interval", "5m") }},
		{"change setting", true, func() error { return d.SetSetting(ctx, "refresh.interval", "10m") }},
		{"remove setting", true, func() error { return d.SetSetting(ctx, "refresh.interval", "") }},

		// Not configuration: these change all the time.
		{"save tokens", false, func() error { return d.SaveTokens(ctx, "acct", "", fullTokenSet("1")) }},
		{"acquire lease", false, func() error {
			_, _, err := d.AcquireLease(ctx, "acct", "me", t0, t0.Add(time.Minute))
			return err
		}},
		{"record failure", false, func() error { return d.RecordFailure(ctx, "acct", "me", core.Failure{Err: "x"}) }},
		{"clear tokens", false, func() error { return d.ClearTokens(ctx, "acct") }},
		{"cache discovery", false, func() error {
			return d.CacheDiscovery(ctx, "idp", core.CachedDocument{URL: "https://idp/", Body: []byte("{}"), FetchedAt: t0})
		}},
		{"add debug entries", false, func() error {
			return d.AddDebugEntries(ctx, []core.DebugEntry{fullDebugEntry("ws", 0), fullDebugEntry("", 1), fullDebugEntry("out", 2)})
		}},
		{"prune debug", false, func() error { _, err := d.PruneDebug(ctx, "ws", time.Time{}, 1); return err }},
		{"clear debug", false, func() error { _, err := d.ClearDebug(ctx, "out"); return err }},

		// Writes that change nothing, and refused ones.
		{"update user unchanged but for the clock", false, func() error {
			clk.Set(t0.Add(time.Hour))
			_, err := d.UpdateUser(ctx, "ada", func(u *core.User) error { u.Roles = []string{"auditor", "admin"}; return nil })
			return err
		}},
		{"set another setting", true, func() error { return d.SetSetting(ctx, "k", "v") }},
		{"set it to its value later", false, func() error {
			clk.Set(t0.Add(2 * time.Hour))
			return d.SetSetting(ctx, "k", "v")
		}},
		{"update refused by fn", false, func() error {
			_, err := d.UpdateProfile(ctx, "idp", func(p *core.Profile) error { p.ClientID = "x"; return boom })
			if err != boom {
				return err
			}
			return nil
		}},
		{"delete refused while in use", false, func() error {
			if err := d.DeleteProfile(ctx, "idp"); !errors.Is(err, core.ErrInUse) {
				return err
			}
			if err := d.DeleteAccount(ctx, "acct"); !errors.Is(err, core.ErrInUse) {
				return err
			}
			return nil
		}},
		{"reads", false, func() error {
			if _, err := d.Profiles(ctx); err != nil {
				return err
			}
			if _, err := d.Webservices(ctx); err != nil {
				return err
			}
			_, err := d.DebugEntries(ctx, core.DebugFilter{})
			return err
		}},

		// Deletes.
		{"delete webservice (and its debug entries)", true, func() error { return d.DeleteWebservice(ctx, "out") }},
		{"delete user", true, func() error { return d.DeleteUser(ctx, "ada") }},
		{"delete account (and its tokens)", true, func() error { return d.DeleteAccount(ctx, "acct") }},
		{"delete webservice", true, func() error { return d.DeleteWebservice(ctx, "ws") }},
		{"delete profile", true, func() error { return d.DeleteProfile(ctx, "idp") }},
	}
	for _, s := range steps {
		before := mustVersion(t, d)
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		after := mustVersion(t, d)
		if s.rises && after <= before {
			t.Errorf("%s: version %d → %d, want it to rise", s.name, before, after)
		}
		if !s.rises && after != before {
			t.Errorf("%s: version %d → %d, want it unchanged", s.name, before, after)
		}
	}
}

// TestConfigVersionSurvivesReopen checks that the version is the
// database's, not the handle's: it neither resets nor moves on Open.
func TestConfigVersionSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "k")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b"} {
		if err := d.CreateProfile(ctx, minimalProfile(p)); err != nil {
			t.Fatal(err)
		}
	}
	v := mustVersion(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := mustVersion(t, d); got != v || v < 2 {
		t.Errorf("after reopen: %d, before %d (want equal, at least 2)", got, v)
	}
}

// TestMigrationFrom0002 opens a database that an oidcctl knowing only
// 0001 and 0002 made, with a profile in it: it is migrated, the profile
// reads with the new fields at their defaults and can store them, and
// the older oidcctl then refuses the database instead of dropping them.
func TestMigrationFrom0002(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "k")
	all, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	older := all[:2]
	if older[1].Name != "tokens_users" {
		t.Fatalf("migration 2 is %s", older[1].Name)
	}
	oldMigrate := func(raw *sql.DB) error {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := migrate(ctx, tx, older, t0); err != nil {
			return err
		}
		if err := checkKey(ctx, tx, key); err != nil {
			return err
		}
		return tx.Commit()
	}
	if err := createFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := oldMigrate(raw); err != nil {
		t.Fatal(err)
	}
	// A profile as the older binary wrote it: no token_auth_method, no
	// introspect.
	if _, err := raw.Exec(`INSERT INTO profiles (name, discovery_url, client_id, settings, created_at, updated_at)
		VALUES ('old', 'https://idp/.well-known/openid-configuration', 'cid',
		'{"discovery_ttl_ns":60000000000,"flavour":"generic","tls":{},"misc":{"use_nonce":false,"rand_length":22,"rand_ttl_ns":300000000000,"leeway_ns":2000000000},"uid_claim":"sub","restrictions":{}}', 1, 1)`); err != nil {
		t.Fatal(err)
	}

	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatalf("Open of a 0002 database: %v", err)
	}
	defer d.Close()
	p, err := d.Profile(ctx, "old")
	if err != nil || p.TokenAuthMethod != "" || p.Introspect || p.ClientID != "cid" {
		t.Fatalf("old profile: %+v, %v", p, err)
	}
	if v := mustVersion(t, d); v != 0 {
		t.Errorf("version right after the migration: %d, want 0", v)
	}
	if _, err := d.UpdateProfile(ctx, "old", func(p *core.Profile) error {
		p.TokenAuthMethod, p.Introspect = "client_secret_basic", true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if p, err := d.Profile(ctx, "old"); err != nil || p.TokenAuthMethod != "client_secret_basic" || !p.Introspect {
		t.Errorf("after update: %q %v, %v", p.TokenAuthMethod, p.Introspect, err)
	}
	if v := mustVersion(t, d); v != 1 {
		t.Errorf("version after one update: %d, want 1", v)
	}

	err = oldMigrate(raw)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("the older oidcctl on the migrated database: %v, want ErrSchemaTooNew", err)
	}
}
