package db

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"oidcctl/core"
)

func TestProfileRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		profile core.Profile
	}{
		{"every field", fullProfile("full")},
		{"defaults, no secrets", minimalProfile("minimal")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := openTest(t)
			if tc.name == "every field" {
				assertFilled(t, tc.profile, "Profile.CreatedAt", "Profile.UpdatedAt")
			}
			if err := d.CreateProfile(ctx, tc.profile); err != nil {
				t.Fatalf("CreateProfile: %v", err)
			}
			want := tc.profile
			want.CreatedAt, want.UpdatedAt = t0, t0
			got, err := d.Profile(ctx, tc.profile.Name)
			if err != nil {
				t.Fatalf("Profile: %v", err)
			}
			equalProfile(t, got, want)

			all, err := d.Profiles(ctx)
			if err != nil {
				t.Fatalf("Profiles: %v", err)
			}
			if len(all) != 1 {
				t.Fatalf("Profiles: got %d, want 1", len(all))
			}
			equalProfile(t, all[0], want)

			// Unset secrets are NULL, set ones are sealed bytes.
			var secretNull, passwordNull bool
			err = d.db.QueryRow(`SELECT client_secret IS NULL, client_key_password IS NULL FROM profiles WHERE name = ?`, tc.profile.Name).
				Scan(&secretNull, &passwordNull)
			if err != nil {
				t.Fatal(err)
			}
			if secretNull != !tc.profile.ClientSecret.IsSet() || passwordNull != !tc.profile.TLS.ClientKeyPassword.IsSet() {
				t.Errorf("client_secret NULL = %v, client_key_password NULL = %v; want NULL exactly when not set", secretNull, passwordNull)
			}

			// The keys of migration 0003, as its comment names them;
			// absent when at their defaults.
			var method sql.NullString
			var introspect sql.NullInt64
			err = d.db.QueryRow(`SELECT json_extract(settings, '$.token_auth_method'), json_extract(settings, '$.introspect') FROM profiles WHERE name = ?`, tc.profile.Name).
				Scan(&method, &introspect)
			if err != nil {
				t.Fatal(err)
			}
			wantMethod := sql.NullString{String: tc.profile.TokenAuthMethod, Valid: tc.profile.TokenAuthMethod != ""}
			wantIntrospect := sql.NullInt64{}
			if tc.profile.Introspect {
				wantIntrospect = sql.NullInt64{Int64: 1, Valid: true} // JSON true
			}
			if method != wantMethod || introspect != wantIntrospect {
				t.Errorf("settings token_auth_method = %+v, introspect = %+v; want %+v, %+v", method, introspect, wantMethod, wantIntrospect)
			}
		})
	}
}

func TestProfilesOrderedByName(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)

	got, err := d.Profiles(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Profiles of an empty database: %v, %v; want none, no error", got, err)
	}
	names := []string{"zeta", "Beta", "alpha", "alpha-2", "a.1", "10", "9"}
	for _, n := range names {
		if err := d.CreateProfile(ctx, minimalProfile(n)); err != nil {
			t.Fatalf("CreateProfile %s: %v", n, err)
		}
	}
	got, err = d.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gotNames []string
	for _, p := range got {
		gotNames = append(gotNames, p.Name)
	}
	want := slices.Sorted(slices.Values(names)) // byte order
	if !slices.Equal(gotNames, want) {
		t.Errorf("Profiles order: got %q, want %q", gotNames, want)
	}
}

func TestProfileErrors(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	if err := d.CreateProfile(ctx, fullProfile("idp")); err != nil {
		t.Fatal(err)
	}
	noop := func(*core.Profile) error { return nil }
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"create taken name", func() error { return d.CreateProfile(ctx, minimalProfile("idp")) },
			&core.ExistsError{Kind: "profile", Name: "idp"}},
		{"read missing", func() error { _, err := d.Profile(ctx, "nope"); return err },
			&core.NotFoundError{Kind: "profile", Name: "nope"}},
		{"update missing", func() error { _, err := d.UpdateProfile(ctx, "nope", noop); return err },
			&core.NotFoundError{Kind: "profile", Name: "nope"}},
		{"delete missing", func() error { return d.DeleteProfile(ctx, "nope") },
			&core.NotFoundError{Kind: "profile", Name: "nope"}},
		{"name differs only in case", func() error { _, err := d.Profile(ctx, "IDP"); return err },
			&core.NotFoundError{Kind: "profile", Name: "IDP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !reflect.DeepEqual(err, tc.want) {
				t.Errorf("got %#v (%v), want %#v", err, err, tc.want)
			}
		})
	}
	// The failed create left the first profile as it was.
	got, err := d.Profile(ctx, "idp")
	if err != nil {
		t.Fatal(err)
	}
	want := fullProfile("idp")
	want.CreatedAt, want.UpdatedAt = t0, t0
	equalProfile(t, got, want)
}

func TestUpdateProfile(t *testing.T) {
	ctx := context.Background()
	d, clk := openTest(t)
	if err := d.CreateProfile(ctx, fullProfile("idp")); err != nil {
		t.Fatal(err)
	}
	created := fullProfile("idp")
	created.CreatedAt, created.UpdatedAt = t0, t0
	t1 := t0.Add(time.Hour + 250*time.Millisecond)
	clk.Set(t1)

	t.Run("fn error writes nothing and is returned as is", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := d.UpdateProfile(ctx, "idp", func(p *core.Profile) error {
			p.ClientID = "changed"
			p.ClientSecret = core.NewSecret("changed")
			p.Restrictions.Audiences = append(p.Restrictions.Audiences, "x")
			return boom
		})
		if err != boom {
			t.Fatalf("got %v, want the fn's error itself", err)
		}
		got, err := d.Profile(ctx, "idp")
		if err != nil {
			t.Fatal(err)
		}
		equalProfile(t, got, created)
	})

	t.Run("rename refused, nothing written", func(t *testing.T) {
		_, err := d.UpdateProfile(ctx, "idp", func(p *core.Profile) error {
			p.Name = "other"
			p.ClientID = "changed"
			return nil
		})
		var ve *core.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, core.ErrInvalid) || ve.Name != "idp" || len(ve.Problems) != 1 || ve.Problems[0].Field != "name" {
			t.Fatalf("got %#v (%v), want a ValidationError on the name", err, err)
		}
		if _, err := d.Profile(ctx, "other"); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("renamed profile exists: %v", err)
		}
		got, err := d.Profile(ctx, "idp")
		if err != nil {
			t.Fatal(err)
		}
		equalProfile(t, got, created)
	})

	t.Run("changes are written, timestamps kept and moved", func(t *testing.T) {
		got, err := d.UpdateProfile(ctx, "idp", func(p *core.Profile) error {
			p.ClientID = "new-client"
			p.ClientSecret = core.NewSecret("new-secret")
			p.TLS.ClientKeyPassword = core.Secret{} // cleared
			p.Restrictions.Audiences = append(p.Restrictions.Audiences, "third")
			p.RoleMap = nil
			p.Misc.Leeway = 0
			p.TokenAuthMethod = "client_secret_basic"
			p.Introspect = false
			p.CreatedAt = time.Unix(1, 0) // ignored
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := created
		want.ClientID = "new-client"
		want.ClientSecret = core.NewSecret("new-secret")
		want.TLS.ClientKeyPassword = core.Secret{}
		want.Restrictions.Audiences = []string{"billing", "tickets", "third"}
		want.RoleMap = nil
		want.Misc.Leeway = 0
		want.TokenAuthMethod = "client_secret_basic"
		want.Introspect = false
		want.UpdatedAt = t1
		equalProfile(t, got, want)
		read, err := d.Profile(ctx, "idp")
		if err != nil {
			t.Fatal(err)
		}
		equalProfile(t, read, want)
		var passwordNull bool
		if err := d.db.QueryRow(`SELECT client_key_password IS NULL FROM profiles WHERE name = 'idp'`).Scan(&passwordNull); err != nil {
			t.Fatal(err)
		}
		if !passwordNull {
			t.Error("a cleared key password is not NULL")
		}
	})
}

func TestDeleteProfile(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	for _, name := range []string{"used", "free"} {
		if err := d.CreateProfile(ctx, fullProfile(name)); err != nil {
			t.Fatal(err)
		}
		if err := d.CacheDiscovery(ctx, name, core.CachedDocument{URL: "https://x/" + name, Body: []byte("{}"), FetchedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	// Created out of order: the error lists them sorted.
	for _, name := range []string{"zz-batch", "aa-report", "mm-sync"} {
		if err := d.CreateAccount(ctx, core.NewAccount(name, "used")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.CreateAccount(ctx, core.NewAccount("elsewhere", "free")); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteAccount(ctx, "elsewhere"); err != nil {
		t.Fatal(err)
	}

	err := d.DeleteProfile(ctx, "used")
	want := &core.InUseError{Kind: "profile", Name: "used", UsedBy: "account", Users: []string{"aa-report", "mm-sync", "zz-batch"}}
	if !reflect.DeepEqual(err, want) {
		t.Fatalf("DeleteProfile in use: got %#v (%v), want %#v", err, err, want)
	}
	if !errors.Is(err, core.ErrInUse) {
		t.Error("not errors.Is ErrInUse")
	}
	if _, err := d.Profile(ctx, "used"); err != nil {
		t.Errorf("profile in use was deleted: %v", err)
	}
	if _, err := d.CachedDiscovery(ctx, "used"); err != nil {
		t.Errorf("discovery cache of a profile in use was deleted: %v", err)
	}

	if err := d.DeleteProfile(ctx, "free"); err != nil {
		t.Fatalf("DeleteProfile: %v", err)
	}
	if _, err := d.Profile(ctx, "free"); !reflect.DeepEqual(err, &core.NotFoundError{Kind: "profile", Name: "free"}) {
		t.Errorf("Profile after delete: %v", err)
	}
	var cached int
	if err := d.db.QueryRow(`SELECT count(*) FROM discovery_cache`).Scan(&cached); err != nil {
		t.Fatal(err)
	}
	if cached != 1 {
		t.Errorf("discovery_cache rows after deleting one of two profiles: %d, want 1 (cascade)", cached)
	}
	ps, err := d.Profiles(ctx)
	if err != nil || len(ps) != 1 || ps[0].Name != "used" {
		t.Errorf("Profiles after delete: %v, %v", ps, err)
	}
}
