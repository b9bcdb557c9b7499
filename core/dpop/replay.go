package dpop

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// Replay is what a Verifier asks whether a proof was used before: a
// ReplayCache, or one that also asks a store shared by several processes
// (package serve). UseProof records that the proof of key jkt with jti,
// acceptable until until, is used now, and returns false when it was
// used before (the proof is then refused as a replay).
type Replay interface {
	UseProof(ctx context.Context, jkt, jti string, until, now time.Time) bool
}

// ProofID is the hash a proof is remembered by: SHA-256 of the key's
// thumbprint and the jti, never the proof itself.
func ProofID(jkt, jti string) [32]byte {
	h := sha256.New()
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	var id [32]byte
	h.Sum(id[:0])
	return id
}

// DefaultReplayCacheSize bounds the jti replay cache: some 64 bytes an
// entry, so 100,000 entries take about 6.4 MB.
const DefaultReplayCacheSize = 100_000

// ReplayCache remembers the jti of every accepted proof until the proof
// could no longer be accepted anyway (its iat is out of the window), so
// that a proof is used once. It is bounded in time (entries expire) and
// in size (Size entries): when full, the entry closest to expiring is
// dropped and its expiry becomes a floor below which proofs are refused
// as too old, so that a dropped jti cannot be replayed either. The zero
// value is ready (DefaultReplayCacheSize); it is safe for concurrent use.
type ReplayCache struct {
	// Size is the most entries kept; 0 means DefaultReplayCacheSize.
	Size int

	mu    sync.Mutex
	seen  map[[32]byte]time.Time
	order expiryHeap
	floor time.Time
}

// Use records that the proof of key jkt with jti, acceptable until
// until, was used; it returns false when it was used before, or when the
// proof expires at or before the floor (see ReplayCache).
func (c *ReplayCache) Use(jkt, jti string, until, now time.Time) bool {
	return c.UseID(ProofID(jkt, jti), until, now)
}

// UseID is Use for the proof whose ProofID is id.
func (c *ReplayCache) UseID(id [32]byte, until, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[[32]byte]time.Time{}
	}
	for len(c.order) > 0 && !c.order[0].until.After(now) {
		e := heap.Pop(&c.order).(entry)
		delete(c.seen, e.id)
	}
	if _, dup := c.seen[id]; dup {
		return false
	}
	if !until.After(c.floor) {
		return false
	}
	size := c.Size
	if size <= 0 {
		size = DefaultReplayCacheSize
	}
	for len(c.order) >= size {
		e := heap.Pop(&c.order).(entry)
		delete(c.seen, e.id)
		if e.until.After(c.floor) {
			c.floor = e.until
		}
		if !until.After(c.floor) {
			return false
		}
	}
	c.seen[id] = until
	heap.Push(&c.order, entry{id: id, until: until})
	return true
}

// UseProof is Use, as a Replay: a ReplayCache asks nothing else.
func (c *ReplayCache) UseProof(_ context.Context, jkt, jti string, until, now time.Time) bool {
	return c.Use(jkt, jti, until, now)
}

// Len is the number of remembered proofs.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

type entry struct {
	id    [32]byte
	until time.Time
}

// expiryHeap is a min-heap of entries by expiry.
type expiryHeap []entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
