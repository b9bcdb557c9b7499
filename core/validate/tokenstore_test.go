package validate

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestTokenStore: tokens of many sizes keep their bytes while others come
// and go around them, a freed slot is reused by the next token of its
// size (no new memory is mapped for a churn of the same sizes), and
// release gives everything back.
func TestTokenStore(t *testing.T) {
	var s tokenStore
	defer s.release()
	tok := func(i, n int) string {
		b := []byte(strings.Repeat(fmt.Sprintf("%x.", i), n/2+1))[:n]
		return string(b)
	}
	type held struct {
		ref  tokenRef
		want string
	}
	var live []held
	for i := range 3000 {
		want := tok(i, 1+i%1500)
		r, ok := s.put(want)
		if !ok {
			t.Fatalf("put %d: no memory", i)
		}
		live = append(live, held{r, want})
	}
	for i := 0; i < len(live); i += 2 { // free every other one
		s.free(live[i].ref.class, live[i].ref.slot)
	}
	mapped := s.mapped
	for i := 0; i < len(live); i += 2 { // the same sizes again: the freed slots
		want := tok(i+7, 1+i%1500)
		r, ok := s.put(want)
		if !ok {
			t.Fatalf("put again %d: no memory", i)
		}
		live[i] = held{r, want}
	}
	if s.mapped != mapped {
		t.Errorf("mapped %d bytes, then %d for tokens of the sizes just freed: the freed slots were not reused", mapped, s.mapped)
	}
	for i, h := range live {
		if h.ref.s != h.want || s.str(h.ref.class, h.ref.slot, uint32(len(h.want))) != h.want {
			t.Fatalf("token %d: %q, want %q", i, h.ref.s, h.want)
		}
		if len(h.ref.s) > 0 && slotSize(len(h.ref.s)) < len(h.ref.s) {
			t.Fatalf("slot of %d bytes for %d", slotSize(len(h.ref.s)), len(h.ref.s))
		}
	}
	if _, ok := s.put(""); ok {
		t.Error("an empty token took a slot")
	}
	s.release()
	if s.mapped != 0 || len(s.classes) != 0 {
		t.Errorf("after release: %d bytes mapped, %d classes", s.mapped, len(s.classes))
	}
}

// TestAcceptedTokensOffHeap: the bytes of cached accepted tokens and the
// cache's entries are outside the garbage-collected heap (whose pacing
// would double them), so caching 2,000 distinct valid tokens of 1.2 KB
// (one verdict) grows the heap by a map slot a token whatever its length,
// and every one still hits, compared in full with its stored bytes.
func TestAcceptedTokensOffHeap(t *testing.T) {
	const n = 2000
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "ES256")
	idp := newIDP(t, "", key)
	v := idp.validator(clk, nil)
	prof := testProfile("idp", "api")
	ctx := context.Background()
	pad := strings.Repeat("p", 900)
	toks := make([]string, n)
	for i := range toks {
		toks[i] = key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), map[string]any{"jti": fmt.Sprint(i), "pad": pad}))
	}
	if len(toks[0]) < 1200 {
		t.Fatalf("tokens of %d bytes, want 1.2 KB", len(toks[0]))
	}
	before := heapInUse()
	for _, tok := range toks {
		// A copy, as a request's header is: the cache must not keep it.
		if r := v.Validate(ctx, prof, strings.Clone(tok)); !r.Accepted() {
			t.Fatalf("%s: %s", r.Reason, r.Message)
		}
	}
	grown := int64(heapInUse()) - int64(before)
	if per := grown / n; per > 64 {
		t.Errorf("the heap grew by %d bytes per cached token of %d bytes, want at most 64 (its map slot)", per, len(toks[0]))
	}
	s := v.CacheStats()
	if s.Accepted.Entries != n || s.Accepted.Bytes < n*len(toks[0]) {
		t.Errorf("accepted %+v: want %d entries counting their tokens' %d bytes each", s.Accepted, n, len(toks[0]))
	}
	for _, tok := range toks {
		if r := v.Validate(ctx, prof, tok); !r.Accepted() {
			t.Fatalf("again: %s: %s", r.Reason, r.Message)
		}
	}
	if got := v.CacheStats().Hits - s.Hits; got != n {
		t.Errorf("%d of %d repeated tokens came from the cache", got, n)
	}
	v.Purge()
	if c := &v.cache; c.store.mapped != 4*len(c.index) || len(c.entries) != 0 {
		t.Errorf("after Purge %d bytes stay mapped, %d slabs of entries", c.store.mapped, len(c.entries))
	}
}

// TestCacheIndexProbing: the cache's open-addressing index finds every
// entry whatever the clusters of sums that share a home slot, and a
// removal (which shifts later entries back into the hole) loses none of
// the others.
func TestCacheIndexProbing(t *testing.T) {
	var c resultCache
	c.init(200, 1<<20, 1<<20) // room for all 120: none is evicted
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mask := uint64(len(c.index) - 1)
	keyOf := func(n int) cacheKey {
		// Ten homes, the last six slots and the first four: runs that
		// wrap around the end.
		home := (mask - 5 + uint64(n%10)) & mask
		return cacheKey{sum: uint64(n)<<32 | uint64(n/10)<<8 | home, profile: "p"}
	}
	live := map[int]bool{}
	for n := range 120 {
		k := keyOf(n)
		c.put(k, fmt.Sprint("tok-", n), &Result{Profile: "p", Subject: fmt.Sprint(n)}, now.Add(time.Hour))
		live[n] = true
		if n%3 == 1 { // remove an earlier one now and then
			d := n * 7 % (n + 1)
			if live[d] {
				_, i, ok := c.find(keyOf(d).sum)
				if !ok {
					t.Fatalf("%d: not found before its removal", d)
				}
				c.remove(i)
				delete(live, d)
			}
		}
		for m := range n + 1 {
			r, ok := c.get(keyOf(m), fmt.Sprint("tok-", m), now, 0)
			if ok != live[m] || ok && r.Subject != fmt.Sprint(m) {
				t.Fatalf("after %d: entry %d found %v (%v), want %v", n, m, ok, r, live[m])
			}
		}
	}
	if got := c.len(); got != len(live) {
		t.Errorf("%d entries, want %d", got, len(live))
	}
}

// TestCacheMemoryReleased: the memory a Validator's result cache mapped
// is given back once the Validator is unreachable (its cleanup), not kept
// for the life of the process.
func TestCacheMemoryReleased(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "ES256")
	idp := newIDP(t, "", key)
	v := idp.validator(clk, nil)
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), nil))
	if r := v.Validate(context.Background(), testProfile("idp", "api"), tok); !r.Accepted() {
		t.Fatalf("%s: %s", r.Reason, r.Message)
	}
	store := v.cache.store
	before := store.releases.Load() // the first reset's
	v = nil
	deadline := time.Now().Add(10 * time.Second)
	for store.releases.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the cache's memory was not released after its Validator became unreachable")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
