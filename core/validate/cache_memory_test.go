package validate

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"oidcctl/core"
)

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestNegativeCacheHoldsTenThousand: with the default bounds, the
// refusals of 10,000 distinct invalid tokens (bench/forward-auth.sh's
// (c)) all fit in the negative cache, each costing the heap only its map
// slot (the entry is off the heap; the Result and its message are shared),
// and every one is refused again from the cache.
func TestNegativeCacheHoldsTenThousand(t *testing.T) {
	const n = 10000
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	v := idp.validator(clk, nil)
	prof := testProfile("idp", "api")
	ctx := context.Background()
	good := key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), nil))
	sigAt := len(good) - 342 // an RS256 signature is 342 characters
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	seen := map[string]bool{good: true}
	bad := make([]string, 0, n)
	for i := 0; len(bad) < n; i++ {
		pos := sigAt + 10 + i%300 // the middle: the last character may carry unused bits
		b := []byte(good)
		b[pos] = alphabet[(i/300+1+int(good[pos]))%len(alphabet)]
		if tok := string(b); !seen[tok] {
			seen[tok] = true
			bad = append(bad, tok)
		}
	}
	before := heapInUse()
	for _, tok := range bad {
		if r := v.Validate(ctx, prof, tok); r.Reason != ReasonBadSignature {
			t.Fatalf("tampered: %s %s", r.Reason, r.Message)
		}
	}
	grown := int64(heapInUse()) - int64(before)
	s := v.CacheStats()
	if s.Refused.Entries != n || s.Refused.Bytes > DefaultRefusedCacheBytes {
		t.Errorf("refused %+v: want all %d refusals within %d bytes", s.Refused, n, DefaultRefusedCacheBytes)
	}
	if per := grown / n; per > 64 {
		t.Errorf("the heap grew by %d bytes per cached refusal, want at most 64 (its map slot: the entry is off the heap)", per)
	}
	hits := s.Hits
	for _, tok := range bad {
		if r := v.Validate(ctx, prof, tok); r.Reason != ReasonBadSignature || r.Message == "" {
			t.Fatalf("again: %s", r.Reason)
		}
	}
	if got := v.CacheStats().Hits - hits; got != n {
		t.Errorf("%d of %d repeated invalid tokens came from the cache", got, n)
	}
	runtime.KeepAlive(bad)
}

// TestAcceptedCacheShares: the cached results of many distinct valid
// tokens of one user share one Result (user, roles, message); a token
// whose subject and times differ keeps only those. Each token costs the
// heap little more than its own bytes, and a hit gives the same result as
// the first validation.
func TestAcceptedCacheShares(t *testing.T) {
	const n = 1000
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "ES256")
	idp := newIDP(t, "", key)
	users := newMemUsers(core.User{Login: "svc", Email: "svc@example.com", Roles: []string{"api", "reader"}})
	v := idp.validator(clk, users)
	prof := testProfile("idp", "api")
	prof.UIDClaim = "preferred_username"
	ctx := context.Background()
	var same, differ []string
	for i := range n {
		same = append(same, key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), map[string]any{
			"jti": fmt.Sprint("same-", i), "preferred_username": "svc"})))
		differ = append(differ, key.sign(t, claimsAt(idp.doc.Issuer, fmt.Sprint("subject-", i), "api", clk.Now().Add(-time.Duration(i%200)*time.Second),
			map[string]any{"jti": fmt.Sprint("differ-", i), "preferred_username": "svc"})))
	}
	first := map[string]*Result{}
	before := heapInUse()
	for _, list := range [][]string{same, differ} {
		for _, tok := range list {
			r := v.Validate(ctx, prof, tok)
			if !r.Accepted() {
				t.Fatalf("%s: %s", r.Reason, r.Message)
			}
			if len(first) < 20 || len(first)%100 == 0 {
				first[tok] = r // a sample, to compare with the cached results
			}
		}
	}
	grown := int64(heapInUse()) - int64(before)
	if per := grown / (2 * n); per > int64(len(same[0]))+320 {
		t.Errorf("the heap grew by %d bytes per cached token of %d bytes, want at most the token + 320", per, len(same[0]))
	}
	if s := v.CacheStats(); s.Accepted.Entries != 2*n {
		t.Errorf("accepted %+v: want %d", s.Accepted, 2*n)
	}
	for i, list := range [][]string{same, differ} {
		for _, tok := range list {
			r := v.Validate(ctx, prof, tok)
			if want, ok := first[tok]; ok && !reflect.DeepEqual(r, want) || !r.Accepted() {
				t.Fatalf("set %d: from the cache\n%+v\nfirst\n%+v", i, r, first[tok])
			}
		}
	}
	if r := v.Validate(ctx, prof, differ[7]); r.Subject != "subject-7" || !r.ExpiresAt.Equal(clk.Now().Add(-7*time.Second+5*time.Minute)) {
		t.Errorf("subject %q, exp %s: not the token's own", r.Subject, r.ExpiresAt)
	}
	if s := v.CacheStats(); s.Hits != 2*n+1 {
		t.Errorf("hits %d, want %d", s.Hits, 2*n+1)
	}
}
