package memstore

import (
	"context"
	"time"
)

// SeeProofID implements core.ReplayStore: the ids in a map, the expired
// ones dropped whenever a new one is recorded.
func (s *Store) SeeProofID(_ context.Context, id []byte, until, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proofs == nil {
		s.proofs = map[string]time.Time{}
	}
	if u, ok := s.proofs[string(id)]; ok && u.After(now) {
		return false, nil
	}
	for k, u := range s.proofs {
		if !u.After(now) {
			delete(s.proofs, k)
		}
	}
	s.proofs[string(id)] = until
	return true, nil
}
