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

// cacheEntry is a cached result. It holds no Go pointers, only indexes
// (of its verdict, its own fields, its token's slot, its neighbours), so
// that the entries live in slabs outside the garbage-collected heap (see
// tokenStore.mapRecords), which neither scans them nor lets the heap grow
// to twice their size before collecting.
type cacheEntry struct {
	sum     uint64 // cacheKey.sum, the key of the cache's map
	version int64  // cacheKey.version
	// check is a refusal's second keyed hash of its token, kept instead
	// of the token, so that a flood of distinct invalid tokens costs a few
	// dozen bytes each: two tokens that collide in both hashes would get
	// each other's refusal, which can only refuse a token (that was never
	// accepted from this entry), never accept one.
	check uint64
	until int64 // unix nanoseconds
	// prev and next link the entry into its LRU list.
	prev, next uint32
	// verdict is the index in resultCache.verdictList of the verdict,
	// shared by the entries of tokens that got the same one (same user,
	// roles and message); own that in resultCache.owns of the token's
	// subject and times when they differ from the verdict's, noSlot when
	// they do not.
	verdict, own uint32
	profile      uint32 // index in resultCache.profiles: cacheKey.profile
	// tokSlot, tokLen and tokClass are where an accepted entry's token is
	// in the cache's tokenStore, compared in full on every hit: a token
	// whose hash collides (by chance or forged) never matches.
	tokSlot, tokLen uint32
	tokClass        uint16
	accepted        bool
}

// ownFields are an entry's own subject and times. The first hit turns
// fields into res, the verdict's Result with them (user, roles and message
// still shared), so that later hits allocate nothing.
type ownFields struct {
	fields *tokenFields
	res    *Result
	size   int // the memory they count for
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
// got it; refs counts them, idx is its index in resultCache.verdictList.
type verdict struct {
	res  *Result
	key  verdictKey
	refs int
	size int
	idx  uint32
}

// verdictKey finds the verdict a new result may share.
type verdictKey struct {
	profile, login, message string
	reason                  Reason
}

// checkSeed keys the second hash of refused tokens.
var checkSeed = maphash.MakeSeed()

// entryOverhead is the memory of an entry besides its token's slot, its own
// fields and its verdict: the entry and its slots of the index, about.
const entryOverhead = int(unsafe.Sizeof(cacheEntry{})) + 16

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
	mu sync.Mutex
	// index finds the entries by cacheKey.sum: an open-addressing table
	// (linear probing) of entry indexes plus one, 0 for a free slot, in
	// the store's memory too, at most half full.
	index             []uint32
	verdicts          map[verdictKey]*verdict
	accepted, refused lru

	// entries are in slabs of the store, recsPerSlab each; fresh is the
	// number ever used, free the head of the list of freed ones (linked
	// by next).
	entries     [][]cacheEntry
	fresh, free uint32
	// verdictList and owns are what entries index, with their free
	// indexes; profiles the names of the profiles of the entries.
	verdictList []*verdict
	freeVerdict []uint32
	owns        []ownFields
	freeOwn     []uint32
	profiles    []string
	profileIDs  map[string]uint32
	// store holds the entries and the bytes of the accepted entries'
	// tokens; it is released when the cache is no longer reachable.
	store *tokenStore

	hits, misses atomic.Uint64
}

// recsPerSlab is the entries a slab of them holds.
const recsPerSlab = slabBytes / int(unsafe.Sizeof(cacheEntry{}))

// lru is one list of entries, head most recently used.
type lru struct {
	head, tail         uint32
	n, bytes           int
	maxItems, maxBytes int
}

// at is entry i.
func (c *resultCache) at(i uint32) *cacheEntry {
	return &c.entries[int(i)/recsPerSlab][int(i)%recsPerSlab]
}

func (c *resultCache) pushFront(l *lru, i uint32) {
	e := c.at(i)
	e.prev, e.next = noSlot, l.head
	if l.head != noSlot {
		c.at(l.head).prev = i
	} else {
		l.tail = i
	}
	l.head = i
	l.n++
}

func (c *resultCache) unlink(l *lru, i uint32) {
	e := c.at(i)
	if e.prev != noSlot {
		c.at(e.prev).next = e.next
	} else {
		l.head = e.next
	}
	if e.next != noSlot {
		c.at(e.next).prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = noSlot, noSlot
	l.n--
}

func (c *resultCache) moveToFront(l *lru, i uint32) {
	if l.head != i {
		c.unlink(l, i)
		c.pushFront(l, i)
	}
}

func (c *resultCache) init(items, acceptedBytes, refusedBytes int) {
	c.accepted.maxItems, c.accepted.maxBytes = items, acceptedBytes
	c.refused.maxItems, c.refused.maxBytes = items, refusedBytes
	c.store = &tokenStore{}
	runtime.AddCleanup(c, (*tokenStore).release, c.store)
	c.reset()
}

// reset empties the cache; c.mu is held, or c is new.
func (c *resultCache) reset() {
	c.verdicts = make(map[verdictKey]*verdict)
	c.profileIDs = make(map[string]uint32)
	for _, l := range []*lru{&c.accepted, &c.refused} {
		l.head, l.tail, l.n, l.bytes = noSlot, noSlot, 0, 0
	}
	c.store.release()
	slots := 16
	for slots < 2*(c.accepted.maxItems+c.refused.maxItems) {
		slots *= 2
	}
	if b, err := c.store.mapRecords(slots * 4); err == nil {
		c.index = unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), slots)
	} else {
		c.index = make([]uint32, slots)
	}
	c.entries, c.fresh, c.free = nil, 0, noSlot
	c.verdictList, c.freeVerdict, c.owns, c.freeOwn, c.profiles = nil, nil, nil, nil, nil
}

func (c *resultCache) lruOf(accepted bool) *lru {
	if accepted {
		return &c.accepted
	}
	return &c.refused
}

// find looks an entry up by its sum: its index and true, or the free slot
// of the index where it would go and false.
func (c *resultCache) find(sum uint64) (slot, i uint32, ok bool) {
	mask := uint32(len(c.index) - 1)
	for p := uint32(sum) & mask; ; p = (p + 1) & mask {
		s := c.index[p]
		if s == 0 {
			return p, 0, false
		}
		if c.at(s-1).sum == sum {
			return p, s - 1, true
		}
	}
}

// unindex frees an entry's slot of the index, shifting back the entries
// after it in its run that may move closer to their home slot, so that
// no lookup stops early at the hole.
func (c *resultCache) unindex(sum uint64) {
	p, _, ok := c.find(sum)
	if !ok {
		return
	}
	mask := uint32(len(c.index) - 1)
	c.index[p] = 0
	for j := (p + 1) & mask; c.index[j] != 0; j = (j + 1) & mask {
		home := uint32(c.at(c.index[j]-1).sum) & mask
		// The entry at j stays when its home is cyclically in (p, j].
		if p < j && p < home && home <= j || p > j && (home > p || home <= j) {
			continue
		}
		c.index[p], c.index[j] = c.index[j], 0
		p = j
	}
}

// newEntry takes a free entry, or a fresh one (mapping a slab of them
// when needed); false when no memory could be had.
func (c *resultCache) newEntry() (uint32, bool) {
	if i := c.free; i != noSlot {
		c.free = c.at(i).next
		return i, true
	}
	if int(c.fresh)/recsPerSlab == len(c.entries) {
		b, err := c.store.mapRecords(recsPerSlab * int(unsafe.Sizeof(cacheEntry{})))
		if err != nil {
			return 0, false
		}
		c.entries = append(c.entries, unsafe.Slice((*cacheEntry)(unsafe.Pointer(&b[0])), recsPerSlab))
	}
	c.fresh++
	return c.fresh - 1, true
}

// profileID interns a profile's name.
func (c *resultCache) profileID(name string) uint32 {
	id, ok := c.profileIDs[name]
	if !ok {
		id = uint32(len(c.profiles))
		c.profiles = append(c.profiles, name)
		c.profileIDs[name] = id
	}
	return id
}

// size is the memory an entry counts for besides its verdict.
func (c *resultCache) size(e *cacheEntry) int {
	n := entryOverhead
	if e.accepted {
		n += slotSize(int(e.tokLen))
	}
	if e.own != noSlot {
		n += c.owns[e.own].size
	}
	return n
}

// get returns a cached result for the token that has not expired by now.
// An accepted result is checked against its token's exp again.
func (c *resultCache) get(key cacheKey, token string, now time.Time, leeway time.Duration) (*Result, bool) {
	c.mu.Lock()
	_, i, ok := c.find(key.sum)
	var e *cacheEntry
	var v *verdict
	if ok {
		e = c.at(i)
		v = c.verdictList[e.verdict]
		exp := v.res.ExpiresAt
		if e.own != noSlot {
			if o := &c.owns[e.own]; o.res != nil {
				exp = o.res.ExpiresAt
			} else {
				exp = o.fields.expiresAt
			}
		}
		switch {
		case e.version != key.version || c.profiles[e.profile] != key.profile:
			ok = false // another profile, or version, with the same hash
		case e.accepted && c.store.str(e.tokClass, e.tokSlot, e.tokLen) != token,
			!e.accepted && e.check != maphash.String(checkSeed, token):
			ok = false // another token with the same hash
		case now.UnixNano() >= e.until || e.accepted && !exp.IsZero() && now.After(exp.Add(leeway)):
			c.remove(i)
			ok = false
		}
	}
	if !ok {
		c.mu.Unlock()
		c.misses.Add(1)
		return nil, false
	}
	l := c.lruOf(e.accepted)
	c.moveToFront(l, i)
	res := v.res
	if e.own != noSlot {
		o := &c.owns[e.own]
		if o.res == nil {
			r := *v.res
			f := o.fields
			r.Subject, r.IssuedAt, r.NotBefore, r.ExpiresAt = f.subject, f.issuedAt, f.notBefore, f.expiresAt
			grow := resultOverhead - ownOverhead
			o.res, o.fields = &r, nil
			o.size += grow
			l.bytes += grow
			for l.n > 1 && l.bytes > l.maxBytes {
				c.remove(l.tail)
			}
		}
		res = o.res
	}
	c.mu.Unlock()
	c.hits.Add(1)
	return res, true
}

// put caches a result for the token until the given time. res must not
// be changed afterwards: it may become the verdict of other tokens.
func (c *resultCache) put(key cacheKey, token string, res *Result, until time.Time) {
	accepted := res.Accepted()
	var check uint64
	if !accepted {
		check = maphash.String(checkSeed, token)
	}
	vk := verdictKey{res.Profile, res.Login, res.Message, res.Reason}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, old, ok := c.find(key.sum); ok {
		c.remove(old)
	}
	l := c.lruOf(accepted)
	v, ok := c.verdicts[vk]
	if !ok || !sameVerdict(v.res, res) {
		v = &verdict{res: res, key: vk, size: res.size() + len(vk.profile)}
	}
	e := cacheEntry{sum: key.sum, version: key.version, check: check, until: until.UnixNano(), own: noSlot}
	if accepted {
		e.accepted, e.tokLen = true, uint32(len(token))
	}
	var own *ownFields
	if f := fieldsOf(res); f != fieldsOf(v.res) {
		own = &ownFields{fields: &f, size: ownOverhead + len(f.subject)}
	}
	size := c.size(&e)
	if own != nil {
		size += own.size
	}
	need := size
	if v.refs == 0 {
		need += v.size
	}
	if need > l.maxBytes {
		return
	}
	if accepted {
		t, ok := c.store.put(token)
		if !ok {
			return
		}
		e.tokClass, e.tokSlot = t.class, t.slot
	}
	i, ok := c.newEntry()
	if !ok {
		if accepted {
			c.store.free(e.tokClass, e.tokSlot)
		}
		return
	}
	if v.refs == 0 {
		c.verdicts[vk] = v
		l.bytes += v.size
		if n := len(c.freeVerdict); n > 0 {
			v.idx = c.freeVerdict[n-1]
			c.freeVerdict = c.freeVerdict[:n-1]
			c.verdictList[v.idx] = v
		} else {
			v.idx = uint32(len(c.verdictList))
			c.verdictList = append(c.verdictList, v)
		}
	}
	v.refs++
	e.verdict = v.idx
	e.profile = c.profileID(key.profile)
	if own != nil {
		if n := len(c.freeOwn); n > 0 {
			e.own = c.freeOwn[n-1]
			c.freeOwn = c.freeOwn[:n-1]
			c.owns[e.own] = *own
		} else {
			e.own = uint32(len(c.owns))
			c.owns = append(c.owns, *own)
		}
	}
	*c.at(i) = e
	slot, _, _ := c.find(key.sum)
	c.index[slot] = i + 1
	c.pushFront(l, i)
	l.bytes += size
	for l.n > l.maxItems || l.bytes > l.maxBytes {
		c.remove(l.tail)
	}
}

// remove drops an entry, and its verdict when no other entry shares it;
// c.mu is held.
func (c *resultCache) remove(i uint32) {
	e := c.at(i)
	v := c.verdictList[e.verdict]
	l := c.lruOf(e.accepted)
	c.unlink(l, i)
	l.bytes -= c.size(e)
	c.unindex(e.sum)
	if e.accepted {
		c.store.free(e.tokClass, e.tokSlot)
	}
	if e.own != noSlot {
		c.owns[e.own] = ownFields{}
		c.freeOwn = append(c.freeOwn, e.own)
	}
	if v.refs--; v.refs == 0 {
		l.bytes -= v.size
		if c.verdicts[v.key] == v {
			delete(c.verdicts, v.key)
		}
		c.verdictList[v.idx] = nil
		c.freeVerdict = append(c.freeVerdict, v.idx)
	}
	*e = cacheEntry{next: c.free}
	c.free = i
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
	id, ok := c.profileIDs[profile]
	if !ok {
		return
	}
	for _, l := range []*lru{&c.accepted, &c.refused} {
		for i := l.head; i != noSlot; {
			next := c.at(i).next
			if c.at(i).profile == id {
				c.remove(i)
			}
			i = next
		}
	}
}

func (c *resultCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

// len is the number of cached results, for tests.
func (c *resultCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accepted.n + c.refused.n
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
