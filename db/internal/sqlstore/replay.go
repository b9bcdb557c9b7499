package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// The ids of used DPoP proofs (core.ReplayStore): one row of dpop_proofs
// per id (a SHA-256, never the proof) with the time until which the proof
// could be accepted, unix milliseconds.

// proofSweepEvery is how many SeeProofID calls of one handle go by between
// two deletions of expired ids, and proofSweepLimit the most one deletion
// removes: a small, bounded DELETE now and then rather than one per call.
// Between deletions the table holds the ids of a few minutes of DPoP
// calls (a proof is acceptable for about two minutes).
const (
	proofSweepEvery = 256
	proofSweepLimit = 1000
)

// SeeProofID implements core.ReplayStore. The id is inserted; when it is
// there already, it is replaced only when its until has passed. One
// statement, so that of several processes that insert one id at once
// exactly one changes a row: that one is told fresh. It needs no writer
// lock, and runs without one where the engine can (Store.Statements).
func (db *Store) SeeProofID(ctx context.Context, id []byte, until, now time.Time) (bool, error) {
	sweep := db.proofsSeen.Add(1)%proofSweepEvery == 0
	run := db.Statements
	if run == nil {
		run = db.inTx
	}
	var fresh bool
	err := run(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `
			INSERT INTO dpop_proofs (id, expires_at) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
			WHERE dpop_proofs.expires_at <= $3`,
			id, until.UnixMilli(), now.UnixMilli())
		if err != nil {
			return err
		}
		fresh = n == 1
		if sweep {
			_, err = tx.Exec(ctx, `
				DELETE FROM dpop_proofs WHERE id IN (
					SELECT id FROM dpop_proofs WHERE expires_at <= $1 LIMIT $2)`,
				now.UnixMilli(), proofSweepLimit)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record DPoP proof id: %w", err)
	}
	return fresh, nil
}
