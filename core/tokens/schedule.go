package tokens

import (
	"context"
	"errors"
	"fmt"
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
	// Setting keys under which the schedule is kept in the database.
	SettingSchedule = "refresh.schedule"
	SettingInterval = "refresh.interval"
)

// Schedule says when the store is renewed: a cron expression for when runs
// happen, and an interval that every run looks ahead at least.
type Schedule struct {
	Cron     cron.Schedule
	Spec     string
	Interval time.Duration
}

// ParseSchedule reads a cron expression (five fields, or @hourly, @every
// 10m ...) and an interval in seconds ("" for the defaults).
func ParseSchedule(spec, interval string) (Schedule, error) {
	if spec == "" {
		spec = DefaultSchedule
	}
	c, err := cron.ParseStandard(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("refresh schedule %q: %w", spec, err)
	}
	s := Schedule{Cron: c, Spec: spec, Interval: DefaultInterval}
	if interval != "" {
		n, err := strconv.Atoi(interval)
		if err != nil || n <= 0 {
			return Schedule{}, fmt.Errorf("refresh interval %q: want a positive number of seconds", interval)
		}
		s.Interval = time.Duration(n) * time.Second
	}
	return s, nil
}

// LoadSchedule reads the schedule from the database's settings.
func LoadSchedule(ctx context.Context, settings core.SettingStore) (Schedule, error) {
	spec, _, err := settings.Setting(ctx, SettingSchedule)
	if err != nil {
		return Schedule{}, err
	}
	interval, _, err := settings.Setting(ctx, SettingInterval)
	if err != nil {
		return Schedule{}, err
	}
	return ParseSchedule(spec, interval)
}

// Horizon is how far a run at now looks ahead: to the next run or the
// interval, whichever is later.
func (s Schedule) Horizon(now time.Time) time.Time {
	next := s.Cron.Next(now)
	if h := now.Add(s.Interval); h.After(next) {
		return h
	}
	return next
}

// Verdict says what a run does with one account.
type Verdict string

// The verdicts of Due.
const (
	Fresh       Verdict = "fresh"       // nothing to do until a later run
	Due         Verdict = "due"         // renewed by this run
	BackingOff  Verdict = "backing_off" // failed lately; retried at NextAttempt
	NeedsPerson Verdict = "needs_authorization"
)

// Judge says whether a run at now renews an account, given the horizon of
// the run: its token (or its refresh token, which only a refresh keeps
// alive) would expire before the horizon plus margin, or it has none.
func Judge(st core.TokenState, now, horizon time.Time, margin time.Duration) Verdict {
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
	limit := horizon.Add(margin)
	if !st.Tokens.Expiry.IsZero() && st.Tokens.Expiry.Before(limit) {
		return Due
	}
	if !st.Tokens.RefreshExpiry.IsZero() && st.Tokens.RefreshExpiry.Before(limit) {
		return Due
	}
	return Fresh
}

// Outcome is what a run did with one account.
type Outcome struct {
	Account string
	Verdict Verdict
	Err     error // set when a due account could not be renewed
	Expiry  time.Time
}

// RunDue renews every due account, at most concurrency at a time, and says
// what it did with each.
func (m *Manager) RunDue(ctx context.Context, horizon time.Time, concurrency int) ([]Outcome, error) {
	states, err := m.Store.TokenStates(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	margin := orDefault(m.Margin, DefaultMargin)
	out := make([]Outcome, len(states))
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	for i, st := range states {
		out[i] = Outcome{Account: st.Account, Verdict: Judge(st, now, horizon, margin), Expiry: st.Tokens.Expiry}
		if out[i].Verdict != Due {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			acc, err := m.Store.Account(ctx, st.Account)
			if err == nil {
				var set core.TokenSet
				set, err = m.renewDue(ctx, acc, horizon)
				out[i].Expiry = set.Expiry
			}
			out[i].Err = err
		})
	}
	wg.Wait()
	return out, nil
}

// renewDue renews an account unless another process did so meanwhile.
func (m *Manager) renewDue(ctx context.Context, acc core.Account, horizon time.Time) (core.TokenSet, error) {
	unlock, err := m.lock(ctx, acc.Name)
	if err != nil {
		return core.TokenSet{}, err
	}
	defer unlock()
	st, err := m.Store.TokenState(ctx, acc.Name)
	if err != nil {
		return core.TokenSet{}, err
	}
	if Judge(st, m.now(), horizon, orDefault(m.Margin, DefaultMargin)) != Due {
		return st.Tokens, nil
	}
	return m.renew(ctx, acc, true)
}

// Scheduler runs RunDue on a schedule until its context ends. It reloads
// the schedule from the database before every wait, so a change made in
// the console takes effect without a restart.
type Scheduler struct {
	Manager     *Manager
	Settings    core.SettingStore
	Concurrency int
	// After waits; time.After when nil. Tests give a fake.
	After func(time.Duration) <-chan time.Time
	// Ran is told about every run, when set.
	Ran func([]Outcome)
}

// nextWake is the next run of the schedule, or earlier when a failed
// account's back-off ends before it, so that a retry does not wait for the
// next scheduled run.
func (s *Scheduler) nextWake(ctx context.Context, sched Schedule) time.Time {
	now := s.Manager.now()
	next := sched.Cron.Next(now)
	states, err := s.Manager.Store.TokenStates(ctx)
	if err != nil {
		return next
	}
	for _, st := range states {
		if st.LastError != "" && !st.NeedsAuthorization && st.NextAttempt.After(now) && st.NextAttempt.Before(next) {
			next = st.NextAttempt
		}
	}
	return next
}

// Run renews what is due now, then at every run of the schedule, and
// when the back-off of a failed account ends.
func (s *Scheduler) Run(ctx context.Context) error {
	after := s.After
	if after == nil {
		after = time.After
	}
	for {
		sched, err := LoadSchedule(ctx, s.Settings)
		if err != nil {
			return err
		}
		now := s.Manager.now()
		outcomes, err := s.Manager.RunDue(ctx, sched.Horizon(now), s.Concurrency)
		if err != nil && !errors.Is(err, context.Canceled) {
			s.Manager.log().Error("refresh run failed", "err", err)
		}
		if s.Ran != nil {
			s.Ran(outcomes)
		}
		next := s.nextWake(ctx, sched)
		select {
		case <-ctx.Done():
			return nil
		case <-after(next.Sub(s.Manager.now())):
		}
	}
}
