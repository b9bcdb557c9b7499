package db

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/internal/testkit"
)

// fullTokenSet returns a token set with every field set; the times have
// whole milliseconds and are in UTC, as stored.
func fullTokenSet(tag string) core.TokenSet {
	return core.TokenSet{
		AccessToken:   core.NewSecret("access-" + tag),
		TokenType:     "Bearer",
		RefreshToken:  core.NewSecret("refresh-" + tag),
		IDToken:       core.NewSecret("id-" + tag),
		Expiry:        t0.Add(time.Hour),
		RefreshExpiry: t0.Add(30 * 24 * time.Hour),
		Scope:         "openid offline_access api.read",
		ObtainedAt:    t0.Add(-1500 * time.Millisecond),
	}
}

// withTokenAccount opens a test database with profile "idp" and account
// "acct" (password grant).
func withTokenAccount(t *testing.T) (*DB, *testkit.Clock) {
	t.Helper()
	d, clk := openTest(t)
	if err := d.CreateProfile(context.Background(), minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAccount(context.Background(), fullAccount("acct", "idp")); err != nil {
		t.Fatal(err)
	}
	return d, clk
}

// zeroState is the state of account acct before anything happened.
func zeroState() core.TokenState {
	return core.TokenState{Account: "acct", Profile: "idp", GrantType: core.GrantPassword}
}

// equalTokenState compares two states, secrets by plaintext, and reports
// every difference.
func equalTokenState(t *testing.T, got, want core.TokenState) {
	t.Helper()
	for _, s := range []struct {
		name      string
		got, want core.Secret
	}{
		{"AccessToken", got.Tokens.AccessToken, want.Tokens.AccessToken},
		{"RefreshToken", got.Tokens.RefreshToken, want.Tokens.RefreshToken},
		{"IDToken", got.Tokens.IDToken, want.Tokens.IDToken},
	} {
		if s.got.Reveal() != s.want.Reveal() {
			t.Errorf("%s of %s: got %q, want %q", s.name, want.Account, s.got.Reveal(), s.want.Reveal())
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("token state of %s differs:\n got %+v\nwant %+v", want.Account, got, want)
	}
}

// mustState reads the state of acct.
func mustState(t *testing.T, d *DB) core.TokenState {
	t.Helper()
	st, err := d.TokenState(context.Background(), "acct")
	if err != nil {
		t.Fatalf("TokenState: %v", err)
	}
	return st
}

func TestTokenStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	d, clk := withTokenAccount(t)

	equalTokenState(t, mustState(t, d), zeroState())

	// Every field: tokens, a failure after them and a lease.
	set := fullTokenSet("1")
	assertFilled(t, set)
	if err := d.SaveTokens(ctx, "acct", "", set); err != nil {
		t.Fatalf("SaveTokens: %v", err)
	}
	f := core.Failure{
		Err:                "invalid_grant: Token is not active",
		At:                 t0.Add(time.Minute),
		NextAttempt:        t0.Add(2 * time.Minute),
		NeedsAuthorization: true,
	}
	if err := d.RecordFailure(ctx, "acct", "", f); err != nil {
		t.Fatalf("RecordFailure: %v", err)
	}
	clk.Set(t0.Add(3 * time.Minute)) // not used for leases: they take now from the caller
	acquired, ok, err := d.AcquireLease(ctx, "acct", "host:42:beef", t0.Add(time.Minute), t0.Add(5*time.Minute))
	if err != nil || !ok {
		t.Fatalf("AcquireLease: %v, %v", ok, err)
	}

	want := core.TokenState{
		Account:            "acct",
		Profile:            "idp",
		GrantType:          core.GrantPassword,
		Tokens:             set,
		LastSuccess:        set.ObtainedAt,
		LastError:          f.Err,
		LastErrorAt:        f.At,
		Failures:           1,
		NextAttempt:        f.NextAttempt,
		NeedsAuthorization: true,
		LeaseOwner:         "host:42:beef",
		LeaseUntil:         t0.Add(5 * time.Minute),
	}
	assertFilled(t, want, "TokenState.Damaged") // nothing is damaged here: TestDamagedTokenRow
	equalTokenState(t, acquired, want)
	equalTokenState(t, mustState(t, d), want)
	all, err := d.TokenStates(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("TokenStates: %v, %v", all, err)
	}
	equalTokenState(t, all[0], want)

	// Across a reopen, from the file.
	path := d.Path()
	key := d.Key()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	got, err := d2.TokenState(ctx, "acct")
	if err != nil {
		t.Fatal(err)
	}
	equalTokenState(t, got, want)
}

func TestTokenStateZeroFields(t *testing.T) {
	ctx := context.Background()
	d, clk := withTokenAccount(t)
	clk.Set(t0.Add(time.Second))
	// Only an access token: every other field stays zero, and is stored as
	// NULL or '' (not as 0, which would read back as 1970).
	if err := d.SaveTokens(ctx, "acct", "", core.TokenSet{AccessToken: core.NewSecret("only-access")}); err != nil {
		t.Fatal(err)
	}
	want := zeroState()
	want.Tokens.AccessToken = core.NewSecret("only-access")
	want.LastSuccess = t0.Add(time.Second) // ObtainedAt was zero: db.Now
	equalTokenState(t, mustState(t, d), want)

	var nulls int
	err := d.db.QueryRow(`SELECT
		(refresh_token IS NULL) + (id_token IS NULL) + (expiry IS NULL) + (refresh_expiry IS NULL) +
		(obtained_at IS NULL) + (last_error_at IS NULL) + (next_attempt IS NULL) + (lease_until IS NULL)
		FROM tokens`).Scan(&nulls)
	if err != nil {
		t.Fatal(err)
	}
	if nulls != 8 {
		t.Errorf("%d of 8 unset columns are NULL", nulls)
	}

	// A failure without a time is dated db.Now.
	clk.Set(t0.Add(2 * time.Second))
	if err := d.RecordFailure(ctx, "acct", "", core.Failure{Err: "boom"}); err != nil {
		t.Fatal(err)
	}
	want.LastError, want.LastErrorAt, want.Failures = "boom", t0.Add(2*time.Second), 1
	equalTokenState(t, mustState(t, d), want)
}

func TestTokenTimesStoredInUTCMilliseconds(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	exp := time.Date(2026, 5, 6, 7, 8, 9, 123_456_789, zone)
	if err := d.SaveTokens(ctx, "acct", "", core.TokenSet{AccessToken: core.NewSecret("a"), Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	got := mustState(t, d).Tokens.Expiry
	if want := exp.Truncate(time.Millisecond).UTC(); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Expiry: got %v, want %v", got, want)
	}
}

func TestTokenSecretsEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "/test/oidcctl.key")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	const (
		access  = "PLAINTEXT-access-token-0a1b2c"
		refresh = "PLAINTEXT-refresh-token-3d4e5f"
		idToken = "PLAINTEXT-id-token-6a7b8c"
		scope   = "VISIBLE-scope-9d0e"
	)
	if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAccount(ctx, core.NewAccount("acct", "idp")); err != nil {
		t.Fatal(err)
	}
	set := core.TokenSet{
		AccessToken:  core.NewSecret(access),
		RefreshToken: core.NewSecret(refresh),
		IDToken:      core.NewSecret(idToken),
		Scope:        scope,
	}
	if err := d.SaveTokens(ctx, "acct", "", set); err != nil {
		t.Fatal(err)
	}
	// A second save without a refresh token keeps the stored one: it must
	// stay sealed through the upsert too.
	set.RefreshToken = core.Secret{}
	if err := d.SaveTokens(ctx, "acct", "", set); err != nil {
		t.Fatal(err)
	}

	check := func(when string) {
		t.Helper()
		raw := rawFiles(t, path)
		if !bytes.Contains(raw, []byte(scope)) {
			t.Fatalf("%s: scope not found in the raw files: the scan reads the wrong bytes", when)
		}
		for _, secret := range []string{access, refresh, idToken} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s: plaintext token %q found in the database files", when, secret)
			}
		}
	}
	check("open (database + WAL)")

	for column, plain := range map[string]string{"access_token": access, "refresh_token": refresh, "id_token": idToken} {
		var sealed []byte
		if err := d.db.QueryRow(`SELECT ` + column + ` FROM tokens`).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if got, err := key.Open(sealed, "account/acct/"+column); err != nil || string(got) != plain {
			t.Errorf("%s column does not open to the token with its associated data: %q, %v", column, got, err)
		}
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed (checkpointed)")
}

func TestSaveTokensKeepsRefreshToken(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)

	first := fullTokenSet("1")
	if err := d.SaveTokens(ctx, "acct", "", first); err != nil {
		t.Fatal(err)
	}
	// A refresh response without a refresh token (not rotating): the new
	// access and id tokens are stored, the refresh token and its expiry
	// stay, even though this set says no RefreshExpiry.
	second := fullTokenSet("2")
	second.RefreshToken, second.RefreshExpiry = core.Secret{}, time.Time{}
	if err := d.SaveTokens(ctx, "acct", "", second); err != nil {
		t.Fatal(err)
	}
	want := zeroState()
	want.Tokens = second
	want.Tokens.RefreshToken, want.Tokens.RefreshExpiry = first.RefreshToken, first.RefreshExpiry
	want.LastSuccess = second.ObtainedAt
	equalTokenState(t, mustState(t, d), want)

	// A RefreshExpiry without a refresh token belongs to no token: ignored.
	third := second
	third.RefreshExpiry = t0.Add(time.Minute)
	if err := d.SaveTokens(ctx, "acct", "", third); err != nil {
		t.Fatal(err)
	}
	equalTokenState(t, mustState(t, d), want)

	// A rotated refresh token replaces it, with its expiry.
	rotated := fullTokenSet("3")
	rotated.RefreshExpiry = t0.Add(48 * time.Hour)
	if err := d.SaveTokens(ctx, "acct", "", rotated); err != nil {
		t.Fatal(err)
	}
	want.Tokens, want.LastSuccess = rotated, rotated.ObtainedAt
	equalTokenState(t, mustState(t, d), want)

	// ClearTokens is the way to forget it.
	if err := d.ClearTokens(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	equalTokenState(t, mustState(t, d), zeroState())
}

func TestSaveTokensWithoutRefreshTokenOnNewRow(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	set := fullTokenSet("1")
	set.RefreshToken = core.Secret{}
	if err := d.SaveTokens(ctx, "acct", "", set); err != nil {
		t.Fatal(err)
	}
	want := zeroState()
	want.Tokens = set
	want.Tokens.RefreshExpiry = time.Time{}
	want.LastSuccess = set.ObtainedAt
	equalTokenState(t, mustState(t, d), want)
}

func TestSuccessAndFailure(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	set := fullTokenSet("1")
	if err := d.SaveTokens(ctx, "acct", "", set); err != nil {
		t.Fatal(err)
	}
	// Failures keep the tokens, count up and take the latest error.
	for i, f := range []core.Failure{
		{Err: "timeout", At: t0.Add(time.Minute), NextAttempt: t0.Add(90 * time.Second)},
		{Err: "invalid_grant", At: t0.Add(2 * time.Minute), NextAttempt: t0.Add(3 * time.Minute), NeedsAuthorization: true},
	} {
		if err := d.RecordFailure(ctx, "acct", "", f); err != nil {
			t.Fatal(err)
		}
		want := zeroState()
		want.Tokens, want.LastSuccess = set, set.ObtainedAt
		want.LastError, want.LastErrorAt, want.Failures = f.Err, f.At, i+1
		want.NextAttempt, want.NeedsAuthorization = f.NextAttempt, f.NeedsAuthorization
		equalTokenState(t, mustState(t, d), want)
	}
	// A success clears them.
	next := fullTokenSet("2")
	if err := d.SaveTokens(ctx, "acct", "", next); err != nil {
		t.Fatal(err)
	}
	want := zeroState()
	want.Tokens, want.LastSuccess = next, next.ObtainedAt
	equalTokenState(t, mustState(t, d), want)
}

func TestClearTokens(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	if err := d.SaveTokens(ctx, "acct", "", fullTokenSet("1")); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordFailure(ctx, "acct", "", core.Failure{Err: "x", At: t0, NextAttempt: t0, NeedsAuthorization: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.AcquireLease(ctx, "acct", "renewer", t0, t0.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("AcquireLease: %v, %v", ok, err)
	}
	if err := d.ClearTokens(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	// Everything goes but the lease of the process renewing right now.
	want := zeroState()
	want.LeaseOwner, want.LeaseUntil = "renewer", t0.Add(time.Minute)
	equalTokenState(t, mustState(t, d), want)
	// The renewer's tokens are stored afterwards, and its lease released.
	if err := d.SaveTokens(ctx, "acct", "renewer", fullTokenSet("2")); err != nil {
		t.Fatal(err)
	}
	if st := mustState(t, d); st.Tokens.AccessToken.Reveal() != "access-2" || st.LeaseOwner != "" {
		t.Errorf("after clear and save: access %q, lease %q", st.Tokens.AccessToken.Reveal(), st.LeaseOwner)
	}
	// Clearing an account that never had tokens is no error.
	if err := d.CreateAccount(ctx, core.NewAccount("fresh", "idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.ClearTokens(ctx, "fresh"); err != nil {
		t.Errorf("ClearTokens of an account without tokens: %v", err)
	}
}

func TestLease(t *testing.T) {
	ctx := context.Background()
	const a, b = "owner-a", "owner-b"
	minute := t0.Add(time.Minute)
	type lease struct {
		owner string
		until time.Time
	}
	for _, tc := range []struct {
		name string
		// run does the steps; its result is the last AcquireLease's, or
		// true when there is none.
		run       func(d *DB) (bool, error)
		wantOK    bool
		wantLease lease // stored afterwards
	}{
		{"free", func(d *DB) (bool, error) {
			_, ok, err := d.AcquireLease(ctx, "acct", a, t0, minute)
			return ok, err
		}, true, lease{a, minute}},
		{"held by another, not expired", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			st, ok, err := d.AcquireLease(ctx, "acct", a, minute.Add(-time.Millisecond), minute.Add(time.Hour))
			if st.LeaseOwner != b || !st.LeaseUntil.Equal(minute) {
				t.Errorf("refused: state names %q until %v, want the holder", st.LeaseOwner, st.LeaseUntil)
			}
			return ok, err
		}, false, lease{b, minute}},
		{"held by another, expiring at now", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			_, ok, err := d.AcquireLease(ctx, "acct", a, minute, minute.Add(time.Minute))
			return ok, err
		}, true, lease{a, minute.Add(time.Minute)}},
		{"held by another, expired", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			_, ok, err := d.AcquireLease(ctx, "acct", a, minute.Add(time.Hour), minute.Add(2*time.Hour))
			return ok, err
		}, true, lease{a, minute.Add(2 * time.Hour)}},
		{"same owner extends", func(d *DB) (bool, error) {
			acquire(t, d, a, t0, minute)
			st, ok, err := d.AcquireLease(ctx, "acct", a, t0.Add(time.Second), minute.Add(time.Hour))
			if st.LeaseOwner != a || !st.LeaseUntil.Equal(minute.Add(time.Hour)) {
				t.Errorf("extended: state names %q until %v", st.LeaseOwner, st.LeaseUntil)
			}
			return ok, err
		}, true, lease{a, minute.Add(time.Hour)}},
		{"release by a non-owner does nothing", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			if err := d.ReleaseLease(ctx, "acct", a); err != nil {
				return false, err
			}
			return true, d.ReleaseLease(ctx, "acct", "")
		}, true, lease{b, minute}},
		{"release by the owner", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			return true, d.ReleaseLease(ctx, "acct", b)
		}, true, lease{}},
		{"release without a row", func(d *DB) (bool, error) {
			return true, d.ReleaseLease(ctx, "acct", a)
		}, true, lease{}},
		{"released lease is free", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			if err := d.ReleaseLease(ctx, "acct", b); err != nil {
				return false, err
			}
			_, ok, err := d.AcquireLease(ctx, "acct", a, t0, minute)
			return ok, err
		}, true, lease{a, minute}},
		{"SaveTokens by the holder releases", func(d *DB) (bool, error) {
			acquire(t, d, a, t0, minute)
			return true, d.SaveTokens(ctx, "acct", a, fullTokenSet("1"))
		}, true, lease{}},
		{"SaveTokens by a non-holder stores but keeps the other's lease", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			if err := d.SaveTokens(ctx, "acct", a, fullTokenSet("lost-lease")); err != nil {
				return false, err
			}
			if st := mustState(t, d); st.Tokens.RefreshToken.Reveal() != "refresh-lost-lease" {
				t.Errorf("tokens of a lost lease not stored: refresh %q", st.Tokens.RefreshToken.Reveal())
			}
			return true, nil
		}, true, lease{b, minute}},
		{"RecordFailure by the holder releases", func(d *DB) (bool, error) {
			acquire(t, d, a, t0, minute)
			return true, d.RecordFailure(ctx, "acct", a, core.Failure{Err: "x", At: t0})
		}, true, lease{}},
		{"RecordFailure by a non-holder keeps the other's lease", func(d *DB) (bool, error) {
			acquire(t, d, b, t0, minute)
			return true, d.RecordFailure(ctx, "acct", a, core.Failure{Err: "x", At: t0})
		}, true, lease{b, minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := withTokenAccount(t)
			ok, err := tc.run(d)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.wantOK {
				t.Errorf("taken: got %v, want %v", ok, tc.wantOK)
			}
			st := mustState(t, d)
			if got := (lease{st.LeaseOwner, st.LeaseUntil}); got != tc.wantLease {
				t.Errorf("lease afterwards: got %+v, want %+v", got, tc.wantLease)
			}
		})
	}

	t.Run("no owner", func(t *testing.T) {
		d, _ := withTokenAccount(t)
		if _, ok, err := d.AcquireLease(ctx, "acct", "", t0, minute); err == nil || ok {
			t.Errorf("AcquireLease without an owner: %v, %v; want an error", ok, err)
		}
		if st := mustState(t, d); st.LeaseOwner != "" || !st.LeaseUntil.IsZero() {
			t.Errorf("lease after a refused acquire: %+v", st)
		}
	})
}

// acquire takes the lease of acct or fails the test.
func acquire(t *testing.T, d *DB, owner string, now, until time.Time) {
	t.Helper()
	if _, ok, err := d.AcquireLease(context.Background(), "acct", owner, now, until); err != nil || !ok {
		t.Fatalf("AcquireLease(%s): %v, %v", owner, ok, err)
	}
}

func TestTokenStates(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	for _, p := range []string{"idp", "other"} {
		if err := d.CreateProfile(ctx, minimalProfile(p)); err != nil {
			t.Fatal(err)
		}
	}
	accounts := []core.Account{core.NewAccount("zulu", "idp"), core.NewAccount("alpha", "other"), core.NewAccount("Mike", "idp")}
	accounts[1].GrantType = core.GrantAuthorizationCode
	for _, a := range accounts {
		if err := d.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SaveTokens(ctx, "zulu", "", fullTokenSet("z")); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordFailure(ctx, "Mike", "", core.Failure{Err: "down", At: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := d.TokenStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []core.TokenState{
		{Account: "Mike", Profile: "idp", GrantType: core.GrantClientCredentials, LastError: "down", LastErrorAt: t0, Failures: 1},
		{Account: "alpha", Profile: "other", GrantType: core.GrantAuthorizationCode},
		{Account: "zulu", Profile: "idp", GrantType: core.GrantClientCredentials, Tokens: fullTokenSet("z"), LastSuccess: fullTokenSet("z").ObtainedAt},
	}
	if len(got) != len(want) {
		t.Fatalf("TokenStates: %d states, want %d (every account, with or without tokens)", len(got), len(want))
	}
	for i := range want {
		equalTokenState(t, got[i], want[i])
	}
	// The state of an account without a row is the same one by one.
	one, err := d.TokenState(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	equalTokenState(t, one, want[1])

	// No accounts: an empty list, no error.
	empty, _ := openTest(t)
	if sts, err := empty.TokenStates(ctx); err != nil || len(sts) != 0 {
		t.Errorf("TokenStates of an empty database: %v, %v", sts, err)
	}
}

func TestDeleteAccountDeletesTokens(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	if err := d.SaveTokens(ctx, "acct", "", fullTokenSet("1")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.AcquireLease(ctx, "acct", "someone", t0, t0.Add(time.Minute)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := d.DeleteAccount(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := d.db.QueryRow(`SELECT count(*) FROM tokens`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d tokens rows after the account was deleted, want 0", rows)
	}
	// A new account of the same name starts with nothing.
	if err := d.CreateAccount(ctx, fullAccount("acct", "idp")); err != nil {
		t.Fatal(err)
	}
	equalTokenState(t, mustState(t, d), zeroState())
}

func TestTokenStoreUnknownAccount(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	want := &core.NotFoundError{Kind: "account", Name: "nope"}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"TokenState", func() error { _, err := d.TokenState(ctx, "nope"); return err }},
		{"AcquireLease", func() error { _, _, err := d.AcquireLease(ctx, "nope", "o", t0, t0.Add(time.Minute)); return err }},
		{"SaveTokens", func() error { return d.SaveTokens(ctx, "nope", "o", fullTokenSet("1")) }},
		{"RecordFailure", func() error { return d.RecordFailure(ctx, "nope", "o", core.Failure{Err: "x"}) }},
		{"ReleaseLease", func() error { return d.ReleaseLease(ctx, "nope", "o") }},
		{"ClearTokens", func() error { return d.ClearTokens(ctx, "nope") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !reflect.DeepEqual(err, want) {
				t.Errorf("got %#v (%v), want %#v", err, err, want)
			}
		})
	}
	var rows int
	// One row: the known account's own, made with it.
	if err := d.db.QueryRow(`SELECT count(*) FROM tokens`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("tokens rows after calls on an unknown account: %d, %v; want 1", rows, err)
	}
}

func TestTokenSecretBoundToAccount(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	if err := d.CreateAccount(ctx, core.NewAccount("other", "idp")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"acct", "other"} {
		if err := d.SaveTokens(ctx, n, "", fullTokenSet(n)); err != nil {
			t.Fatal(err)
		}
	}
	// acct's refresh token moved into other's row, and into acct's access
	// token column: neither opens.
	if _, err := d.db.Exec(`UPDATE tokens SET refresh_token = (SELECT t.refresh_token FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE a.name = 'acct')
		WHERE account_id = (SELECT id FROM accounts WHERE name = 'other')`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec(`UPDATE tokens SET access_token = refresh_token WHERE account_id = (SELECT id FROM accounts WHERE name = 'acct')`); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"acct", "other"} {
		st, err := d.TokenState(ctx, n)
		if err != nil {
			t.Fatalf("token state of %s: %v", n, err)
		}
		if !errors.Is(st.Damaged, crypt.ErrWrongKey) {
			t.Errorf("token state of %s with a moved token: damaged %v, want a *crypt.KeyError", n, st.Damaged)
			continue
		}
		if strings.Contains(st.Damaged.Error(), "refresh-") {
			t.Errorf("error reveals a token: %v", st.Damaged)
		}
		if st.Status(t0) != core.StateDamaged {
			t.Errorf("state of %s: %q", n, st.Status(t0))
		}
	}
	// The moved tokens open nowhere; the rest opens.
	if st, _ := d.TokenState(ctx, "acct"); st.Tokens.AccessToken.IsSet() || st.Tokens.RefreshToken.Reveal() != "refresh-acct" {
		t.Errorf("acct: access set %v, refresh %q", st.Tokens.AccessToken.IsSet(), st.Tokens.RefreshToken.Reveal())
	}
	if st, _ := d.TokenState(ctx, "other"); st.Tokens.RefreshToken.IsSet() || st.Tokens.AccessToken.Reveal() != "access-other" {
		t.Errorf("other: refresh set %v, access %q", st.Tokens.RefreshToken.IsSet(), st.Tokens.AccessToken.Reveal())
	}
}

// corruptToken flips a bit in the middle of the sealed token in column of
// account's row, in the database file, as a disk or a bad copy would.
func corruptToken(t *testing.T, d *DB, account, column string) {
	t.Helper()
	const where = ` WHERE account_id = (SELECT id FROM accounts WHERE name = ?)`
	var sealed []byte
	if err := d.db.QueryRow(`SELECT `+column+` FROM tokens`+where, account).Scan(&sealed); err != nil || len(sealed) == 0 {
		t.Fatalf("read %s of %s: %v", column, account, err)
	}
	sealed[len(sealed)/2] ^= 0x40
	if _, err := d.db.Exec(`UPDATE tokens SET `+column+` = ?`+where, sealed, account); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedTokenRow: a token whose ciphertext was damaged in the
// database does not make the list fail: the account is listed with the
// reason, the others as they are; storing new tokens heals it, a damaged
// refresh token included even when the new set has none.
func TestDamagedTokenRow(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	for _, n := range []string{"alpha", "zulu"} {
		if err := d.CreateAccount(ctx, core.NewAccount(n, "idp")); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"acct", "alpha", "zulu"} {
		if err := d.SaveTokens(ctx, n, "", fullTokenSet(n)); err != nil {
			t.Fatal(err)
		}
	}
	// Flip a byte in the middle of acct's sealed access and refresh tokens.
	for _, column := range []string{"access_token", "refresh_token"} {
		corruptToken(t, d, "acct", column)
	}
	states, err := d.TokenStates(ctx)
	if err != nil {
		t.Fatalf("one damaged row failed the whole list: %v", err)
	}
	if len(states) != 3 {
		t.Fatalf("%d states, want 3", len(states))
	}
	for _, st := range states {
		switch st.Account {
		case "acct":
			if st.Damaged == nil || !strings.Contains(st.Damaged.Error(), "access_token") || !strings.Contains(st.Damaged.Error(), "refresh_token") {
				t.Errorf("damaged row: %v", st.Damaged)
			}
			if st.Tokens.AccessToken.IsSet() || st.Tokens.RefreshToken.IsSet() || st.Tokens.IDToken.Reveal() != "id-acct" {
				t.Errorf("damaged row: the tokens that open should be there, the others unset")
			}
		default:
			want := fullTokenSet(st.Account)
			if st.Damaged != nil || st.Tokens.AccessToken.Reveal() != want.AccessToken.Reveal() || st.Tokens.RefreshToken.Reveal() != want.RefreshToken.Reveal() {
				t.Errorf("%s: damaged %v", st.Account, st.Damaged)
			}
		}
	}

	// New tokens without a refresh token (client_credentials) replace
	// the damaged ones, the damaged refresh token too.
	set := fullTokenSet("new")
	set.RefreshToken, set.RefreshExpiry = core.Secret{}, time.Time{}
	if err := d.SaveTokens(ctx, "acct", "", set); err != nil {
		t.Fatal(err)
	}
	st := mustState(t, d)
	if st.Damaged != nil || st.Tokens.AccessToken.Reveal() != "access-new" || st.Tokens.RefreshToken.IsSet() || !st.Tokens.RefreshExpiry.IsZero() {
		t.Fatalf("after new tokens: damaged %v, refresh set %v", st.Damaged, st.Tokens.RefreshToken.IsSet())
	}
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	d, clk := openTest(t)
	get := func(key string) (string, bool) {
		t.Helper()
		v, ok, err := d.Setting(ctx, key)
		if err != nil {
			t.Fatalf("Setting(%q): %v", key, err)
		}
		return v, ok
	}
	set := func(key, value string) {
		t.Helper()
		if err := d.SetSetting(ctx, key, value); err != nil {
			t.Fatalf("SetSetting(%q, %q): %v", key, value, err)
		}
	}
	if v, ok := get("refresh.schedule"); ok || v != "" {
		t.Errorf("unset setting: %q, %v", v, ok)
	}
	set("refresh.schedule", "*/5 * * * *")
	set("refresh.interval", "5m")
	if v, ok := get("refresh.schedule"); !ok || v != "*/5 * * * *" {
		t.Errorf("after set: %q, %v", v, ok)
	}
	clk.Set(t0.Add(time.Hour))
	set("refresh.schedule", "@hourly")
	if v, ok := get("refresh.schedule"); !ok || v != "@hourly" {
		t.Errorf("after overwrite: %q, %v", v, ok)
	}
	var updated int64
	if err := d.db.QueryRow(`SELECT updated_at FROM settings WHERE key = 'refresh.schedule'`).Scan(&updated); err != nil {
		t.Fatal(err)
	}
	if updated != t0.Add(time.Hour).UnixMilli() {
		t.Errorf("updated_at: %d, want %d", updated, t0.Add(time.Hour).UnixMilli())
	}
	set("refresh.schedule", "") // removes
	if v, ok := get("refresh.schedule"); ok || v != "" {
		t.Errorf("after removal: %q, %v", v, ok)
	}
	set("never.set", "") // removing what is not there is fine
	if v, ok := get("refresh.interval"); !ok || v != "5m" {
		t.Errorf("other setting touched: %q, %v", v, ok)
	}
	var rows int
	if err := d.db.QueryRow(`SELECT count(*) FROM settings`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("settings rows: %d, %v; want 1", rows, err)
	}
	if err := d.SetSetting(ctx, "", "x"); err == nil {
		t.Error("SetSetting with an empty key: no error")
	}
	// A string with what JSON, SQL or shells would mangle.
	odd := "a'b\"c\\d\n\x00é;--"
	set("odd", odd)
	if v, _ := get("odd"); v != odd {
		t.Errorf("odd value: %q, want %q", v, odd)
	}
}
