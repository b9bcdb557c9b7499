package validate

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"oidcctl/core"
)

// seed keys the token hashes of this process: random, so nobody outside
// can aim for a collision (and a collision is harmless anyway, see
// resultCache).
var seed = maphash.MakeSeed()

// cacheKey names a cached result: a keyed hash of the token and the
// profile's name and version.
type cacheKey struct {
	sum     uint64 // maphash of the token
	profile string
	version int64 // the profile's UpdatedAt
}

func newCacheKey(p *core.Profile, token string) cacheKey {
	return cacheKey{sum: maphash.String(seed, token), profile: p.Name, version: p.UpdatedAt.UnixNano()}
}

type cacheEntry struct {
	key cacheKey
	// token is what the entry is for, compared in full on every hit: a
	// token whose hash collides (by chance or forged) never matches. A
	// refusal keeps a second hash instead (check), since a collision
	// there can only refuse.
	token string
	check uint64
	res   *Result
	until time.Time
	size  int
	elem  *list.Element
}

// checkSeed keys the second hash of refused tokens.
var checkSeed = maphash.MakeSeed()

// entryOverhead is the memory of an entry besides its strings and result:
// the entry, its list element and its map slot, about.
const entryOverhead = int(unsafe.Sizeof(cacheEntry{})+unsafe.Sizeof(list.Element{})) + 64

// resultCache holds results of Validate with an expiry each, in two LRU
// lists bounded in entries and bytes: accepted results, and refusals that
// depend only on the token (the negative cache), so that a flood of
// distinct invalid tokens pushes out only other refusals. Counters give
// hits and misses for /metrics.
type resultCache struct {
	mu                sync.Mutex
	items             map[cacheKey]*cacheEntry
	accepted, refused lru

	hits, misses atomic.Uint64
}

// lru is one list of entries, front most recently used.
type lru struct {
	list               list.List
	bytes              int
	maxItems, maxBytes int
}

func (c *resultCache) init(items, acceptedBytes, refusedBytes int) {
	c.items = make(map[cacheKey]*cacheEntry)
	c.accepted.maxItems, c.accepted.maxBytes = items, acceptedBytes
	c.refused.maxItems, c.refused.maxBytes = items, refusedBytes
}

func (c *resultCache) lruOf(e *cacheEntry) *lru {
	if e.res.Accepted() {
		return &c.accepted
	}
	return &c.refused
}

// get returns a cached result for the token that has not expired by now.
// An accepted result is checked against its token's exp again.
func (c *resultCache) get(key cacheKey, token string, now time.Time, leeway time.Duration) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	switch {
	case !ok:
	case e.token != token && (e.token != "" || e.check != maphash.String(checkSeed, token)):
		ok = false // another token with the same hash
	case !now.Before(e.until) || e.res.Accepted() && !e.res.ExpiresAt.IsZero() && now.After(e.res.ExpiresAt.Add(leeway)):
		c.remove(e)
		ok = false
	}
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.lruOf(e).list.MoveToFront(e.elem)
	c.hits.Add(1)
	return e.res, true
}

// put caches a result for the token until the given time.
func (c *resultCache) put(key cacheKey, token string, res *Result, until time.Time) {
	e := &cacheEntry{key: key, res: res, until: until}
	if res.Accepted() {
		e.token = token
	} else {
		e.check = maphash.String(checkSeed, token)
	}
	e.size = entryOverhead + len(e.token) + len(key.profile) + res.size()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[key]; ok {
		c.remove(old)
	}
	l := c.lruOf(e)
	if e.size > l.maxBytes {
		return
	}
	c.items[key] = e
	e.elem = l.list.PushFront(e)
	l.bytes += e.size
	for l.list.Len() > l.maxItems || l.bytes > l.maxBytes {
		c.remove(l.list.Back().Value.(*cacheEntry))
	}
}

// remove drops an entry; c.mu is held.
func (c *resultCache) remove(e *cacheEntry) {
	l := c.lruOf(e)
	l.list.Remove(e.elem)
	l.bytes -= e.size
	delete(c.items, e.key)
}

func (c *resultCache) forget(profile string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.items {
		if k.profile == profile {
			c.remove(e)
		}
	}
}

func (c *resultCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	c.accepted.list.Init()
	c.refused.list.Init()
	c.accepted.bytes, c.refused.bytes = 0, 0
}

// len is the number of cached results, for tests.
func (c *resultCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// CacheStats describe the result cache, for /metrics.
type CacheStats struct {
	// Accepted and Refused are the cached results of each kind; the
	// refusals are those that depend only on the token (bad signature,
	// expired …), the negative cache.
	Accepted, Refused CacheUse
	// Hits and Misses count lookups since the start.
	Hits, Misses uint64
}

// CacheUse is the use of one part of the cache.
type CacheUse struct {
	Entries, Bytes, MaxBytes int
}

// CacheStats returns the use of the result cache.
func (v *Validator) CacheStats() CacheStats {
	c := &v.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{
		Accepted: CacheUse{c.accepted.list.Len(), c.accepted.bytes, c.accepted.maxBytes},
		Refused:  CacheUse{c.refused.list.Len(), c.refused.bytes, c.refused.maxBytes},
		Hits:     c.hits.Load(),
		Misses:   c.misses.Load(),
	}
}

// size is about the memory a cached result holds.
func (r *Result) size() int {
	n := int(unsafe.Sizeof(*r)) + len(r.Message) + len(r.Profile) + len(r.Kind) + len(r.Alg) + len(r.KID) +
		len(r.Subject) + len(r.Login) + len(r.UserAction)
	for _, s := range r.TokenRoles {
		n += 16 + len(s)
	}
	for _, s := range r.Roles {
		n += 16 + len(s)
	}
	if u := r.User; u != nil {
		n += int(unsafe.Sizeof(*u)) + len(u.Login) + len(u.Email) + len(u.FirstName) + len(u.LastName)
		for _, s := range u.Roles {
			n += 16 + len(s)
		}
	}
	if r.Microsoft != nil {
		n += int(unsafe.Sizeof(*r.Microsoft)) + 64
	}
	return n
}
