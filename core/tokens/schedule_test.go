package tokens

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// TestParseScheduleRefusesWhatNeverRuns: a cron expression that no date
// matches, and an interval out of range, are refused with ErrBadSchedule;
// a rare but real date is not.
func TestParseScheduleRefusesWhatNeverRuns(t *testing.T) {
	for _, bad := range [][2]string{
		{"0 0 31 2 *", ""},   // 31 February
		{"0 0 30 2 *", ""},   // 30 February
		{"0 0 31 4,6 *", ""}, // 31 April and June
		{"", "99999999999"},  // would overflow a time.Duration
		{"", "31622401"},     // a year and a second
		{"", "-5"},
	} {
		_, err := ParseSchedule(bad[0], bad[1])
		if !errors.Is(err, ErrBadSchedule) {
			t.Errorf("%q %q: %v, want ErrBadSchedule", bad[0], bad[1], err)
		}
	}
	if _, err := ParseSchedule("0 0 31 2 *", ""); err == nil || !strings.Contains(err.Error(), "never fires") {
		t.Errorf("the error does not say why: %v", err)
	}
	for _, good := range [][2]string{{"0 0 29 2 *", ""}, {"0 0 31 * *", ""}, {"@every 1s", "31622400"}, {"0 0 31 2 1", ""}} {
		if _, err := ParseSchedule(good[0], good[1]); err != nil {
			t.Errorf("%q %q refused: %v", good[0], good[1], err)
		}
	}
}

// TestJudgeFloor: a token with more than half of its lifetime left is not
// due, however far the run looks ahead, unless it would die before the
// next run and a new one would not.
func TestJudgeFloor(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	hourly := Window{Next: now.Add(time.Hour), Horizon: now.Add(time.Hour)}
	access := func(obtained, exp time.Time) core.TokenState {
		return core.TokenState{GrantType: core.GrantClientCredentials,
			Tokens: core.TokenSet{AccessToken: core.NewSecret("a"), ObtainedAt: obtained, Expiry: exp}}
	}
	refresh := func(obtained, exp, refreshExp time.Time) core.TokenState {
		st := access(obtained, exp)
		st.Tokens.RefreshToken, st.Tokens.RefreshExpiry = core.NewSecret("r"), refreshExp
		return st
	}
	tests := []struct {
		name string
		st   core.TokenState
		w    Window
		want Verdict
	}{
		// The case: `token refresh --due` just after a 5-minute
		// token was obtained, with the default hourly schedule.
		{"5-minute token with 4m59s left", access(now.Add(-time.Second), now.Add(4*time.Minute+59*time.Second)), hourly, Fresh},
		{"5-minute token with 2m left", access(now.Add(-3*time.Minute), now.Add(2*time.Minute)), hourly, Due},
		{"2-hour token with 59m left", access(now.Add(-61*time.Minute), now.Add(59*time.Minute)), hourly, Due},
		{"2-hour token with 1h59m left", access(now.Add(-time.Minute), now.Add(119*time.Minute)), hourly, Fresh},
		{"lifetime unknown", access(time.Time{}, now.Add(4*time.Minute)), hourly, Due},
		// The manual's advice: refresh tokens that live 30 minutes, a
		// run every 20 minutes, the interval left at 3600. The refresh
		// token dies at 10:16, before the next run; a new one lives to
		// 10:30: renew it now although it has more than half its life.
		{"refresh token dies before the next run", refresh(now.Add(-14*time.Minute), now.Add(3*time.Hour), now.Add(16*time.Minute)),
			Window{Next: now.Add(20 * time.Minute), Horizon: now.Add(time.Hour)}, Due},
		// ... but a 10-minute refresh token dies before a run 20 minutes
		// away whatever this run does.
		{"refresh token no run can save", refresh(now.Add(-time.Minute), now.Add(3*time.Hour), now.Add(9*time.Minute)),
			Window{Next: now.Add(20 * time.Minute), Horizon: now.Add(time.Hour)}, Fresh},
	}
	for _, tt := range tests {
		if got := Judge(tt.st, now, tt.w, time.Minute); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// fakeAfter returns an After for a Scheduler that moves the (frozen) clock
// by the wait and fires at once, so that an hour of schedule passes in a
// moment; once ctx ends it never fires.
func fakeAfter(ctx context.Context, c *testkit.Clock, waits *[]time.Duration) func(time.Duration) <-chan time.Time {
	return func(d time.Duration) <-chan time.Time {
		if ctx.Err() != nil {
			return nil
		}
		*waits = append(*waits, d)
		if d > 0 {
			c.Add(d)
		}
		ch := make(chan time.Time, 1)
		ch <- c.Now()
		return ch
	}
}

// TestSchedulerFloor: a schedule that asks for a run every second, with a
// day's look-ahead, against the provider's 5-minute tokens. Before the
// floor, every run renewed every account: 3,600 token requests an hour
// each. Now runs are MinGap apart and each account is renewed once per
// due time: when half of its token's life is gone, about every 2.5
// minutes.
func TestSchedulerFloor(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "billing", "service", core.GrantClientCredentials)
	// No openid scope: no id token, whose iat and exp the provider sets
	// by the real clock while this test's clock runs an hour ahead.
	e.addAccount(t, "svc", "web", core.GrantPassword, "offline_access")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, e.store.SetSetting(ctx, SettingSchedule, "@every 1s"))
	must(t, e.store.SetSetting(ctx, SettingInterval, "86400"))
	t0 := time.Now()
	e.clock.Freeze(t0)
	var waits []time.Duration
	var runs []time.Time
	s := &Scheduler{
		Manager: e.m, Settings: e.store, Concurrency: 2,
		After: fakeAfter(ctx, e.clock, &waits),
		Ran: func(out []Outcome) {
			runs = append(runs, e.clock.Now())
			for _, o := range out {
				if o.Err != nil {
					t.Errorf("%s: %v", o.Account, o.Err)
				}
			}
			if !e.clock.Now().Before(t0.Add(time.Hour)) {
				cancel()
			}
		},
	}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(runs); i++ {
		if gap := runs[i].Sub(runs[i-1]); gap < DefaultMinGap {
			t.Fatalf("runs %d and %d only %s apart", i-1, i, gap)
		}
	}
	if max := int(time.Hour/DefaultMinGap) + 1; len(runs) > max {
		t.Errorf("%d runs in an hour, want at most %d", len(runs), max)
	}
	// Renewed when 2.5 of 5 minutes are left, at the first run after:
	// every 150 to 160 s, so 23 to 25 token requests in the hour.
	cc, _ := e.grants("client_credentials")
	pw, _ := e.grants("password")
	rt, _ := e.grants("refresh_token")
	t.Logf("%d runs; token requests: billing %d, svc %d", len(runs), cc, pw+rt)
	for name, n := range map[string]int{"billing": cc, "svc": pw + rt} {
		if n < 20 || n > 25 {
			t.Errorf("%s: %d token requests in an hour, want about one per 2.5 minutes (20 to 25)", name, n)
		}
	}
}

// TestSchedulerKeepsAUsableSchedule: a schedule in the database that never
// fires (written there by hand or by an older oidcctl) does not make the
// scheduler loop: it keeps the schedule it ran with.
func TestSchedulerKeepsAUsableSchedule(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "billing", "service", core.GrantClientCredentials)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, e.store.SetSetting(ctx, SettingSchedule, "*/10 * * * *"))
	e.clock.Freeze(time.Date(2026, 11, 27, 10, 3, 0, 0, time.UTC))
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	runs := make(chan []Outcome, 4)
	s := &Scheduler{
		Manager: e.m, Settings: e.store,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return fire },
		Ran:   func(o []Outcome) { runs <- o },
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-runs
	if d := <-waits; d != 7*time.Minute {
		t.Fatalf("waits %s, want 7m", d)
	}
	must(t, e.store.SetSetting(ctx, SettingSchedule, "0 0 31 2 *"))
	e.clock.Freeze(time.Date(2026, 11, 27, 10, 10, 0, 0, time.UTC))
	fire <- e.clock.Now()
	<-runs
	if d := <-waits; d != 10*time.Minute {
		t.Fatalf("with 31 February stored the scheduler waits %s, want 10m (the schedule it had)", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Started with it, the scheduler refuses to run at all.
	if err := (&Scheduler{Manager: e.m, Settings: e.store}).Run(context.Background()); !errors.Is(err, ErrBadSchedule) {
		t.Fatalf("Run with a schedule that never fires: %v", err)
	}
}

// TestSchedulerFollowsAChange: a new schedule is read when Changed says
// so, not at the old schedule's next run: the scheduler runs with the new
// window and then waits for the new schedule.
func TestSchedulerFollowsAChange(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "billing", "service", core.GrantClientCredentials)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(t, e.store.SetSetting(ctx, SettingSchedule, "0 0 * * *"))
	e.clock.Freeze(time.Date(2026, 11, 27, 10, 3, 0, 0, time.UTC))
	waits := make(chan time.Duration)
	runs := make(chan []Outcome) // unbuffered: a run and the wait after it are never both ready at once
	changed := make(chan struct{}, 1)
	s := &Scheduler{
		Manager: e.m, Settings: e.store, Changed: changed,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return nil },
		Ran:   func(o []Outcome) { runs <- o },
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-runs
	if d := <-waits; d != 13*time.Hour+57*time.Minute {
		t.Fatalf("waits %s, want 13h57m (to midnight)", d)
	}
	// Another setting changed: nothing to do, the same wait again.
	e.clock.Freeze(time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC))
	changed <- struct{}{}
	if d := <-waits; d != 13*time.Hour+56*time.Minute {
		t.Fatalf("after an unrelated change waits %s, want 13h56m", d)
	}
	must(t, e.store.SetSetting(ctx, SettingSchedule, "*/10 * * * *"))
	changed <- struct{}{}
	select {
	case <-runs:
	case d := <-waits:
		t.Fatalf("after a schedule change the scheduler waits %s instead of running", d)
	}
	if d := <-waits; d != 6*time.Minute {
		t.Fatalf("waits %s after the change, want 6m (to 10:10)", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readAllStore counts the reads of every account's token state.
type readAllStore struct {
	Store
	reads atomic.Int32
}

func (s *readAllStore) TokenStates(ctx context.Context) ([]core.TokenState, error) {
	s.reads.Add(1)
	return s.Store.TokenStates(ctx)
}

// TestSchedulerPassReadsOnlyWhatMayBeDue: a scheduler pass renews the due
// account and reports it, but reads neither every account's state nor
// looks at the fresh ones: with 100,000 accounts a pass that finds
// nothing due stays cheap. Before, every pass read (and decrypted) the
// tokens of every account twice: to judge them, and for the next wake.
func TestSchedulerPassReadsOnlyWhatMayBeDue(t *testing.T) {
	e := newEnv(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range []string{"fresh-1", "due", "fresh-2"} {
		e.addAccount(t, name, "service", core.GrantClientCredentials)
	}
	for _, name := range []string{"fresh-1", "fresh-2"} {
		if _, err := e.m.Token(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	e.op.ResetTokenRequests()
	rs := &readAllStore{Store: e.store}
	e.cfg.Store = rs
	m := New(e.cfg)
	waits := make(chan time.Duration)
	runs := make(chan []Outcome, 1)
	s := &Scheduler{
		Manager: m, Settings: e.store,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return nil },
		Ran:   func(o []Outcome) { runs <- o },
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	out := <-runs
	<-waits // the next wake is computed
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Account != "due" || out[0].Verdict != Due || out[0].Err != nil {
		t.Fatalf("pass outcomes %+v, want the due account alone, renewed", out)
	}
	if n, _ := e.grants("client_credentials"); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	if n := rs.reads.Load(); n != 0 {
		t.Fatalf("the pass read every account's state %d times", n)
	}
}
