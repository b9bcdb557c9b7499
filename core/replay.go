package core

import (
	"context"
	"time"
)

// ReplayStore remembers the ids of used DPoP proofs for every process on
// one database, so that a proof used at one serve instance is refused
// when it is replayed to another (serve asks it after its own memory, on
// PostgreSQL, where several instances share the database). An id is a
// hash (SHA-256 of the proof key's thumbprint and the jti), never the
// proof.
type ReplayStore interface {
	// SeeProofID records id as used until until, and reports whether it
	// was fresh: false when id was recorded before and its until is
	// after now. Of several processes that see one id at once, one is
	// told fresh. Ids whose until has passed are deleted now and then.
	SeeProofID(ctx context.Context, id []byte, until, now time.Time) (fresh bool, err error)
}
