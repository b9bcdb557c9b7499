package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/oidctest"
)

// makeDue moves the expiry of an account's tokens to 10 minutes from now,
// 10 minutes of a 70-minute lifetime: due for a run that looks 20 minutes
// ahead.
func (e *env) makeDue(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	st, err := e.store.TokenState(ctx, name)
	must(t, err)
	st.Tokens.Expiry = e.clock.Now().Add(10 * time.Minute)
	st.Tokens.ObtainedAt = e.clock.Now().Add(-time.Hour)
	must(t, e.store.SaveTokens(ctx, name, "", st.Tokens))
}

// TestRunDueSharedByThreeProcesses: three managers (three serve instances
// on one database) run the same scheduled run at once over 24 due
// accounts whose refresh tokens rotate. Each account is renewed exactly
// once, by one of them; the others say Elsewhere; no refresh token is
// sent twice; and every instance renewed some. Before, an instance that
// found the lease taken waited for it and then refreshed again: up to
// three refreshes per account per run.
func TestRunDueSharedByThreeProcesses(t *testing.T) {
	e := newEnv(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
	ctx := context.Background()
	const accounts = 24
	for i := range accounts {
		name := fmt.Sprintf("svc-%02d", i)
		e.addAccount(t, name, "web", core.GrantPassword, "offline_access")
		if _, err := e.m.Token(ctx, name); err != nil {
			t.Fatal(err)
		}
		e.makeDue(t, name)
	}
	e.op.ResetTokenRequests()
	// A provider that answers 20 ms late: the run of one instance alone
	// takes longer than the three need to start.
	e.op.SlowTokenResponses(20 * time.Millisecond)
	horizon := e.clock.Now().Add(20 * time.Minute)
	w := Window{Next: horizon, Horizon: horizon}
	managers := []*Manager{e.manager("host-a:1:x"), e.manager("host-b:1:x"), e.manager("host-c:1:x")}
	outcomes := make([][]Outcome, len(managers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, m := range managers {
		wg.Go(func() {
			<-start
			var err error
			if outcomes[i], err = m.RunDue(ctx, w, 4); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()

	renewedBy := map[string][]int{}
	for i, out := range outcomes {
		for _, o := range out {
			switch {
			case o.Err != nil:
				t.Errorf("instance %d, %s: %v", i, o.Account, o.Err)
			case o.Verdict == Due:
				renewedBy[o.Account] = append(renewedBy[o.Account], i)
			case o.Verdict != Elsewhere:
				t.Errorf("instance %d, %s: verdict %s, want due or elsewhere", i, o.Account, o.Verdict)
			}
		}
	}
	perInstance := make([]int, len(managers))
	for i := range accounts {
		name := fmt.Sprintf("svc-%02d", i)
		if by := renewedBy[name]; len(by) != 1 {
			t.Errorf("%s renewed by instances %v, want exactly one", name, by)
		} else {
			perInstance[by[0]]++
		}
	}
	n, rts := e.grants("refresh_token")
	if n != accounts {
		t.Errorf("%d refreshes for %d due accounts, want one each", n, accounts)
	}
	seen := map[string]bool{}
	for _, rt := range rts {
		if seen[rt] {
			t.Fatal("a refresh token was sent twice")
		}
		seen[rt] = true
	}
	t.Logf("renewed per instance: %v", perInstance)
	for i, k := range perInstance {
		if k == 0 {
			t.Errorf("instance %d renewed nothing: the work was not shared (%v)", i, perInstance)
		}
	}
	for i := range accounts {
		st, err := e.store.TokenState(ctx, fmt.Sprintf("svc-%02d", i))
		must(t, err)
		if st.LeaseOwner != "" || st.LastError != "" {
			t.Errorf("%s: lease %q, error %q left behind", st.Account, st.LeaseOwner, st.LastError)
		}
	}
}

// TestSchedulerTakesOverAfterTheLeaseEnds: an instance died in the middle
// of renewing an account (kill -9), leaving its lease for six minutes. A
// live instance's run leaves the account alone while the lease holds,
// wakes when it ends (not at the next scheduled run) and renews it then,
// once, with the refresh token the dead one never spent. Before, the run
// waited for the lease on the real clock, so a run stalled for as long as
// the lease lasted.
func TestSchedulerTakesOverAfterTheLeaseEnds(t *testing.T) {
	e := newEnv(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e.addAccount(t, "svc", "web", core.GrantPassword, "offline_access")
	if _, err := e.m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	// The provider signs with the real clock: freeze ours at it.
	t0 := time.Now().Truncate(time.Millisecond)
	e.clock.Freeze(t0)
	e.makeDue(t, "svc")
	before, err := e.store.TokenState(ctx, "svc")
	must(t, err)
	must(t, e.store.SetSetting(ctx, SettingSchedule, "@every 2h"))
	const dead = "host-b:4242:dead"
	leaseEnd := t0.Add(DefaultLeaseTTL)
	if _, ok, err := e.store.AcquireLease(ctx, "svc", dead, t0, leaseEnd); err != nil || !ok {
		t.Fatalf("lease for the dead instance: %v %v", ok, err)
	}
	e.op.ResetTokenRequests()

	live := e.manager("host-a:1:live")
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	runs := make(chan []Outcome)
	s := &Scheduler{
		Manager: live, Settings: e.store,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return fire },
		Ran:   func(o []Outcome) { runs <- o },
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	verdict := func(out []Outcome) Outcome {
		for _, o := range out {
			if o.Account == "svc" {
				return o
			}
		}
		t.Fatal("no outcome for svc")
		return Outcome{}
	}
	select {
	case out := <-runs:
		if o := verdict(out); o.Verdict != Elsewhere || o.Err != nil {
			t.Fatalf("first run, lease held by the dead instance: %s %v, want elsewhere", o.Verdict, o.Err)
		}
	case <-ctx.Done():
		t.Fatal("the first run did not end while another instance held the lease")
	}
	if n, _ := e.grants("refresh_token"); n != 0 {
		t.Fatalf("%d refreshes under another instance's lease", n)
	}
	if d := <-waits; d != DefaultLeaseTTL {
		t.Fatalf("waits %s, want %s (until the dead instance's lease ends, not the next run in two hours)", d, DefaultLeaseTTL)
	}
	e.clock.Freeze(leaseEnd)
	fire <- leaseEnd
	out := <-runs
	if o := verdict(out); o.Verdict != Due || o.Err != nil {
		t.Fatalf("run at the lease's end: %s %v, want due and renewed", o.Verdict, o.Err)
	}
	n, rts := e.grants("refresh_token")
	if n != 1 || rts[0] != before.Tokens.RefreshToken.Reveal() {
		t.Fatalf("%d refreshes after the lease ended, want 1 with the stored refresh token", n)
	}
	st, err := e.store.TokenState(ctx, "svc")
	must(t, err)
	if st.LeaseOwner != "" || !st.LastSuccess.Equal(leaseEnd) {
		t.Fatalf("after the takeover: lease %q, last success %v", st.LeaseOwner, st.LastSuccess)
	}
	<-waits
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// downStore is the store of a database that goes away: while down is set,
// what it names fails as an unreachable server does.
type downStore struct {
	Store
	mu   sync.Mutex
	down map[string]bool // "states", "lease"
}

var errUnreachable = errors.New("dial unix /run/postgresql/.s.PGSQL.5432: connect: no such file or directory")

func (d *downStore) set(what ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = map[string]bool{}
	for _, w := range what {
		d.down[w] = true
	}
}

func (d *downStore) is(what string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.down[what]
}

func (d *downStore) TokenStates(ctx context.Context) ([]core.TokenState, error) {
	if d.is("states") {
		return nil, errUnreachable
	}
	return d.Store.TokenStates(ctx)
}

func (d *downStore) DueTokenStates(ctx context.Context, now, before time.Time) ([]core.TokenState, error) {
	if d.is("states") {
		return nil, errUnreachable
	}
	return d.Store.DueTokenStates(ctx, now, before)
}

func (d *downStore) NextTokenWake(ctx context.Context, owner string, now, before time.Time) (time.Time, error) {
	if d.is("states") {
		return time.Time{}, errUnreachable
	}
	return d.Store.NextTokenWake(ctx, owner, now, before)
}

func (d *downStore) AcquireLease(ctx context.Context, account, owner string, now, until time.Time) (core.TokenState, bool, error) {
	if d.is("lease") {
		return core.TokenState{}, false, errUnreachable
	}
	return d.Store.AcquireLease(ctx, account, owner, now, until)
}

// TestSchedulerRetriesSoonAfterTheDatabaseFailed: a run that the database
// failed (unreachable from the start, or gone between reading the states
// and taking a lease) is tried again after StoreRetry, not at the
// schedule's next run two hours later: renewals resume on their own soon
// after the database is back. Before, the scheduler waited for the next
// scheduled run, leaving due accounts unrenewed meanwhile.
func TestSchedulerRetriesSoonAfterTheDatabaseFailed(t *testing.T) {
	for _, what := range []string{"states", "lease"} {
		t.Run(what, func(t *testing.T) {
			e := newEnv(t)
			e.addAccount(t, "billing", "service", core.GrantClientCredentials)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			must(t, e.store.SetSetting(ctx, SettingSchedule, "@every 2h"))
			e.clock.Freeze(time.Now().Truncate(time.Millisecond))
			ds := &downStore{Store: e.store}
			e.cfg.Store = ds
			m := New(e.cfg)
			ds.set(what)
			waits := make(chan time.Duration)
			fire := make(chan time.Time)
			runs := make(chan []Outcome)
			s := &Scheduler{
				Manager: m, Settings: e.store,
				After: func(d time.Duration) <-chan time.Time { waits <- d; return fire },
				Ran:   func(o []Outcome) { runs <- o },
			}
			done := make(chan error)
			go func() { done <- s.Run(ctx) }()
			<-runs
			if d := <-waits; d != DefaultStoreRetry {
				t.Fatalf("after a run the database failed the scheduler waits %s, want %s", d, DefaultStoreRetry)
			}
			if n, _ := e.grants("client_credentials"); n != 0 {
				t.Fatalf("%d token requests while the database was down", n)
			}
			ds.set()
			e.clock.Add(DefaultStoreRetry)
			fire <- e.clock.Now()
			out := <-runs
			if len(out) != 1 || out[0].Verdict != Due || out[0].Err != nil {
				t.Fatalf("run once the database is back: %+v", out)
			}
			if n, _ := e.grants("client_credentials"); n != 1 {
				t.Fatalf("%d token requests once the database is back, want 1", n)
			}
			if d := <-waits; d == DefaultStoreRetry {
				t.Fatalf("after a good run the scheduler still waits only %s", d)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
