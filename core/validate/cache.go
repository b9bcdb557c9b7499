package validate

import (
	"hash/maphash"
	"runtime"
	"slices"
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

// cacheKey names a cached result: the profile's name and version, and a
// keyed hash of them and the token, which is the key of the cache's map
// (8 bytes a slot rather than the whole key).
type cacheKey struct {
	sum     uint64 // maphash of the token, the profile and its version
	profile string
	version int64 // the profile's UpdatedAt
}

// profileVersion is what the hash of a key mixes in besides the token.
type profileVersion struct {
	profile string
	version int64
}

func newCacheKey(p *core.Profile, token string) cacheKey {
	k := cacheKey{profile: p.Name, version: p.UpdatedAt.UnixNano()}
	k.sum = maphash.String(seed, token) ^ maphash.Comparable(seed, profileVersion{k.profile, k.version})
	return k
}

type cacheEntry struct {
	key cacheKey
	// token is what an accepted entry is for, compared in full on every
	// hit: a token whose hash collides (by chance or forged) never
	// matches. Its bytes are in the cache's tokenStore, off the heap. A refusal keeps a second keyed hash (check) instead of the
	// token, so that a flood of distinct invalid tokens costs a few dozen
	// bytes each: two tokens that collide in both hashes would get each
	// other's refusal, which can only refuse a token (that was never
	// accepted from this entry), never accept one.
	token tokenRef
	check uint64
	// v is the verdict, shared by the entries of tokens that got the same
	// one (same user, roles and message); own holds the token's subject
	// and times when they differ from the verdict's, nil when they do not.
	// The first hit turns own into res, the verdict's Result with them
	// (user, roles and message still shared), so that later hits
	// allocate nothing.
	v     *verdict
	own   *tokenFields
	res   *Result
	until int64 // unix nanoseconds
	size  int
	// prev and next link the entry into its LRU list.
	prev, next *cacheEntry
}

// tokenFields are the parts of a Result that differ from token to token
// of one verdict.
type tokenFields struct {
	subject                        string
	issuedAt, notBefore, expiresAt time.Time
}

func fieldsOf(r *Result) tokenFields {
	return tokenFields{r.Subject, r.IssuedAt, r.NotBefore, r.ExpiresAt}
}

// verdict is a cached Result shared by the entries of every token that
// got it; refs counts them.
type verdict struct {
	res  *Result
	key  verdictKey
	refs int
	size int
}

// verdictKey finds the verdict a new result may share.
type verdictKey struct {
	profile, login, message string
	reason                  Reason
}

// checkSeed keys the second hash of refused tokens.
var checkSeed = maphash.MakeSeed()

// entryOverhead is the memory of an entry besides its token's slot, its own
// fields and its verdict: the entry and its map slot, about.
const entryOverhead = int(unsafe.Sizeof(cacheEntry{})) + 64

// ownOverhead is the memory of an entry's own fields besides the subject;
// resultOverhead that of its own Result, which shares the rest.
const (
	ownOverhead    = int(unsafe.Sizeof(tokenFields{}))
	resultOverhead = int(unsafe.Sizeof(Result{}))
)

// resultCache holds results of Validate with an expiry each, in two LRU
// lists bounded in entries and bytes: accepted results, and refusals that
// depend only on the token (the negative cache), so that a flood of
// distinct invalid tokens pushes out only other refusals. Entries of
// tokens with the same verdict share one Result (and its user, roles and
// message); a token whose subject or times differ keeps those apart and
// gets a copy of the shared Result with them on a hit. Counters give hits
// and misses for /metrics.
type resultCache struct {
	mu                sync.Mutex
	items             map[uint64]*cacheEntry // by cacheKey.sum
	verdicts          map[verdictKey]*verdict
	accepted, refused lru
	// store holds the bytes of the accepted entries' tokens; it is
	// released when the cache is no longer reachable.
	store *tokenStore

	hits, misses atomic.Uint64
}

// lru is one list of entries, head most recently used.
type lru struct {
	head, tail         *cacheEntry
	n, bytes           int
	maxItems, maxBytes int
}

func (l *lru) pushFront(e *cacheEntry) {
	e.prev, e.next = nil, l.head
	if l.head != nil {
		l.head.prev = e
	} else {
		l.tail = e
	}
	l.head = e
	l.n++
}

func (l *lru) unlink(e *cacheEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
	l.n--
}

func (l *lru) moveToFront(e *cacheEntry) {
	if l.head != e {
		l.unlink(e)
		l.pushFront(e)
	}
}

func (c *resultCache) init(items, acceptedBytes, refusedBytes int) {
	c.items = make(map[uint64]*cacheEntry)
	c.verdicts = make(map[verdictKey]*verdict)
	c.accepted.maxItems, c.accepted.maxBytes = items, acceptedBytes
	c.refused.maxItems, c.refused.maxBytes = items, refusedBytes
	c.store = &tokenStore{}
	runtime.AddCleanup(c, (*tokenStore).release, c.store)
}

func (c *resultCache) lruOf(r *Result) *lru {
	if r.Accepted() {
		return &c.accepted
	}
	return &c.refused
}

// get returns a cached result for the token that has not expired by now.
// An accepted result is checked against its token's exp again.
func (c *resultCache) get(key cacheKey, token string, now time.Time, leeway time.Duration) (*Result, bool) {
	c.mu.Lock()
	e, ok := c.items[key.sum]
	if ok {
		exp := e.v.res.ExpiresAt
		switch {
		case e.own != nil:
			exp = e.own.expiresAt
		case e.res != nil:
			exp = e.res.ExpiresAt
		}
		switch {
		case e.key != key:
			ok = false // another profile, or version, with the same hash
		case e.token.s != token && (e.token.s != "" || e.check != maphash.String(checkSeed, token)):
			ok = false // another token with the same hash
		case now.UnixNano() >= e.until || e.v.res.Accepted() && !exp.IsZero() && now.After(exp.Add(leeway)):
			c.remove(e)
			ok = false
		}
	}
	if !ok {
		c.mu.Unlock()
		c.misses.Add(1)
		return nil, false
	}
	l := c.lruOf(e.v.res)
	l.moveToFront(e)
	if own := e.own; own != nil {
		r := *e.v.res
		r.Subject, r.IssuedAt, r.NotBefore, r.ExpiresAt = own.subject, own.issuedAt, own.notBefore, own.expiresAt
		e.res, e.own = &r, nil
		grow := resultOverhead - ownOverhead
		e.size += grow
		l.bytes += grow
		for l.n > 1 && l.bytes > l.maxBytes {
			c.remove(l.tail)
		}
	}
	res := e.v.res
	if e.res != nil {
		res = e.res
	}
	c.mu.Unlock()
	c.hits.Add(1)
	return res, true
}

// put caches a result for the token until the given time. res must not
// be changed afterwards: it may become the verdict of other tokens.
func (c *resultCache) put(key cacheKey, token string, res *Result, until time.Time) {
	e := &cacheEntry{key: key, until: until.UnixNano()}
	if !res.Accepted() {
		e.check = maphash.String(checkSeed, token)
	}
	vk := verdictKey{res.Profile, res.Login, res.Message, res.Reason}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[key.sum]; ok {
		c.remove(old)
	}
	l := c.lruOf(res)
	v, ok := c.verdicts[vk]
	if !ok || !sameVerdict(v.res, res) {
		v = &verdict{res: res, key: vk, size: res.size() + len(vk.profile)}
	}
	e.v = v
	e.size = entryOverhead
	if res.Accepted() {
		e.size += slotSize(len(token))
	}
	if f := fieldsOf(res); f != fieldsOf(v.res) {
		e.own = &f
		e.size += ownOverhead + len(f.subject)
	}
	need := e.size
	if v.refs == 0 {
		need += v.size
	}
	if need > l.maxBytes {
		return
	}
	if res.Accepted() {
		if e.token, ok = c.store.put(token); !ok {
			return
		}
	}
	if v.refs == 0 {
		c.verdicts[vk] = v
		l.bytes += v.size
	}
	v.refs++
	c.items[key.sum] = e
	l.pushFront(e)
	l.bytes += e.size
	for l.n > l.maxItems || l.bytes > l.maxBytes {
		c.remove(l.tail)
	}
}

// remove drops an entry, and its verdict when no other entry shares it;
// c.mu is held.
func (c *resultCache) remove(e *cacheEntry) {
	v := e.v
	l := c.lruOf(v.res)
	l.unlink(e)
	l.bytes -= e.size
	delete(c.items, e.key.sum)
	c.store.free(e.token)
	e.token = tokenRef{}
	if v.refs--; v.refs == 0 {
		l.bytes -= v.size
		if c.verdicts[v.key] == v {
			delete(c.verdicts, v.key)
		}
	}
}

// sameVerdict reports whether b may share a's Result: everything but the
// subject and the times is the same, nil and empty apart.
func sameVerdict(a, b *Result) bool {
	return a.Reason == b.Reason && a.Message == b.Message && a.Profile == b.Profile && a.Kind == b.Kind &&
		a.Alg == b.Alg && a.KID == b.KID && a.JKT == b.JKT && a.Login == b.Login && a.UserAction == b.UserAction &&
		a.Header == nil && b.Header == nil && a.Claims == nil && b.Claims == nil && a.Checks == nil && b.Checks == nil &&
		(a.Microsoft == nil) == (b.Microsoft == nil) && (a.Microsoft == nil || *a.Microsoft == *b.Microsoft) &&
		sameStrings(a.TokenRoles, b.TokenRoles) && sameStrings(a.Roles, b.Roles) && sameStrings(a.requiredScopes, b.requiredScopes) &&
		sameUser(a.User, b.User)
}

func sameStrings(a, b []string) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

func sameUser(a, b *core.User) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Login == b.Login && a.Email == b.Email && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.Profile == b.Profile && a.CreatedAt == b.CreatedAt && a.UpdatedAt == b.UpdatedAt && sameStrings(a.Roles, b.Roles)
}

func (c *resultCache) forget(profile string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.items {
		if e.key.profile == profile {
			c.remove(e)
		}
	}
}

func (c *resultCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	clear(c.verdicts)
	c.store.release()
	for _, l := range []*lru{&c.accepted, &c.refused} {
		l.head, l.tail, l.n, l.bytes = nil, nil, 0, 0
	}
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
		Accepted: CacheUse{c.accepted.n, c.accepted.bytes, c.accepted.maxBytes},
		Refused:  CacheUse{c.refused.n, c.refused.bytes, c.refused.maxBytes},
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
