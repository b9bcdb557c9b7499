package testkit

import (
	"testing"
	"testing/synctest"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestFrozenClockMovesOnlyByHand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := Frozen(t0)
		first := c.Now()
		time.Sleep(time.Hour)
		if !first.Equal(t0) || !c.Now().Equal(t0) {
			t.Fatal("a frozen clock moved by itself")
		}
		c.Add(time.Hour)
		if !c.Now().Equal(t0.Add(time.Hour)) {
			t.Fatalf("after Add(1h): %v", c.Now())
		}
		c.Set(t0)
		c.SetTick(time.Millisecond)
		if a, b := c.Now(), c.Now(); !a.Equal(t0) || !b.Equal(t0.Add(time.Millisecond)) {
			t.Fatalf("with a tick: %v, %v", a, b)
		}
	})
}

// A running clock runs at the pace of real time from where it was set
// (synctest's clock stands in for real time here) until frozen.
func TestRunningClockRunsOnFromWhereItWasSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := Running()
		if !c.Now().Equal(time.Now()) {
			t.Fatalf("a new running clock shows %v, not the time %v", c.Now(), time.Now())
		}
		c.Set(t0)
		time.Sleep(time.Minute)
		if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
			t.Fatalf("a minute after Set(t0): %v", got)
		}
		c.Add(time.Hour)
		if got := c.Now(); !got.Equal(t0.Add(time.Hour + time.Minute)) {
			t.Fatalf("after Add(1h): %v", got)
		}
		c.Freeze(t0)
		time.Sleep(time.Minute)
		if got := c.Now(); !got.Equal(t0) {
			t.Fatalf("a frozen clock ran on: %v", got)
		}
	})
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start, n := time.Now(), 0
		Eventually(t, time.Second, "four looks", func() bool { n++; return n == 4 })
		if n != 4 || time.Since(start) != 7*Tick {
			t.Fatalf("%d looks in %v", n, time.Since(start))
		}
	})
}
