package tokens

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/memstore"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

type env struct {
	op    *oidctest.Provider
	store *memstore.Store
	clock *testkit.Clock
	m     *Manager
	cfg   Config // what m was built from
}

// newEnv starts a provider and a store with profiles for its web and
// service clients.
func newEnv(t testing.TB, opts ...oidctest.Option) *env {
	op := oidctest.Start(t, opts...)
	store := memstore.New()
	e := &env{op: op, store: store, clock: testkit.Running()}
	ctx := context.Background()
	for name, client := range map[string][2]string{
		"web":     {oidctest.WebClientID, oidctest.WebClientSecret},
		"service": {oidctest.ServiceClientID, oidctest.ServiceClientSecret},
	} {
		p := core.NewProfile(name)
		p.DiscoveryURL, p.ClientID, p.ClientSecret = op.DiscoveryURL, client[0], core.NewSecret(client[1])
		if err := (core.Registry{Store: store}).AddProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	e.m = e.manager("test-owner")
	return e
}

func (e *env) manager(owner string) *Manager {
	e.cfg = Config{
		Store:     e.store,
		Discovery: &discovery.Client{Cache: e.store, Now: e.clock.Now},
		Grants:    &grant.Client{Now: e.clock.Now},
		Owner:     owner,
		Now:       e.clock.Now,
		RetryBase: time.Minute,
	}
	return New(e.cfg)
}

// rebuild replaces e.m with a manager built from e.cfg after change.
func (e *env) rebuild(change func(*Config)) {
	change(&e.cfg)
	e.m = New(e.cfg)
}

func (e *env) addAccount(t testing.TB, name, profile string, g core.GrantType, scopes ...string) {
	t.Helper()
	a := core.NewAccount(name, profile)
	a.GrantType, a.Scopes = g, scopes
	if g == core.GrantPassword {
		a.Username, a.Password = e.op.Username(), core.NewSecret(oidctest.Password)
	}
	if err := (core.Registry{Store: e.store}).AddAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// grants counts the token requests of one grant type.
func (e *env) grants(grantType string) (n int, refreshTokens []string) {
	for _, r := range e.op.TokenRequests() {
		if r.Get("grant_type") == grantType {
			n++
			refreshTokens = append(refreshTokens, r.Get("refresh_token"))
		}
	}
	return n, refreshTokens
}

func TestTokenObtainsOnceThenReuses(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "billing", "service", core.GrantClientCredentials)
	ctx := context.Background()
	first, err := e.m.Token(ctx, "billing")
	if err != nil {
		t.Fatal(err)
	}
	if !first.AccessToken.IsSet() || first.Expiry.Before(e.clock.Now()) {
		t.Fatalf("token set: %+v", first)
	}
	again, err := e.m.Token(ctx, "billing")
	if err != nil || again.AccessToken.Reveal() != first.AccessToken.Reveal() {
		t.Fatalf("second Token obtained anew: %v", err)
	}
	if n, _ := e.grants("client_credentials"); n != 1 {
		t.Fatalf("%d client_credentials requests, want 1", n)
	}
	// Within the margin of expiry it is obtained anew.
	e.clock.Set(first.Expiry.Add(-30 * time.Second))
	third, err := e.m.Token(ctx, "billing")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := e.grants("client_credentials"); n != 2 || !third.Expiry.After(first.Expiry) {
		t.Fatalf("%d requests, expiry %v after %v", n, third.Expiry, first.Expiry)
	}
	st, _ := e.store.TokenState(ctx, "billing")
	if st.Tokens.AccessToken.Reveal() != third.AccessToken.Reveal() || st.LastSuccess.IsZero() {
		t.Fatalf("stored state: %+v", st)
	}
}

func TestRefreshRotatesAndStoresFirst(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	ctx := context.Background()
	first, err := e.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if !first.RefreshToken.IsSet() {
		t.Fatal("no refresh token")
	}
	seen := map[string]bool{first.RefreshToken.Reveal(): true}
	for range 3 {
		set, err := e.m.Refresh(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		rt := set.RefreshToken.Reveal()
		if seen[rt] {
			t.Fatal("refresh token did not rotate")
		}
		seen[rt] = true
		st, _ := e.store.TokenState(ctx, "svc")
		if st.Tokens.RefreshToken.Reveal() != rt {
			t.Fatal("the rotated refresh token is not the stored one")
		}
		if st.LeaseOwner != "" {
			t.Fatalf("lease still held by %s", st.LeaseOwner)
		}
	}
	if n, _ := e.grants("refresh_token"); n != 3 {
		t.Fatalf("%d refresh requests, want 3", n)
	}
}

func TestRefusedRefreshToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	e.addAccount(t, "bot", "web", core.GrantAuthorizationCode, "openid", "offline_access")
	bogus := core.TokenSet{AccessToken: core.NewSecret("old"), RefreshToken: core.NewSecret("revoked-refresh-token"),
		Expiry: e.clock.Now().Add(-time.Minute), ObtainedAt: e.clock.Now().Add(-time.Hour)}
	for _, name := range []string{"svc", "bot"} {
		if err := e.store.SaveTokens(ctx, name, "", bogus); err != nil {
			t.Fatal(err)
		}
	}
	// The password grant can start over.
	set, err := e.m.Token(ctx, "svc")
	if err != nil || set.AccessToken.Reveal() == "old" {
		t.Fatalf("password account after a refused refresh: %v", err)
	}
	if n, _ := e.grants("password"); n != 1 {
		t.Fatalf("%d password requests, want 1", n)
	}
	// The authorization code grant needs a person.
	_, err = e.m.Token(ctx, "bot")
	if !errors.Is(err, ErrNeedsAuthorization) || !strings.Contains(err.Error(), "oidcctl account authorize bot") {
		t.Fatalf("want needs authorization, got %v", err)
	}
	st, _ := e.store.TokenState(ctx, "bot")
	if !st.NeedsAuthorization || st.LastError == "" || st.Tokens.RefreshToken.Reveal() != "revoked-refresh-token" {
		t.Fatalf("state after refusal: %+v", st)
	}
	if strings.Contains(err.Error(), "revoked-refresh-token") || strings.Contains(st.LastError, "revoked-refresh-token") {
		t.Fatal("the refresh token is in the error")
	}
}

func TestProviderFailureKeepsCurrentToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	first, err := e.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	for _, fault := range []struct {
		name  string
		apply func()
	}{
		{"500", func() { e.op.FailTokenRequests(http.StatusInternalServerError) }},
		{"garbage", func() {
			e.op.FailTokenRequests(0)
			e.op.SetTokenMiddleware(func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"access_token": `))
				})
			})
		}},
		{"empty token", func() {
			e.op.SetTokenMiddleware(func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"access_token": "", "token_type": "Bearer"}`))
				})
			})
		}},
	} {
		t.Run(fault.name, func(t *testing.T) {
			fault.apply()
			e.clock.Set(first.Expiry.Add(-30 * time.Second)) // due, not yet expired
			got, err := e.m.Token(ctx, "svc")
			if err != nil || got.AccessToken.Reveal() != first.AccessToken.Reveal() {
				t.Fatalf("want the current token while it lasts, got %v", err)
			}
			st, _ := e.store.TokenState(ctx, "svc")
			if st.LastError == "" || st.Tokens.RefreshToken.Reveal() != first.RefreshToken.Reveal() || st.Tokens.AccessToken.Reveal() != first.AccessToken.Reveal() {
				t.Fatalf("stored state after failure: error %q", st.LastError)
			}
			if st.NextAttempt.Before(e.clock.Now()) {
				t.Fatalf("no back-off: next attempt %v", st.NextAttempt)
			}
			// Once expired, the failure shows.
			e.clock.Set(first.Expiry.Add(time.Second))
			if _, err := e.m.Token(ctx, "svc"); err == nil {
				t.Fatal("an expired token was handed out")
			}
		})
	}
	e.op.SetTokenMiddleware(nil)
	e.clock.Set(first.Expiry.Add(time.Second))
	set, err := e.m.Token(ctx, "svc")
	if err != nil || set.AccessToken.Reveal() == first.AccessToken.Reveal() {
		t.Fatalf("recovery: %v", err)
	}
	st, _ := e.store.TokenState(ctx, "svc")
	if st.LastError != "" || st.Failures != 0 {
		t.Fatalf("error not cleared on success: %+v", st)
	}
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	horizon := now.Add(time.Hour)
	tok := func(exp, refreshExp time.Time) core.TokenSet {
		return core.TokenSet{AccessToken: core.NewSecret("a"), RefreshToken: core.NewSecret("r"), Expiry: exp, RefreshExpiry: refreshExp}
	}
	tests := []struct {
		name string
		st   core.TokenState
		want Verdict
	}{
		{"no tokens, client_credentials", core.TokenState{GrantType: core.GrantClientCredentials}, Due},
		{"no tokens, authorization_code", core.TokenState{GrantType: core.GrantAuthorizationCode}, NeedsPerson},
		{"expires after the horizon", core.TokenState{Tokens: tok(now.Add(3*time.Hour), time.Time{})}, Fresh},
		{"expires before the horizon", core.TokenState{Tokens: tok(now.Add(30*time.Minute), time.Time{})}, Due},
		{"expires within the margin of the horizon", core.TokenState{Tokens: tok(horizon.Add(30*time.Second), time.Time{})}, Due},
		{"refresh token expires before the horizon", core.TokenState{Tokens: tok(now.Add(3*time.Hour), now.Add(50*time.Minute))}, Due},
		{"no expiry known", core.TokenState{Tokens: tok(time.Time{}, time.Time{})}, Fresh},
		{"backing off", core.TokenState{Tokens: tok(now, time.Time{}), NextAttempt: now.Add(time.Minute)}, BackingOff},
		{"back-off over", core.TokenState{Tokens: tok(now, time.Time{}), NextAttempt: now.Add(-time.Minute)}, Due},
		{"needs authorization", core.TokenState{NeedsAuthorization: true}, NeedsPerson},
	}
	for _, tt := range tests {
		if got := Judge(tt.st, now, Window{Next: horizon, Horizon: horizon}, time.Minute); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestRunDueRefreshesOnlyDue(t *testing.T) {
	e := newEnv(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
	ctx := context.Background()
	e.addAccount(t, "fresh", "web", core.GrantPassword, "openid", "offline_access")
	e.addAccount(t, "due", "web", core.GrantPassword, "openid", "offline_access")
	e.addAccount(t, "never", "service", core.GrantClientCredentials)
	e.addAccount(t, "person", "web", core.GrantAuthorizationCode, "openid")
	for _, name := range []string{"fresh", "due"} {
		if _, err := e.m.Token(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := e.store.TokenState(ctx, "fresh")
	// Make "due" expire soon and leave "fresh" as it is.
	due, _ := e.store.TokenState(ctx, "due")
	due.Tokens.Expiry = e.clock.Now().Add(10 * time.Minute)
	due.Tokens.ObtainedAt = e.clock.Now().Add(-time.Hour) // 10 minutes of 70 left
	if err := e.store.SaveTokens(ctx, "due", "", due.Tokens); err != nil {
		t.Fatal(err)
	}
	e.op.ResetTokenRequests()
	horizon := e.clock.Now().Add(20 * time.Minute)
	if st.Tokens.Expiry.Before(horizon.Add(DefaultMargin)) {
		t.Fatalf("fixture: the fresh token expires too soon (%v)", st.Tokens.Expiry)
	}
	outcomes, err := e.m.RunDue(ctx, Window{Next: horizon, Horizon: horizon}, 4)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Verdict{}
	for _, o := range outcomes {
		got[o.Account] = o.Verdict
		if o.Err != nil {
			t.Errorf("%s: %v", o.Account, o.Err)
		}
	}
	want := map[string]Verdict{"fresh": Fresh, "due": Due, "never": Due, "person": NeedsPerson}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if n, _ := e.grants("refresh_token"); n != 1 {
		t.Errorf("%d refreshes, want 1 (only the due account)", n)
	}
	if n, _ := e.grants("client_credentials"); n != 1 {
		t.Errorf("%d client_credentials requests, want 1", n)
	}
}

func TestSchedulerFollowsTheStoredSchedule(t *testing.T) {
	e := newEnv(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.addAccount(t, "billing", "service", core.GrantClientCredentials)
	if err := e.store.SetSetting(ctx, SettingSchedule, "*/10 * * * *"); err != nil {
		t.Fatal(err)
	}
	e.clock.Freeze(time.Date(2026, 11, 27, 10, 3, 0, 0, time.Local))
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	runs := make(chan []Outcome, 4)
	s := &Scheduler{
		Manager: e.m, Settings: e.store, Concurrency: 2,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return fire },
		Ran:   func(o []Outcome) { runs <- o },
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	if o := <-runs; len(o) != 1 || o[0].Verdict != Due || o[0].Err != nil {
		t.Fatalf("first run: %+v", o)
	}
	if d := <-waits; d != 7*time.Minute {
		t.Fatalf("waits %s for the next run, want 7m (to 10:10)", d)
	}
	// The schedule changes in the database: the next wait follows it.
	if err := e.store.SetSetting(ctx, SettingSchedule, "30 * * * *"); err != nil {
		t.Fatal(err)
	}
	e.clock.Freeze(time.Date(2026, 11, 27, 10, 10, 0, 0, time.Local))
	fire <- e.clock.Now()
	// A pass reads only the accounts that may be due: the fresh one is
	// not even looked at.
	if o := <-runs; len(o) != 0 {
		t.Fatalf("second run looked at a fresh token: %+v", o)
	}
	if d := <-waits; d != 20*time.Minute {
		t.Fatalf("waits %s, want 20m (to 10:30)", d)
	}
	// A failure is retried when its back-off ends, before the next run.
	e.op.FailTokenRequests(http.StatusServiceUnavailable)
	e.clock.Freeze(time.Date(2026, 11, 27, 12, 10, 0, 0, time.Local)) // the token has expired
	fire <- e.clock.Now()
	if o := <-runs; o[0].Err == nil {
		t.Fatalf("run against a failing provider: %+v", o)
	}
	if d := <-waits; d <= 0 || d > 2*e.cfg.RetryBase {
		t.Fatalf("waits %s after a failure, want the back-off (at most %s), not the next run at 12:30", d, 2*e.cfg.RetryBase)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("", "")
	if err != nil || s.Spec != DefaultSchedule || s.Interval != DefaultInterval {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	for _, bad := range [][2]string{{"61 * * * *", ""}, {"* *", ""}, {"", "0"}, {"", "ten"}} {
		if _, err := ParseSchedule(bad[0], bad[1]); err == nil {
			t.Errorf("%q %q accepted", bad[0], bad[1])
		}
	}
	s, _ = ParseSchedule("0 * * * *", "7200")
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, time.Local)
	if h := s.Horizon(now); !h.Equal(now.Add(2 * time.Hour)) {
		t.Fatalf("horizon %v: the interval is longer than the wait for the next run", h)
	}
}

// TestConcurrentCallsRenewOnce: many goroutines of one process asking for
// the token of one account at once obtain it once, and a burst of 401s
// refreshes it once.
func TestConcurrentCallsRenewOnce(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	ctx := context.Background()
	var wg sync.WaitGroup
	sets := make([]core.TokenSet, 10)
	for i := range sets {
		wg.Go(func() {
			var err error
			if sets[i], err = e.m.Token(ctx, "svc"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, _ := e.grants("password"); n != 1 {
		t.Fatalf("%d password grants for 10 concurrent calls, want 1", n)
	}
	refused := sets[0].AccessToken.Reveal()
	for i := range sets {
		wg.Go(func() {
			var err error
			if sets[i], err = e.m.RefreshUnless(ctx, "svc", refused); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, _ := e.grants("refresh_token"); n != 1 {
		t.Fatalf("%d refreshes for 10 callers refused the same token, want 1", n)
	}
	for _, s := range sets {
		if s.AccessToken.Reveal() == refused {
			t.Fatal("a caller got the refused token back")
		}
	}
}
