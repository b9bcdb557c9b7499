// Package testkit holds what the tests of every package share: one fake
// clock, and one way to wait for what real time decides.
//
// Prefer testing/synctest where the code under test runs in the test's
// own process and waits on timers only: its bubble has a fake clock of
// its own. Clock is for code that takes a clock (Now func() time.Time)
// and talks to something outside a bubble (a real server, SQLite, a
// provider with its own clock). Eventually is for waiting on real
// processes and servers (nginx, a subprocess), where nothing can be
// faked.
package testkit

import (
	"sync"
	"testing"
	"time"
)

// Clock is a fake clock that tests move by hand. A frozen clock stays
// where it was set; a running one runs on from there at the pace of real
// time, as a provider's clock does, so that what a real server issues is
// never "issued in the future". It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	t       time.Time // the time at base
	base    time.Time // real time when t was set
	running bool
	tick    time.Duration // a frozen clock moves by it at every reading
}

// Frozen returns a clock stopped at t.
func Frozen(t time.Time) *Clock { return &Clock{t: t} }

// Running returns a clock that shows real time until a test moves it.
func Running() *Clock {
	now := time.Now()
	return &Clock{t: now, base: now, running: true}
}

// Now returns the clock's time; pass the method as a Now field.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		now := c.t
		c.t = c.t.Add(c.tick)
		return now
	}
	return c.t.Add(time.Since(c.base))
}

// Set sets the clock to t; a running clock runs on from there.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.base = t, time.Now()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// Freeze stops the clock at t.
func (c *Clock) Freeze(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.running = t, false
}

// SetTick makes a frozen clock move on by d each time it is read, so that
// no two readings are equal (zero stops that).
func (c *Clock) SetTick(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick = d
}

// Tick is how long Eventually waits before it looks the second time; it
// then waits twice as long each time, up to MaxTick, so that a quick
// condition is seen at once and a slow one (a process starting under
// load) is not asked a thousand times.
const (
	Tick    = 10 * time.Millisecond
	MaxTick = 100 * time.Millisecond
)

// Eventually waits until cond holds and fails the test when it does not
// within timeout. It is for real time only: real servers and processes,
// never a fake clock. cond runs in the test's goroutine and may fail the
// test itself.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for wait := Tick; !cond(); wait = min(2*wait, MaxTick) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(wait)
	}
}
