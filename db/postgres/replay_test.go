package postgres_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/db/postgres"
)

// TestSeeProofIDTakesNoWriterLock: a DPoP proof id is recorded while
// another process holds the writer lock (a long refresh, db copy), so
// that the one write of every DPoP call does not wait for the writers of
// every host; and an id seen is not fresh again.
func TestSeeProofIDTakesNoWriterLock(t *testing.T) {
	s, conn := open(t)
	ctx := context.Background()
	other, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, postgres.WriterLock); err != nil {
		t.Fatal(err)
	}
	id := sha256.Sum256([]byte("proof"))
	now := time.Now()
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	fresh, err := s.SeeProofID(wait, id[:], now.Add(time.Minute), now)
	if err != nil || !fresh {
		t.Fatalf("with the writer lock held elsewhere: fresh %v, %v; want fresh at once", fresh, err)
	}
	fresh, err = s.SeeProofID(wait, id[:], now.Add(time.Minute), now)
	if err != nil || fresh {
		t.Fatalf("seen again: fresh %v, %v; want not fresh", fresh, err)
	}
}
