package tokens

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"oidcctl/core"
)

// Defaults of the refresh schedule, as the manual's TokenStoreUpdater.
const (
	DefaultSchedule = "0 * * * *"
	DefaultInterval = time.Hour
	// MaxInterval is the longest interval accepted: a year. Beyond it the
	// look-ahead means nothing (and seconds overflow a time.Duration).
	MaxInterval = 366 * 24 * time.Hour
	// DefaultMinGap is the least time between two runs of the scheduler,
	// whatever the schedule says: a floor no schedule can undercut.
	DefaultMinGap = 10 * time.Second
	// DefaultStoreRetry is the wait before the scheduler runs again after
	// a run the database failed (it was unreachable, a PostgreSQL server
	// restarting), rather than the schedule's next run: renewals resume
	// on their own soon after the database is back.
	DefaultStoreRetry = 10 * time.Second
	// Setting keys under which the schedule is kept in the database.
	SettingSchedule = "refresh.schedule"
	SettingInterval = "refresh.interval"
)

// ErrBadSchedule is matched (errors.Is) by the errors of ParseSchedule: a
// refresh schedule or interval that oidcctl refuses to run with.
var ErrBadSchedule = errors.New("bad refresh schedule")

// badSchedule is an error of ParseSchedule: its message says what is wrong
// without repeating ErrBadSchedule's.
type badSchedule struct{ err error }

func (e badSchedule) Error() string        { return e.err.Error() }
func (e badSchedule) Unwrap() error        { return e.err }
func (e badSchedule) Is(target error) bool { return target == ErrBadSchedule }

func badf(format string, args ...any) error { return badSchedule{fmt.Errorf(format, args...)} }

// Schedule says when the store is renewed: a cron expression for when runs
// happen, and an interval that every run looks ahead at least.
type Schedule struct {
	Cron     cron.Schedule
	Spec     string
	Interval time.Duration
}

// neverBefore is where ParseSchedule looks for a schedule's first run.
// robfig/cron gives up after five years; a five-field expression that
// fires at all fires within any five years (29 February included), so one
// look from a fixed date tells the expressions that never fire.
var neverBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseSchedule reads a cron expression (five fields, or @hourly, @every
// 10m ...) and an interval in seconds ("" for the defaults). It refuses an
// expression that never fires ("0 0 31 2 *": 31 February) and an interval
// that is not between one second and MaxInterval. The errors wrap
// ErrBadSchedule.
func ParseSchedule(spec, interval string) (Schedule, error) {
	if spec == "" {
		spec = DefaultSchedule
	}
	c, err := cron.ParseStandard(spec)
	if err != nil {
		return Schedule{}, badf("refresh schedule %q: %w", spec, err)
	}
	if c.Next(neverBefore).IsZero() {
		return Schedule{}, badf("refresh schedule %q never fires: no date matches it", spec)
	}
	s := Schedule{Cron: c, Spec: spec, Interval: DefaultInterval}
	if interval != "" {
		n, err := strconv.ParseInt(interval, 10, 64)
		if err != nil || n <= 0 || n > int64(MaxInterval/time.Second) {
			return Schedule{}, badf("refresh interval %q: want a positive number of seconds, at most %d (a year)", interval, int64(MaxInterval/time.Second))
		}
		s.Interval = time.Duration(n) * time.Second
	}
	return s, nil
}

// LoadSchedule reads the schedule from the database's settings.
func LoadSchedule(ctx context.Context, settings core.SettingStore) (Schedule, error) {
	spec, _, err := settings.Setting(ctx, SettingSchedule)
	if err != nil {
		return Schedule{}, fmt.Errorf("read the refresh schedule: %w", err)
	}
	interval, _, err := settings.Setting(ctx, SettingInterval)
	if err != nil {
		return Schedule{}, fmt.Errorf("read the refresh interval: %w", err)
	}
	return ParseSchedule(spec, interval)
}

// Same reports whether two schedules say the same.
func (s Schedule) Same(o Schedule) bool { return s.Spec == o.Spec && s.Interval == o.Interval }

// Window is what a run looks at: when the schedule runs next, and the
// horizon every token should last until.
type Window struct {
	// Next is the schedule's next run.
	Next time.Time
	// Horizon is Next or the run's time plus the interval, whichever is
	// later.
	Horizon time.Time
}

// Window returns the window of a run at now. A schedule without a next
// run (robfig/cron looks five years ahead) counts as running again after
// the interval.
func (s Schedule) Window(now time.Time) Window {
	h := now.Add(s.Interval)
	next := s.Cron.Next(now)
	if next.IsZero() {
		next = h
	}
	if next.After(h) {
		h = next
	}
	return Window{Next: next, Horizon: h}
}

// Horizon is how far a run at now looks ahead: to the next run or the
// interval, whichever is later.
func (s Schedule) Horizon(now time.Time) time.Time { return s.Window(now).Horizon }

// Verdict says what a run does with one account.
type Verdict string

// The verdicts of Due.
const (
	Fresh       Verdict = "fresh"       // nothing to do until a later run
	Due         Verdict = "due"         // renewed by this run
	BackingOff  Verdict = "backing_off" // failed lately; retried at NextAttempt
	NeedsPerson Verdict = "needs_authorization"
	// Elsewhere: due, but another process holds its lease or renewed it
	// during this run (RunDue).
	Elsewhere Verdict = "elsewhere"
)

// Judge says whether a run at now, looking at window w, renews an
// account: its token (or its refresh token, which only a refresh keeps
// alive) would expire before the horizon plus margin, or it has none.
//
// A floor no schedule can undercut: a token with more than half of its
// lifetime left (from TokenSet.ObtainedAt to its expiry) is never due,
// unless it would expire before the next run while a new one would
// outlast that run. So a look-ahead longer than a token's lifetime (an
// hourly run and 5-minute tokens) does not renew a token just obtained,
// run after run, while a refresh token that would die before the next run
// is still renewed in time.
func Judge(st core.TokenState, now time.Time, w Window, margin time.Duration) Verdict {
	switch {
	case st.NeedsAuthorization:
		return NeedsPerson
	case !st.NextAttempt.IsZero() && now.Before(st.NextAttempt):
		return BackingOff
	case !st.Tokens.AccessToken.IsSet() && !st.Tokens.RefreshToken.IsSet():
		if st.GrantType == core.GrantAuthorizationCode {
			return NeedsPerson
		}
		return Due
	}
	if expiring(st.Tokens.Expiry, st.Tokens.ObtainedAt, now, w, margin) ||
		expiring(st.Tokens.RefreshExpiry, st.Tokens.ObtainedAt, now, w, margin) {
		return Due
	}
	return Fresh
}

// expiring reports whether a token obtained at obtained that expires at
// exp is due at now (see Judge). A zero exp never expires; a zero
// obtained leaves the lifetime unknown, and the token due by the horizon
// alone.
func expiring(exp, obtained, now time.Time, w Window, margin time.Duration) bool {
	if exp.IsZero() || !exp.Before(w.Horizon.Add(margin)) {
		return false
	}
	if obtained.IsZero() || !obtained.Before(exp) {
		return true
	}
	life := exp.Sub(obtained)
	if exp.Sub(now) <= life/2 {
		return true
	}
	next := w.Next.Add(margin)
	return exp.Before(next) && !now.Add(life).Before(next)
}

// Outcome is what a run did with one account.
type Outcome struct {
	Account string
	Verdict Verdict
	Err     error // set when a due account could not be renewed
	Expiry  time.Time
}

// RunDue renews every account due in window w (see Judge), at most
// concurrency at a time, and says what it did with each.
//
// Several processes (serve instances on several hosts) may run it on one
// database at the same time: they share the work. A due account is
// claimed by taking its lease without waiting; an account whose lease
// another process holds, or that another process renewed since this run
// read it, is left to that process (verdict Elsewhere). So each due
// account is renewed once per due time, by one process. The due accounts
// are taken in a random order, so that processes starting together mostly
// claim different ones.
func (m *Manager) RunDue(ctx context.Context, w Window, concurrency int) ([]Outcome, error) {
	states, err := m.store.TokenStates(ctx)
	if err != nil {
		return nil, err
	}
	return m.renewDue(ctx, states, w, concurrency), nil
}

// RunPass is RunDue for the scheduler: it renews the same accounts, but
// reads only those the store says may be due (core.TokenStore's
// DueTokenStates, found by an index), and says what it did with those
// alone; the accounts left out are Fresh, or BackingOff, or need a person.
// So a pass that finds nothing due costs little however many accounts
// there are.
//
// A stored token that does not open (Damaged) is renewed when its stored
// expiry comes due, as any other, rather than at the next pass.
func (m *Manager) RunPass(ctx context.Context, w Window, concurrency int) ([]Outcome, error) {
	now := m.now()
	states, err := m.store.DueTokenStates(ctx, now, w.Horizon.Add(m.margin))
	if err != nil {
		return nil, err
	}
	return m.renewDue(ctx, states, w, concurrency), nil
}

// renewDue judges states and renews the due ones (see RunDue).
func (m *Manager) renewDue(ctx context.Context, states []core.TokenState, w Window, concurrency int) []Outcome {
	now := m.now()
	margin := m.margin
	out := make([]Outcome, len(states))
	var due []int
	for i, st := range states {
		out[i] = Outcome{Account: st.Account, Verdict: Judge(st, now, w, margin), Expiry: st.Tokens.Expiry}
		if out[i].Verdict == Due {
			due = append(due, i)
		}
	}
	rand.Shuffle(len(due), func(a, b int) { due[a], due[b] = due[b], due[a] })
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	for _, i := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = m.claimDue(ctx, states[i], w)
		})
	}
	wg.Wait()
	return out
}

// claimDue renews an account that was judged due in state judged, unless
// another process holds its lease or acted on it since judged was read.
func (m *Manager) claimDue(ctx context.Context, judged core.TokenState, w Window) Outcome {
	o := Outcome{Account: judged.Account, Verdict: Due, Expiry: judged.Tokens.Expiry}
	unlock, err := m.lock(ctx, judged.Account)
	if err != nil {
		o.Err = err
		return o
	}
	defer unlock()
	now := m.now()
	// A look first, in a read transaction: an account that another
	// process holds or has renewed meanwhile is left to it without a
	// write, since writes take turns across every process on a database.
	if cur, err := m.store.TokenState(ctx, judged.Account); err == nil &&
		(actedSince(judged, cur) || cur.LeaseOwner != "" && cur.LeaseOwner != m.owner && cur.LeaseUntil.After(now)) {
		o.Verdict, o.Expiry = Elsewhere, cur.Tokens.Expiry
		return o
	}
	st, ok, err := m.store.AcquireLease(ctx, judged.Account, m.owner, now, now.Add(m.leaseTTL))
	if err != nil {
		o.Err = &storeError{fmt.Errorf("lease %s: %w", judged.Account, err)}
		return o
	}
	if !ok {
		// Another process renews it now; should it die, its lease runs
		// out and a later run (see Scheduler.nextWake) takes over.
		o.Verdict = Elsewhere
		return o
	}
	if actedSince(judged, st) || Judge(st, m.now(), w, m.margin) != Due {
		if err := m.store.ReleaseLease(context.WithoutCancel(ctx), judged.Account, m.owner); err != nil {
			m.log().Warn("could not release a lease", "account", judged.Account, "err", err)
		}
		o.Verdict, o.Expiry = Elsewhere, st.Tokens.Expiry
		return o
	}
	acc, err := m.store.Account(ctx, judged.Account)
	if err != nil {
		m.store.ReleaseLease(context.WithoutCancel(ctx), judged.Account, m.owner)
		o.Err = &storeError{err}
		return o
	}
	set, err := m.renewLeased(ctx, acc, st, true)
	o.Expiry, o.Err = set.Expiry, err
	return o
}

// actedSince reports whether an account's tokens were renewed, or an
// attempt failed, between reading before and reading after.
func actedSince(before, after core.TokenState) bool {
	return !before.LastSuccess.Equal(after.LastSuccess) ||
		!before.Tokens.ObtainedAt.Equal(after.Tokens.ObtainedAt) ||
		!before.LastErrorAt.Equal(after.LastErrorAt) ||
		before.Failures != after.Failures
}

// Scheduler runs RunDue on a schedule until its context ends.
//
// It reads the schedule from the database before every run, and again
// whenever Changed says the settings may have changed, so that a new
// schedule or interval takes effect at once, not at the old schedule's
// next run: the scheduler then runs with the new window and waits for the
// new schedule's next run. A schedule in the database that does not parse
// (written by hand, or by an older oidcctl) is logged and the one in use
// kept.
//
// Whatever the schedule says, two runs are at least MinGap apart, and a
// run renews an account at most once, only when Judge says it is due.
type Scheduler struct {
	Manager     *Manager
	Settings    core.SettingStore
	Concurrency int
	// Changed, when not nil, is signalled when the settings may have
	// changed: serve signals it on every reload of its configuration.
	Changed <-chan struct{}
	// MinGap is the least time between two runs; 0 means DefaultMinGap.
	MinGap time.Duration
	// StoreRetry is the wait after a run that the store failed; 0 means
	// DefaultStoreRetry.
	StoreRetry time.Duration
	// After waits; time.After when nil. Tests give a fake.
	After func(time.Duration) <-chan time.Time
	// Ran is told about every run, when set: the outcomes of the accounts
	// the run looked at (see RunPass), not of every account.
	Ran func([]Outcome)
}

// nextWake is the next run of the schedule, or earlier when a failed
// account's back-off ends before it, so that a retry does not wait for the
// next scheduled run, or when another process's lease of an account ends
// before it: a process killed in the middle of a renewal leaves its lease
// behind, and the account is taken over as soon as the lease runs out.
//
// After a run that the store failed (failed), or when the states cannot be
// read, it is at most StoreRetry away.
func (s *Scheduler) nextWake(ctx context.Context, sched Schedule, failed bool) time.Time {
	now := s.Manager.now()
	next := sched.Window(now).Next
	retry := now.Add(orDefault(s.StoreRetry, DefaultStoreRetry))
	if failed && retry.Before(next) {
		next = retry
	}
	wake, err := s.Manager.store.NextTokenWake(ctx, s.Manager.owner, now, next)
	if err != nil {
		return earliest(next, retry)
	}
	if !wake.IsZero() && wake.Before(next) {
		next = wake
	}
	return next
}

// logRun says what a run did: at level info when any account was due
// (renewed, failed, or left to another process), else at debug.
func (s *Scheduler) logRun(out []Outcome) {
	var renewed, failed, elsewhere int
	for _, o := range out {
		switch {
		case o.Verdict == Due && o.Err != nil:
			failed++
		case o.Verdict == Due:
			renewed++
		case o.Verdict == Elsewhere:
			elsewhere++
		}
	}
	level := slog.LevelDebug
	if renewed+failed+elsewhere > 0 {
		level = slog.LevelInfo
	}
	s.Manager.log().Log(context.Background(), level, "refresh run", "examined", len(out),
		"renewed", renewed, "failed", failed, "elsewhere", elsewhere)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// storeFailed reports whether a run's outcomes hold a failure of the
// store rather than of the provider: a due account whose failure could not
// even be recorded has no back-off to wake the scheduler, so the run is
// tried again soon.
func storeFailed(out []Outcome) bool {
	for _, o := range out {
		var se *storeError
		if o.Err != nil && errors.As(o.Err, &se) {
			return true
		}
	}
	return false
}

// reload reads the schedule again; when it cannot be read or does not
// parse, the one in use stays.
func (s *Scheduler) reload(ctx context.Context, cur Schedule) Schedule {
	sched, err := LoadSchedule(ctx, s.Settings)
	switch {
	case err != nil && ctx.Err() == nil:
		s.Manager.log().Error("refresh schedule not changed: the stored one cannot be used", "schedule", cur.Spec, "interval", cur.Interval.String(), "err", err)
		return cur
	case err != nil:
		return cur
	case !sched.Same(cur):
		s.Manager.log().Info("refresh schedule changed", "schedule", sched.Spec, "interval", sched.Interval.String(),
			"was", cur.Spec, "was_interval", cur.Interval.String())
	}
	return sched
}

// Run renews what is due now, then at every run of the schedule, when
// the back-off of a failed account ends, and when the schedule changes.
// It returns an error only when the schedule cannot be read or used at
// the start.
func (s *Scheduler) Run(ctx context.Context) error {
	after := s.After
	if after == nil {
		after = time.After
	}
	gap := orDefault(s.MinGap, DefaultMinGap)
	sched, err := LoadSchedule(ctx, s.Settings)
	if err != nil {
		return err
	}
	var last time.Time
	for {
		// The floor: never two runs within gap, whatever woke us.
		if !last.IsZero() {
			if d := last.Add(gap).Sub(s.Manager.now()); d > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-after(d):
				}
			}
			sched = s.reload(ctx, sched)
		}
		now := s.Manager.now()
		last = now
		outcomes, err := s.Manager.RunPass(ctx, sched.Window(now), s.Concurrency)
		if err != nil && !errors.Is(err, context.Canceled) {
			s.Manager.log().Error("refresh run failed; trying again soon", "err", err,
				"retry_in", orDefault(s.StoreRetry, DefaultStoreRetry).String())
		}
		s.logRun(outcomes)
		if s.Ran != nil {
			s.Ran(outcomes)
		}
		if !s.wait(ctx, after, &sched, err != nil || storeFailed(outcomes)) {
			return nil
		}
	}
}

// wait waits for the next run of *sched, or for a change of the
// schedule, which it stores in *sched. It returns false when ctx ends.
func (s *Scheduler) wait(ctx context.Context, after func(time.Duration) <-chan time.Time, sched *Schedule, failed bool) bool {
	for {
		timer := after(s.nextWake(ctx, *sched, failed).Sub(s.Manager.now()))
		select {
		case <-ctx.Done():
			return false
		case <-timer:
			return true
		case <-s.Changed:
			if next := s.reload(ctx, *sched); !next.Same(*sched) {
				*sched = next
				return true
			}
		}
	}
}
