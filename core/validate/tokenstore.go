package validate

import (
	"sync/atomic"
	"unsafe"
)

// tokenStore keeps the bytes of cached tokens (and the result cache's
// entries, see mapRecords) outside the garbage-collected heap, in slabs of memory mapped from the system (see mapSlab), so that
// the collector's pacing, which lets the heap grow to about twice what is
// live, does not double them: 10,000 cached tokens of 700 bytes cost 7 MiB
// of memory rather than up to 14.
//
// A token goes into a slot of its size class (a multiple of slotAlign
// bytes); each class has its own slabs and a free list of slots threaded
// through the free slots themselves, so that a freed slot is reused by
// the next token of its class and the memory is bounded by the most slots
// ever held at once, which the result cache bounds in bytes. The store is
// not safe for concurrent use: the result cache calls it under its lock.
// Its strings stay valid until their slot is freed or the store released,
// and must not be kept beyond that.
type tokenStore struct {
	classes []slotClass // by size class, grown as needed
	records [][]byte    // slabs of mapRecords
	mapped  int         // bytes of slabs mapped
	// releases counts the calls of release (by Purge, or once the cache
	// is unreachable), for tests.
	releases atomic.Int32
}

// slotAlign is the size step of the classes; slabBytes the size of a slab
// (at least slabSlots slots of the largest class).
const (
	slotAlign = 64
	slabBytes = 256 << 10
	slabSlots = 8
)

// noSlot ends a free list.
const noSlot = ^uint32(0)

// slotClass is the slots of one size.
type slotClass struct {
	size    int      // bytes a slot
	perSlab int      // slots a slab
	slabs   [][]byte // mapped slabs
	used    uint32   // slots ever handed out: the next fresh one
	free    uint32   // head of the free list, noSlot when empty
}

// tokenRef is a token held by a tokenStore: the string over its slot, and
// the slot's class and index, to free it.
type tokenRef struct {
	s     string
	class uint16
	slot  uint32
}

// slotSize is the memory a token of n bytes takes in the store.
func slotSize(n int) int {
	return (n + slotAlign - 1) / slotAlign * slotAlign
}

// put copies a token into a slot. It returns false when no memory could be
// had for it (the token is then not cached).
func (s *tokenStore) put(token string) (tokenRef, bool) {
	if token == "" {
		return tokenRef{}, false
	}
	ci := (len(token) - 1) / slotAlign
	if ci > 0xffff {
		return tokenRef{}, false
	}
	for len(s.classes) <= ci {
		size := (len(s.classes) + 1) * slotAlign
		s.classes = append(s.classes, slotClass{size: size, perSlab: max(slabBytes, size*slabSlots) / size, free: noSlot})
	}
	c := &s.classes[ci]
	var i uint32
	switch {
	case c.free != noSlot:
		i = c.free
		c.free = *(*uint32)(unsafe.Pointer(c.at(i)))
	default:
		if int(c.used)/c.perSlab == len(c.slabs) {
			b, err := mapSlab(max(slabBytes, c.size*slabSlots) / c.size * c.size)
			if err != nil {
				return tokenRef{}, false
			}
			c.slabs = append(c.slabs, b)
			s.mapped += len(b)
			c.perSlab = len(b) / c.size
		}
		i = c.used
		c.used++
	}
	p := c.at(i)
	copy(unsafe.Slice(p, len(token)), token)
	return tokenRef{s: unsafe.String(p, len(token)), class: uint16(ci), slot: i}, true
}

// at is the first byte of slot i.
func (c *slotClass) at(i uint32) *byte {
	return &c.slabs[int(i)/c.perSlab][int(i)%c.perSlab*c.size]
}

// str is the token in a slot, n bytes long.
func (s *tokenStore) str(class uint16, slot, n uint32) string {
	return unsafe.String(s.classes[class].at(slot), n)
}

// free gives a token's slot back; its string must not be used afterwards.
func (s *tokenStore) free(class uint16, slot uint32) {
	c := &s.classes[class]
	*(*uint32)(unsafe.Pointer(c.at(slot))) = c.free
	c.free = slot
}

// mapRecords maps n bytes for the cache's own records (its entries),
// unmapped with the rest by release.
func (s *tokenStore) mapRecords(n int) ([]byte, error) {
	b, err := mapSlab(n)
	if err != nil {
		return nil, err
	}
	s.records = append(s.records, b)
	s.mapped += len(b)
	return b, nil
}

// release unmaps every slab; no string of the store may be used
// afterwards.
func (s *tokenStore) release() {
	for _, c := range s.classes {
		for _, b := range c.slabs {
			unmapSlab(b)
		}
	}
	for _, b := range s.records {
		unmapSlab(b)
	}
	s.classes, s.records, s.mapped = nil, nil, 0
	s.releases.Add(1)
}
