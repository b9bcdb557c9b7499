package db

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"oidcctl/core"
)

func TestAccountRoundTrip(t *testing.T) {
	ctx := context.Background()
	full := fullAccount("billing-sync", "idp")
	assertFilled(t, full, "Account.CreatedAt", "Account.UpdatedAt")
	for _, tc := range []struct {
		name    string
		account core.Account
	}{
		{"every field", full},
		{"defaults, no password", core.NewAccount("plain", "idp")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := openTest(t)
			if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
				t.Fatal(err)
			}
			if err := d.CreateAccount(ctx, tc.account); err != nil {
				t.Fatalf("CreateAccount: %v", err)
			}
			want := tc.account
			want.CreatedAt, want.UpdatedAt = t0, t0
			got, err := d.Account(ctx, tc.account.Name)
			if err != nil {
				t.Fatalf("Account: %v", err)
			}
			equalAccount(t, got, want)
			for _, profile := range []string{"", "idp"} {
				all, err := d.Accounts(ctx, profile)
				if err != nil || len(all) != 1 {
					t.Fatalf("Accounts(%q): %v, %v", profile, all, err)
				}
				equalAccount(t, all[0], want)
			}
			var passwordNull bool
			if err := d.db.QueryRow(`SELECT password IS NULL FROM accounts`).Scan(&passwordNull); err != nil {
				t.Fatal(err)
			}
			if passwordNull != !tc.account.Password.IsSet() {
				t.Errorf("password NULL = %v, want NULL exactly when not set", passwordNull)
			}
		})
	}
}

func TestAccountsListing(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	for _, p := range []string{"one", "two", "empty"} {
		if err := d.CreateProfile(ctx, minimalProfile(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []struct{ name, profile string }{
		{"zulu", "one"}, {"alpha", "two"}, {"Mike", "one"}, {"bravo", "one"}, {"10-x", "two"},
	} {
		if err := d.CreateAccount(ctx, core.NewAccount(a.name, a.profile)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		profile string
		want    []string
		err     error
	}{
		{"", []string{"10-x", "Mike", "alpha", "bravo", "zulu"}, nil},
		{"one", []string{"Mike", "bravo", "zulu"}, nil},
		{"two", []string{"10-x", "alpha"}, nil},
		{"empty", nil, nil},
		{"missing", nil, &core.NotFoundError{Kind: "profile", Name: "missing"}},
	} {
		t.Run("profile="+tc.profile, func(t *testing.T) {
			as, err := d.Accounts(ctx, tc.profile)
			if !reflect.DeepEqual(err, tc.err) {
				t.Fatalf("err: got %v, want %v", err, tc.err)
			}
			var names []string
			for _, a := range as {
				names = append(names, a.Name)
				if tc.profile != "" && a.Profile != tc.profile {
					t.Errorf("%s has profile %s", a.Name, a.Profile)
				}
			}
			if !reflect.DeepEqual(names, tc.want) {
				t.Errorf("got %q, want %q", names, tc.want)
			}
		})
	}
}

func TestAccountErrors(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAccount(ctx, fullAccount("acct", "idp")); err != nil {
		t.Fatal(err)
	}
	noop := func(*core.Account) error { return nil }
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"create taken name", func() error { return d.CreateAccount(ctx, core.NewAccount("acct", "idp")) },
			&core.ExistsError{Kind: "account", Name: "acct"}},
		{"create with missing profile", func() error { return d.CreateAccount(ctx, core.NewAccount("new", "nope")) },
			&core.NotFoundError{Kind: "profile", Name: "nope"}},
		{"read missing", func() error { _, err := d.Account(ctx, "nope"); return err },
			&core.NotFoundError{Kind: "account", Name: "nope"}},
		{"update missing", func() error { _, err := d.UpdateAccount(ctx, "nope", noop); return err },
			&core.NotFoundError{Kind: "account", Name: "nope"}},
		{"move to missing profile", func() error {
			_, err := d.UpdateAccount(ctx, "acct", func(a *core.Account) error { a.Profile = "nope"; a.Username = "changed"; return nil })
			return err
		}, &core.NotFoundError{Kind: "profile", Name: "nope"}},
		{"delete missing", func() error { return d.DeleteAccount(ctx, "nope") },
			&core.NotFoundError{Kind: "account", Name: "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !reflect.DeepEqual(err, tc.want) {
				t.Errorf("got %#v (%v), want %#v", err, err, tc.want)
			}
		})
	}
	if _, err := d.Account(ctx, "new"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("account with a missing profile was created: %v", err)
	}
	got, err := d.Account(ctx, "acct")
	if err != nil {
		t.Fatal(err)
	}
	want := fullAccount("acct", "idp")
	want.CreatedAt, want.UpdatedAt = t0, t0
	equalAccount(t, got, want)
}

func TestUpdateAccount(t *testing.T) {
	ctx := context.Background()
	d, clk := openTest(t)
	for _, p := range []string{"old", "new"} {
		if err := d.CreateProfile(ctx, minimalProfile(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.CreateAccount(ctx, fullAccount("acct", "old")); err != nil {
		t.Fatal(err)
	}
	created := fullAccount("acct", "old")
	created.CreatedAt, created.UpdatedAt = t0, t0
	t1 := t0.Add(90 * time.Second)
	clk.Set(t1)

	unchanged := func(t *testing.T) {
		t.Helper()
		got, err := d.Account(ctx, "acct")
		if err != nil {
			t.Fatal(err)
		}
		equalAccount(t, got, created)
	}

	t.Run("fn error writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := d.UpdateAccount(ctx, "acct", func(a *core.Account) error {
			a.Password = core.NewSecret("changed")
			return boom
		})
		if err != boom {
			t.Fatalf("got %v, want the fn's error itself", err)
		}
		unchanged(t)
	})
	t.Run("rename refused", func(t *testing.T) {
		_, err := d.UpdateAccount(ctx, "acct", func(a *core.Account) error { a.Name = "renamed"; return nil })
		var ve *core.ValidationError
		if !errors.As(err, &ve) || ve.Kind != "account" || ve.Problems[0].Field != "name" {
			t.Fatalf("got %v, want a ValidationError on the name", err)
		}
		unchanged(t)
	})
	t.Run("move and change", func(t *testing.T) {
		got, err := d.UpdateAccount(ctx, "acct", func(a *core.Account) error {
			a.Profile = "new"
			a.GrantType = core.GrantClientCredentials
			a.Username, a.Password = "", core.Secret{}
			a.Scopes = []string{"api"}
			a.Resources = nil
			a.TokenType = core.TokenAccess
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := created
		want.Profile = "new"
		want.GrantType = core.GrantClientCredentials
		want.Username, want.Password = "", core.Secret{}
		want.Scopes = []string{"api"}
		want.Resources = nil
		want.TokenType = core.TokenAccess
		want.UpdatedAt = t1
		equalAccount(t, got, want)
		read, err := d.Account(ctx, "acct")
		if err != nil {
			t.Fatal(err)
		}
		equalAccount(t, read, want)
		if as, _ := d.Accounts(ctx, "old"); len(as) != 0 {
			t.Errorf("old profile still lists %d accounts", len(as))
		}
		if err := d.DeleteProfile(ctx, "old"); err != nil {
			t.Errorf("DeleteProfile of the profile moved away from: %v", err)
		}
	})
}

func TestDeleteAccount(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"keep", "drop"} {
		if err := d.CreateAccount(ctx, fullAccount(n, "idp")); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.DeleteAccount(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Account(ctx, "drop"); !reflect.DeepEqual(err, &core.NotFoundError{Kind: "account", Name: "drop"}) {
		t.Errorf("Account after delete: %v", err)
	}
	as, err := d.Accounts(ctx, "")
	if err != nil || len(as) != 1 || as[0].Name != "keep" {
		t.Errorf("Accounts after delete: %v, %v", as, err)
	}
	// The name is free again.
	if err := d.CreateAccount(ctx, core.NewAccount("drop", "idp")); err != nil {
		t.Errorf("re-create deleted name: %v", err)
	}
}
