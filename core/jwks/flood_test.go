package jwks_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRotationUnderFlood: tokens with made-up kids arrive all the time (ten
// every 100 ms) while the provider rotates its keys right after one of the
// fetches they caused, the worst moment. The new key is picked up within
// ten seconds, and the flood never makes more than one fetch a second,
// whatever MinRefetchInterval says. Before, a flood held a new key out for
// up to 30 s, and a short interval let it fetch at every step.
func TestRotationUnderFlood(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Millisecond, 30 * time.Second} {
		t.Run(fmt.Sprint("MinRefetchInterval=", interval), func(t *testing.T) {
			clk := newClock()
			k1 := publicJWK(t, rsaKey(t, 0), "k1", "RS256")
			k2 := publicJWK(t, rsaKey(t, 1), "k2", "RS256")
			srv := newServer(t, k1)
			c := newCache(clk)
			c.MinRefetchInterval = interval
			ctx := context.Background()
			if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
				t.Fatal(err)
			}
			start := clk.Now()
			fetches := []time.Time{start}
			var rotated, found time.Time
			for step := range 600 { // a minute
				clk.Add(100 * time.Millisecond)
				before := srv.count()
				var wg sync.WaitGroup
				for i := range 10 {
					wg.Go(func() { c.PublicKey(ctx, prof, srv.URL, fmt.Sprintf("ghost-%d-%d", step, i)) })
				}
				wg.Wait()
				if !rotated.IsZero() && found.IsZero() {
					if _, err := c.PublicKey(ctx, prof, srv.URL, "k2"); err == nil {
						found = clk.Now()
					}
				}
				if srv.count() == before {
					continue
				}
				fetches = append(fetches, clk.Now())
				if rotated.IsZero() && clk.Now().Sub(start) >= 5*time.Second {
					// Just after a fetch: the next one is as far away as
					// the cache allows.
					srv.setKeys(k1, k2)
					rotated = clk.Now()
				}
			}
			if rotated.IsZero() {
				t.Fatalf("the flood made no fetch after 5s: fetches at %v", fetches)
			}
			if found.IsZero() {
				t.Fatalf("the new key was not picked up within %s of the rotation", clk.Now().Sub(rotated))
			}
			if d := found.Sub(rotated); d > 10*time.Second {
				t.Errorf("the new key was picked up %s after the rotation, want at most 10s", d)
			}
			for i := 1; i < len(fetches); i++ {
				if gap := fetches[i].Sub(fetches[i-1]); gap < time.Second {
					t.Fatalf("fetches %d and %d only %s apart (want at least 1s); fetches: %d in a minute", i-1, i, gap, len(fetches))
				}
			}
			if n := srv.count(); n > 61 {
				t.Errorf("%d fetches in a minute", n)
			}
			t.Logf("%d fetches in a minute; new key picked up %s after the rotation", srv.count(), found.Sub(rotated))
		})
	}
}
