package validate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
)

// TestResultCache: a repeated token is answered from the cache without
// discovery, keys or the user store; the cached result ends with the
// token's exp or the TTL, whichever is first, by the clock.
func TestResultCache(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	users := newMemUsers(core.User{Login: "svc", Roles: []string{"api"}})
	v := idp.validator(clk, users, resultTTL(time.Minute))
	disc := v.Discovery().(*staticDiscovery)
	prof := testProfile("idp", "api")
	ctx := context.Background()
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), map[string]any{
		"exp": clk.Now().Add(150 * time.Second).Unix(),
	}))

	first := v.Validate(ctx, prof, tok)
	if !first.Accepted() {
		t.Fatalf("%s: %s", first.Reason, first.Message)
	}
	reads, _ := users.counts()
	for range 100 {
		if r := v.Validate(ctx, prof, tok); r != first {
			t.Fatal("a repeated token was validated again")
		}
	}
	if n := disc.calls.Load(); n != 1 {
		t.Errorf("discovery calls = %d, want 1", n)
	}
	if r, _ := users.counts(); r != reads {
		t.Errorf("user store reads = %d, want %d", r, reads)
	}
	if n := idp.jwksHits.Load(); n != 1 {
		t.Errorf("JWKS requests = %d", n)
	}
	// The cached results, which callers and the debugger get, hold no
	// token (the entry keeps it to compare).
	for _, v := range v.cache.verdictList {
		if v != nil && strings.Contains(fmt.Sprintf("%+v", *v.res), tok[20:60]) {
			t.Error("a cached result holds the token")
		}
	}
	// Inspect and DryRun never use the cache.
	if r := v.Inspect(ctx, prof, tok); r == first || len(r.Checks) == 0 {
		t.Error("Inspect used the cache")
	}
	if n := disc.calls.Load(); n != 2 {
		t.Errorf("discovery calls after Inspect = %d, want 2", n)
	}

	// Past the TTL: validated again.
	clk.Add(61 * time.Second)
	second := v.Validate(ctx, prof, tok)
	if second == first || !second.Accepted() || disc.calls.Load() != 3 {
		t.Errorf("after the TTL: same %v, accepted %v, discovery calls %d", second == first, second.Accepted(), disc.calls.Load())
	}
	clk.Add(50 * time.Second) // 111 s
	if r := v.Validate(ctx, prof, tok); r != second {
		t.Error("within exp and TTL: not cached")
	}
	// At 122 s the TTL would end at 182 s, but the token expires at
	// 150 s (+2 s leeway): the cached result ends with the token.
	clk.Add(11 * time.Second)
	third := v.Validate(ctx, prof, tok)
	if third == second || !third.Accepted() {
		t.Error("after the second TTL: not validated again")
	}
	clk.Add(29 * time.Second) // 151 s
	if r := v.Validate(ctx, prof, tok); r != third {
		t.Error("within exp + leeway: not cached")
	}
	clk.Add(2 * time.Second) // 153 s
	if r := v.Validate(ctx, prof, tok); r.Reason != ReasonExpired {
		t.Errorf("past exp: %s", r.Reason)
	}

	// Refusals that depend on the token only are cached too; others not.
	bad := tok[:len(tok)-30] + "AAAA" + tok[len(tok)-26:]
	n := disc.calls.Load()
	v.Validate(ctx, prof, bad)
	v.Validate(ctx, prof, bad)
	if got := disc.calls.Load() - n; got != 1 {
		t.Errorf("a bad signature was checked %d times, want 1", got)
	}
	unknown := newKey(t, "k2", "RS256").sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), nil))
	n = disc.calls.Load()
	v.Validate(ctx, prof, unknown)
	v.Validate(ctx, prof, unknown)
	if got := disc.calls.Load() - n; got != 2 {
		t.Errorf("an unknown kid was checked %d times, want 2 (not cached)", got)
	}

	// A changed profile (UpdatedAt) is a different cache key; Forget
	// drops a profile's results.
	tok2 := key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), nil))
	r1 := v.Validate(ctx, prof, tok2)
	edited := prof
	edited.UpdatedAt = clk.Now()
	edited.Restrictions.UserLogin = "someone"
	if r := v.Validate(ctx, edited, tok2); r.Reason != ReasonUserLoginMismatch {
		t.Errorf("edited profile: %s", r.Reason)
	}
	v.Forget(prof.Name)
	if r := v.Validate(ctx, prof, tok2); r == r1 || !r.Accepted() {
		t.Error("Forget kept the result")
	}
	v.Purge()
	if v.cache.len() != 0 {
		t.Error("Purge kept results")
	}
}

// TestResultCacheBounded: the cache holds at most ResultCacheSize results,
// dropping the least recently used.
func TestResultCacheBounded(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "ES256")
	idp := newIDP(t, "", key)
	v := idp.validator(clk, nil, func(c *Config) { c.ResultCacheSize = 10 })
	prof := testProfile("idp", "api")
	ctx := context.Background()
	var toks []string
	for i := range 15 {
		toks = append(toks, key.sign(t, claimsAt(idp.doc.Issuer, fmt.Sprint("svc", i), "api", clk.Now(), nil)))
	}
	first := v.Validate(ctx, prof, toks[0])
	for _, tok := range toks[1:10] {
		v.Validate(ctx, prof, tok)
	}
	if v.Validate(ctx, prof, toks[0]) != first { // toks[0] is now the most recent
		t.Fatal("not cached")
	}
	for _, tok := range toks[10:] {
		v.Validate(ctx, prof, tok)
	}
	if n := v.cache.len(); n != 10 {
		t.Errorf("cached results = %d, want 10", n)
	}
	if v.Validate(ctx, prof, toks[0]) != first {
		t.Error("the most recently used result was dropped")
	}
	second := v.Validate(ctx, prof, toks[1])
	if v.Validate(ctx, prof, toks[1]) != second {
		t.Error("not cached again")
	}
}

// TestResultCacheOff: a negative ResultTTL turns the cache off.
func TestResultCacheOff(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "ES256")
	idp := newIDP(t, "", key)
	v := idp.validator(clk, nil, resultTTL(-1))
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), nil))
	prof := testProfile("idp", "api")
	first := v.Validate(context.Background(), prof, tok)
	second := v.Validate(context.Background(), prof, tok)
	if first == second || v.cache.len() != 0 {
		t.Error("cached with the cache off")
	}
}

// TestCacheRechecksExp: an accepted result is never served past its
// token's exp, whatever the entry's own bound says.
func TestCacheRechecksExp(t *testing.T) {
	var c resultCache
	c.init(4, 1<<20, 1<<20)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := newCacheKey(&core.Profile{Name: "p"}, "tok")
	c.put(k, "tok", &Result{ExpiresAt: now.Add(time.Minute)}, now.Add(time.Hour))
	if _, ok := c.get(k, "tok", now.Add(61*time.Second), time.Second); !ok {
		t.Error("within exp + leeway: miss")
	}
	if _, ok := c.get(k, "tok", now.Add(62*time.Second), time.Second); ok {
		t.Error("past exp + leeway: hit")
	}
	if c.len() != 0 {
		t.Error("the expired entry was kept")
	}
	other := newCacheKey(&core.Profile{Name: "q"}, "tok")
	if other == k {
		t.Error("two profiles share a key")
	}
}

// TestResultCacheCollision: the map key is a fast keyed hash, and a token
// whose hash collides with a cached one (by chance or forged) never gets
// that token's result: an accepted result is served only to the very
// token bytes it was made for.
func TestResultCacheCollision(t *testing.T) {
	v := New(Config{ResultCacheSize: 4})
	c := &v.cache
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := newCacheKey(&core.Profile{Name: "p"}, "token-a")
	accepted := &Result{Login: "a"}
	c.put(k, "token-a", accepted, now.Add(time.Hour))
	// Look up another token under the same key, as a collision would.
	if r, ok := c.get(k, "token-b", now, 0); ok {
		t.Fatalf("a colliding token got the result of another: %+v", r)
	}
	if r, ok := c.get(k, "token-a", now, 0); !ok || r != accepted {
		t.Fatal("the token itself: miss")
	}
	refused := &Result{Reason: ReasonBadSignature, Message: "bad"}
	c.put(k, "token-c", refused, now.Add(time.Hour))
	if _, ok := c.get(k, "token-d", now, 0); ok {
		t.Fatal("a colliding token got the refusal of another")
	}
	if r, ok := c.get(k, "token-c", now, 0); !ok || r != refused {
		t.Fatal("the refused token itself: miss")
	}
	if s := v.CacheStats(); s.Hits != 2 || s.Misses != 2 {
		t.Errorf("hits %d, misses %d; want 2 and 2", s.Hits, s.Misses)
	}
}

// TestResultCacheBytes: the cache is bounded in bytes as well as entries,
// and says how much it holds.
func TestResultCacheBytes(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "ES256")
	idp := newIDP(t, "", key)
	const limit = 4 << 10
	v := idp.validator(clk, nil, func(c *Config) { c.ResultCacheBytes = limit })
	prof := testProfile("idp", "api")
	ctx := context.Background()
	pad := strings.Repeat("x", 500)
	var toks []string
	for i := range 20 {
		tok := key.sign(t, claimsAt(idp.doc.Issuer, fmt.Sprint("svc", i), "api", clk.Now(), map[string]any{"pad": pad}))
		toks = append(toks, tok)
		if r := v.Validate(ctx, prof, tok); !r.Accepted() {
			t.Fatalf("%s: %s", r.Reason, r.Message)
		}
	}
	s := v.CacheStats()
	if s.Accepted.Bytes > limit || s.Accepted.MaxBytes != limit || s.Accepted.Entries == 0 || s.Accepted.Entries >= 10 {
		t.Errorf("accepted %+v: want at most %d bytes, and so fewer than 10 of 20 tokens of %d bytes", s.Accepted, limit, len(toks[0]))
	}
	if s.Accepted.Bytes < s.Accepted.Entries*len(toks[0]) {
		t.Errorf("%d bytes for %d entries: the tokens are not counted", s.Accepted.Bytes, s.Accepted.Entries)
	}
	// The most recent are kept.
	last := v.Validate(ctx, prof, toks[19])
	if v.Validate(ctx, prof, toks[19]) != last || v.CacheStats().Hits < 2 {
		t.Error("the most recent token is not cached")
	}
}

// TestNegativeCacheFlood: refusals that depend only on the token are kept
// apart from accepted results, in a bound of their own: a repeated invalid
// token is refused again without a signature check (the reason kept for
// the debugger), and a flood of distinct invalid tokens pushes out only
// other refusals, never the accepted results of valid callers.
func TestNegativeCacheFlood(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	v := idp.validator(clk, nil, func(c *Config) { c.ResultCacheSize = 10 })
	disc := v.Discovery().(*staticDiscovery)
	prof := testProfile("idp", "api")
	ctx := context.Background()
	good := key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", clk.Now(), nil))
	first := v.Validate(ctx, prof, good)
	if !first.Accepted() {
		t.Fatalf("%s: %s", first.Reason, first.Message)
	}
	var bad []string
	for i := range 50 {
		tok := key.sign(t, claimsAt(idp.doc.Issuer, fmt.Sprint("svc", i), "api", clk.Now(), nil))
		bad = append(bad, tok[:len(tok)-40]+"AAAA"+tok[len(tok)-36:])
	}
	for _, tok := range bad {
		if r := v.Validate(ctx, prof, tok); r.Reason != ReasonBadSignature {
			t.Fatalf("tampered: %s", r.Reason)
		}
	}
	if v.Validate(ctx, prof, good) != first {
		t.Error("a flood of invalid tokens pushed out an accepted result")
	}
	n := disc.calls.Load()
	r := v.Validate(ctx, prof, bad[49])
	if got := disc.calls.Load() - n; got != 0 || r.Reason != ReasonBadSignature || r.Message == "" {
		t.Errorf("a repeated invalid token: %d checks, reason %q", got, r.Reason)
	}
	if s := v.CacheStats(); s.Refused.Entries != 10 || s.Accepted.Entries != 1 {
		t.Errorf("cache %+v: want 10 refusals (the bound) and 1 accepted", s)
	}
}
