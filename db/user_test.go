package db

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"oidcctl/core"
)

// fullUser returns a user with every field set; the timestamps are ones
// the store must ignore.
func fullUser(login string) core.User {
	return core.User{
		Login:     login,
		Email:     login + "@example.com",
		FirstName: "Ada",
		LastName:  "Lovelace",
		Roles:     []string{"users", "admin", "ro", "admin"},
		Profile:   "idp",
		CreatedAt: t0.Add(-24 * time.Hour),
		UpdatedAt: t0.Add(-time.Hour),
	}
}

// validationError returns the *core.ValidationError in err, or nil.
func validationError(err error) *core.ValidationError {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}

func TestUserRoundTrip(t *testing.T) {
	ctx := context.Background()
	full := fullUser("ada")
	assertFilled(t, full)
	for _, tc := range []struct {
		name string
		user core.User
		want core.User
	}{
		{"every field, roles sorted and unique", full, core.User{
			Login: "ada", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
			Roles: []string{"admin", "ro", "users"}, Profile: "idp", CreatedAt: t0, UpdatedAt: t0,
		}},
		{"login only, no roles", core.User{Login: "bare", Roles: []string{}},
			core.User{Login: "bare", CreatedAt: t0, UpdatedAt: t0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := openTest(t)
			given := slices.Clone(tc.user.Roles)
			if err := d.CreateUser(ctx, tc.user); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			if !slices.Equal(tc.user.Roles, given) {
				t.Errorf("CreateUser changed the caller's roles: %q", tc.user.Roles)
			}
			got, err := d.User(ctx, tc.user.Login)
			if err != nil {
				t.Fatalf("User: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("User:\n got %+v\nwant %+v", got, tc.want)
			}
			all, err := d.Users(ctx)
			if err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], tc.want) {
				t.Errorf("Users: %+v, %v; want [%+v]", all, err, tc.want)
			}
			var roles int
			if err := d.db.QueryRow(`SELECT count(*) FROM user_roles`).Scan(&roles); err != nil || roles != len(tc.want.Roles) {
				t.Errorf("user_roles rows: %d, %v; want %d", roles, err, len(tc.want.Roles))
			}
		})
	}
}

func TestUsersListing(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	if us, err := d.Users(ctx); err != nil || len(us) != 0 {
		t.Fatalf("Users of an empty database: %v, %v", us, err)
	}
	for _, u := range []core.User{
		{Login: "zoe", Roles: []string{"b", "a"}},
		{Login: "Bob"},
		{Login: "alice", Roles: []string{"admin"}},
		{Login: "10x", Roles: []string{"z", "z", "y"}},
	} {
		if err := d.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	us, err := d.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	roles := map[string][]string{}
	for _, u := range us {
		logins = append(logins, u.Login)
		roles[u.Login] = u.Roles
	}
	if want := []string{"10x", "Bob", "alice", "zoe"}; !slices.Equal(logins, want) {
		t.Errorf("logins: %q, want %q", logins, want)
	}
	wantRoles := map[string][]string{"10x": {"y", "z"}, "Bob": nil, "alice": {"admin"}, "zoe": {"a", "b"}}
	if !reflect.DeepEqual(roles, wantRoles) {
		t.Errorf("roles: %q, want %q", roles, wantRoles)
	}
}

func TestUserErrors(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	if err := d.CreateUser(ctx, fullUser("ada")); err != nil {
		t.Fatal(err)
	}
	noop := func(*core.User) error { return nil }
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"create taken login", func() error { return d.CreateUser(ctx, core.User{Login: "ada"}) },
			&core.ExistsError{Kind: "user", Name: "ada"}},
		{"read missing", func() error { _, err := d.User(ctx, "nope"); return err },
			&core.NotFoundError{Kind: "user", Name: "nope"}},
		{"update missing", func() error { _, err := d.UpdateUser(ctx, "nope", noop); return err },
			&core.NotFoundError{Kind: "user", Name: "nope"}},
		{"delete missing", func() error { return d.DeleteUser(ctx, "nope") },
			&core.NotFoundError{Kind: "user", Name: "nope"}},
		{"create without login", func() error { return d.CreateUser(ctx, core.User{Email: "x@example.com"}) },
			&core.ValidationError{Kind: "user", Problems: []core.FieldError{{Field: "login", Problem: "is required"}}}},
		{"create with an empty role", func() error { return d.CreateUser(ctx, core.User{Login: "new", Roles: []string{"a", ""}}) },
			&core.ValidationError{Kind: "user", Name: "new", Problems: []core.FieldError{{Field: "roles", Problem: "must not contain an empty role"}}}},
		{"update to an empty role", func() error {
			_, err := d.UpdateUser(ctx, "ada", func(u *core.User) error { u.Roles = append(u.Roles, ""); return nil })
			return err
		}, &core.ValidationError{Kind: "user", Name: "ada", Problems: []core.FieldError{{Field: "roles", Problem: "must not contain an empty role"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !reflect.DeepEqual(err, tc.want) {
				t.Errorf("got %#v (%v), want %#v", err, err, tc.want)
			}
		})
	}
	if !errors.Is(d.CreateUser(ctx, core.User{Login: "ada"}), core.ErrExists) {
		t.Error("taken login is not errors.Is core.ErrExists")
	}
	if us, err := d.Users(ctx); err != nil || len(us) != 1 {
		t.Errorf("after the failed calls: %d users, %v; want only ada", len(us), err)
	}
}

func TestUpdateUser(t *testing.T) {
	ctx := context.Background()
	d, clk := openTest(t)
	if err := d.CreateUser(ctx, fullUser("ada")); err != nil {
		t.Fatal(err)
	}
	created, err := d.User(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		got, err := d.User(ctx, "ada")
		if err != nil || !reflect.DeepEqual(got, created) {
			t.Errorf("user changed: %+v, %v; want %+v", got, err, created)
		}
	}
	t1 := t0.Add(time.Hour)
	clk.Set(t1)

	t.Run("fn error writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := d.UpdateUser(ctx, "ada", func(u *core.User) error {
			u.Email, u.Roles = "changed@example.com", nil
			return boom
		})
		if err != boom {
			t.Fatalf("got %v, want the fn's error itself", err)
		}
		unchanged(t)
	})
	t.Run("login change refused", func(t *testing.T) {
		_, err := d.UpdateUser(ctx, "ada", func(u *core.User) error { u.Login = "grace"; return nil })
		ve := validationError(err)
		if ve == nil || ve.Kind != "user" || ve.Name != "ada" || len(ve.Problems) != 1 || ve.Problems[0].Field != "login" {
			t.Fatalf("got %v, want a ValidationError on the login", err)
		}
		unchanged(t)
		if _, err := d.User(ctx, "grace"); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("renamed user exists: %v", err)
		}
	})
	t.Run("change", func(t *testing.T) {
		var seen core.User
		got, err := d.UpdateUser(ctx, "ada", func(u *core.User) error {
			seen = *u
			u.Email = "ada@analytical.engine"
			u.FirstName, u.LastName = "Augusta Ada", "King"
			u.Profile = ""
			u.Roles = append(u.Roles, "writer", "admin", "auditor")
			u.CreatedAt, u.UpdatedAt = time.Time{}, t0.Add(99*time.Hour) // ignored
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seen, created) {
			t.Errorf("fn saw %+v, want the stored user %+v", seen, created)
		}
		want := created
		want.Email = "ada@analytical.engine"
		want.FirstName, want.LastName = "Augusta Ada", "King"
		want.Profile = ""
		want.Roles = []string{"admin", "auditor", "ro", "users", "writer"}
		want.UpdatedAt = t1
		if !reflect.DeepEqual(got, want) {
			t.Errorf("returned:\n got %+v\nwant %+v", got, want)
		}
		read, err := d.User(ctx, "ada")
		if err != nil || !reflect.DeepEqual(read, want) {
			t.Errorf("read back:\n got %+v (%v)\nwant %+v", read, err, want)
		}
	})
	t.Run("remove every role", func(t *testing.T) {
		got, err := d.UpdateUser(ctx, "ada", func(u *core.User) error { u.Roles = nil; return nil })
		if err != nil || got.Roles != nil {
			t.Fatalf("got %q, %v", got.Roles, err)
		}
		var rows int
		if err := d.db.QueryRow(`SELECT count(*) FROM user_roles`).Scan(&rows); err != nil || rows != 0 {
			t.Errorf("user_roles rows: %d, %v; want 0", rows, err)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	for _, l := range []string{"keep", "drop"} {
		if err := d.CreateUser(ctx, fullUser(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.DeleteUser(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.User(ctx, "drop"); !reflect.DeepEqual(err, &core.NotFoundError{Kind: "user", Name: "drop"}) {
		t.Errorf("User after delete: %v", err)
	}
	// Its roles went with it (ON DELETE CASCADE); keep's stayed.
	var orphans, kept int
	if err := d.db.QueryRow(`SELECT count(*) FROM user_roles WHERE user_id NOT IN (SELECT id FROM users)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if err := d.db.QueryRow(`SELECT count(*) FROM user_roles`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 || kept != 3 {
		t.Errorf("user_roles after delete: %d orphans, %d rows; want 0 and keep's 3", orphans, kept)
	}
	// The login is free again, and the new user starts without the old roles.
	if err := d.CreateUser(ctx, core.User{Login: "drop"}); err != nil {
		t.Fatalf("re-create deleted login: %v", err)
	}
	if u, err := d.User(ctx, "drop"); err != nil || u.Roles != nil {
		t.Errorf("re-created user: roles %q, %v", u.Roles, err)
	}
}

// A user outlives the profile that created it; the name stays as a record.
func TestUserOutlivesProfile(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateUser(ctx, fullUser("ada")); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteProfile(ctx, "idp"); err != nil {
		t.Fatalf("DeleteProfile with a user created from it: %v", err)
	}
	if u, err := d.User(ctx, "ada"); err != nil || u.Profile != "idp" {
		t.Errorf("user after its profile was deleted: %+v, %v", u, err)
	}
}
