package validate

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"

	"oidcctl/core"
)

// cacheKey names a cached result: the token's SHA-256 (the token itself is
// never kept) and the profile's name and version.
type cacheKey struct {
	sum     [sha256.Size]byte
	profile string
	version int64 // the profile's UpdatedAt
}

func newCacheKey(p *core.Profile, token string) cacheKey {
	// Hashing reads the string's bytes in place: no copy of the token.
	return cacheKey{
		sum:     sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))),
		profile: p.Name,
		version: p.UpdatedAt.UnixNano(),
	}
}

type cacheEntry struct {
	key   cacheKey
	res   *Result
	until time.Time
}

// resultCache is a size-bounded LRU map of results with an expiry each.
type resultCache struct {
	mu    sync.Mutex
	max   int
	items map[cacheKey]*list.Element
	lru   list.List // front: most recently used
}

func (c *resultCache) init(size int) {
	c.max = size
	c.items = make(map[cacheKey]*list.Element)
}

// get returns a cached result that has not expired by now. An accepted
// result is checked against its token's exp again.
func (c *resultCache) get(key cacheKey, now time.Time, leeway time.Duration) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.until) || e.res.Accepted() && !e.res.ExpiresAt.IsZero() && now.After(e.res.ExpiresAt.Add(leeway)) {
		c.lru.Remove(el)
		delete(c.items, key)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.res, true
}

func (c *resultCache) put(key cacheKey, res *Result, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cacheEntry)
		e.res, e.until = res, until
		c.lru.MoveToFront(el)
		return
	}
	c.items[key] = c.lru.PushFront(&cacheEntry{key: key, res: res, until: until})
	for c.lru.Len() > c.max {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

func (c *resultCache) forget(profile string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		if k.profile == profile {
			c.lru.Remove(el)
			delete(c.items, k)
		}
	}
}

func (c *resultCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	c.lru.Init()
}

// len is the number of cached results, for tests.
func (c *resultCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
