package storetest

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testProofIDs: an id is fresh once, and not again while its until has
// not passed, on this handle or another (another process); an id whose
// until has passed is fresh again; ids are independent; and of several
// goroutines that see one id at once, exactly one is told fresh.
func testProofIDs(t *testing.T, e *env) {
	id := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	until := t0.Add(2 * time.Minute)
	see := func(label string, b []byte, until, now time.Time, want bool) {
		t.Helper()
		fresh, err := e.Store.SeeProofID(e.ctx, b, until, now)
		must(t, err)
		if fresh != want {
			t.Fatalf("%s: fresh %v, want %v", label, fresh, want)
		}
	}
	see("first use", id("a"), until, t0, true)
	see("replay", id("a"), until, t0.Add(time.Second), false)
	see("replay with a later until", id("a"), until.Add(time.Minute), t0.Add(time.Minute), false)
	see("another id", id("b"), until, t0, true)
	other, err := e.Another(t).SeeProofID(e.ctx, id("a"), until, t0.Add(time.Second))
	must(t, err)
	if other {
		t.Fatal("replay on another handle: told fresh")
	}
	see("after its until", id("a"), until.Add(2*time.Minute), until, true)
	see("replay of the renewed id", id("a"), until.Add(2*time.Minute), until.Add(time.Second), false)

	// Many ids, so that a store that deletes expired ids now and then
	// does so (the SQL stores every 256th call), then the live ones are
	// still remembered.
	later := t0.Add(time.Hour)
	for i := range 600 {
		see("bulk", id(fmt.Sprintf("bulk-%d", i)), later.Add(time.Second), later, true)
	}
	see("live id after deletions", id("bulk-0"), later.Add(time.Second), later, false)

	const n = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for i := range n {
		store := e.Store
		if i%2 == 1 {
			store = e.Another(t)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := store.SeeProofID(e.ctx, id("race"), later.Add(time.Minute), later)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d of %d concurrent uses of one id told fresh, want 1", fresh, n)
	}
}
