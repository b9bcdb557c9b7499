package tokens

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

// TestRenewOutlivesItsCaller: a caller that goes away (ctrl-c of token
// get, an HTTP request that ends) while the provider is rotating the
// refresh token does not abandon the refresh: the rotated refresh token
// is stored, so the next refresh sends it and succeeds, and nothing is
// sent twice.
func TestRenewOutlivesItsCaller(t *testing.T) {
	for _, tt := range []struct {
		name string
		call func(m *Manager, ctx context.Context) (core.TokenSet, error)
	}{
		{"Refresh", func(m *Manager, ctx context.Context) (core.TokenSet, error) { return m.Refresh(ctx, "svc") }},
		{"Token", func(m *Manager, ctx context.Context) (core.TokenSet, error) { return m.Token(ctx, "svc") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
			first, err := e.m.Token(context.Background(), "svc")
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Set(first.Expiry.Add(-30 * time.Second)) // due for Token
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The provider has rotated the refresh token when the caller
			// goes away; its answer comes later.
			e.op.SetTokenMiddleware(oidctest.DelayAnswers(200*time.Millisecond, cancel))
			set, err := tt.call(e.m, ctx)
			if err != nil {
				t.Fatalf("the renewal was abandoned with its caller: %v", err)
			}
			if set.AccessToken.Reveal() == first.AccessToken.Reveal() || set.RefreshToken.Reveal() == first.RefreshToken.Reveal() {
				t.Fatal("the old tokens were handed out")
			}
			st, err := e.store.TokenState(context.Background(), "svc")
			if err != nil {
				t.Fatal(err)
			}
			if st.Tokens.RefreshToken.Reveal() != set.RefreshToken.Reveal() || st.LastError != "" || st.LeaseOwner != "" {
				t.Fatalf("stored: rotated refresh token %v, error %q, lease %q",
					st.Tokens.RefreshToken.Reveal() == set.RefreshToken.Reveal(), st.LastError, st.LeaseOwner)
			}

			e.op.SetTokenMiddleware(nil)
			if _, err := e.m.Refresh(context.Background(), "svc"); err != nil {
				t.Fatalf("the next refresh: %v", err)
			}
			n, sent := e.grants("refresh_token")
			if n != 2 || sent[0] != first.RefreshToken.Reveal() || sent[1] != set.RefreshToken.Reveal() {
				t.Fatalf("%d refreshes; the second did not send the rotated refresh token", n)
			}
			if p, _ := e.grants("password"); p != 1 {
				t.Fatalf("%d password grants: a refresh token was lost and the account started over", p)
			}
		})
	}
}

// TestRenewHasItsOwnDeadline: without any deadline from the caller, a
// provider that does not answer stops a renewal at RenewTimeout, the
// failure is kept and the lease released.
func TestRenewHasItsOwnDeadline(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	if _, err := e.m.Token(context.Background(), "svc"); err != nil {
		t.Fatal(err)
	}
	e.rebuild(func(c *Config) { c.RenewTimeout = 100 * time.Millisecond })
	e.op.SlowTokenResponses(2 * time.Second)
	start := time.Now()
	_, err := e.m.Refresh(context.Background(), "svc")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the renewal's deadline", err)
	}
	// It gave up at its deadline rather than wait for the answer: a bound
	// below the provider's delay, not a tight one that a busy machine
	// under -race can miss.
	if d := time.Since(start); d >= 2*time.Second {
		t.Fatalf("the renewal took %v: it waited for the slow answer, past its deadline", d)
	}
	st, _ := e.store.TokenState(context.Background(), "svc")
	if st.LastError == "" || st.LeaseOwner != "" {
		t.Fatalf("after the deadline: error %q, lease %q", st.LastError, st.LeaseOwner)
	}
}

// TestLeaseOutlivesTheRenewal: while a renewal is at the provider, the
// lease in the store lasts longer than the renewal's deadline, even when
// LeaseTTL is set shorter, so that no other process takes the lease and
// refreshes with the same refresh token meanwhile.
func TestLeaseOutlivesTheRenewal(t *testing.T) {
	for _, tt := range []struct {
		name              string
		leaseTTL, timeout time.Duration
	}{
		{"defaults", 0, 0},
		{"lease set shorter than the deadline", 30 * time.Second, 0},
		{"long deadline", 0, 20 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
			if _, err := e.m.Token(context.Background(), "svc"); err != nil {
				t.Fatal(err)
			}
			e.rebuild(func(c *Config) { c.LeaseTTL, c.RenewTimeout = tt.leaseTTL, tt.timeout })
			deadline := orDefault(tt.timeout, DefaultRenewTimeout)
			e.clock.Freeze(e.clock.Now())
			var held core.TokenState
			e.op.SetTokenMiddleware(oidctest.DelayAnswers(0, func() {
				held, _ = e.store.TokenState(context.Background(), "svc")
			}))
			if _, err := e.m.Refresh(context.Background(), "svc"); err != nil {
				t.Fatal(err)
			}
			if held.LeaseOwner != "test-owner" {
				t.Fatalf("no lease held during the refresh: %q", held.LeaseOwner)
			}
			if left := held.LeaseUntil.Sub(e.clock.Now()); left <= deadline {
				t.Fatalf("the lease lasts %v, not longer than the renewal's deadline %v", left, deadline)
			}
		})
	}
}

// TestRotatedRefreshTokenKeptWhenTheAnswerIsUnusable: a refresh whose
// answer cannot be used (the keys to verify its id_token cannot be had)
// after the provider rotated the refresh token fails, but keeps the new
// refresh token, so the next refresh works without starting over.
func TestRotatedRefreshTokenKeptWhenTheAnswerIsUnusable(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	ctx := context.Background()
	first, err := e.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	working := e.cfg.Grants
	e.rebuild(func(c *Config) {
		c.Grants = &grant.Client{Now: e.clock.Now, Keys: func(context.Context, core.Profile, *discovery.Document) (jwk.Set, error) {
			return nil, errors.New("the JWKS endpoint is down")
		}}
	})
	_, err = e.m.Refresh(ctx, "svc")
	if !errors.Is(err, grant.ErrIDToken) {
		t.Fatalf("err = %v, want the id_token failure", err)
	}
	st, _ := e.store.TokenState(ctx, "svc")
	if st.LastError == "" || st.LeaseOwner != "" || st.Tokens.AccessToken.Reveal() != first.AccessToken.Reveal() {
		t.Fatalf("after the failure: error %q, lease %q, access token kept %v", st.LastError, st.LeaseOwner,
			st.Tokens.AccessToken.Reveal() == first.AccessToken.Reveal())
	}

	e.rebuild(func(c *Config) { c.Grants = working })
	if _, err := e.m.Refresh(ctx, "svc"); err != nil {
		t.Fatalf("the next refresh: %v", err)
	}
	n, sent := e.grants("refresh_token")
	if n != 2 || sent[1] == first.RefreshToken.Reveal() {
		t.Fatalf("%d refreshes; the second sent the spent refresh token again", n)
	}
	if p, _ := e.grants("password"); p != 1 {
		t.Fatalf("%d password grants: the rotated refresh token was lost", p)
	}
}
