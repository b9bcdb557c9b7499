package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"oidcctl/core/crypt"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
	"oidcctl/core/tokens"
	"oidcctl/db"
	"oidcctl/db/internal/refreshtest"
	"oidcctl/internal/testkit"
)

// BenchmarkRunDue1000 refreshes 1,000 accounts that are all due, against
// the in-process provider and a real SQLite store, 8 at a time, and checks
// that none was refreshed twice. It reports accounts per second. (It
// lives with the store because the store's writes are much of what it
// measures.)
func BenchmarkRunDue1000(b *testing.B) {
	const accounts, concurrency = 1000, 8
	ctx := context.Background()
	op := oidctest.Start(b)
	dir := b.TempDir()
	key, err := crypt.LoadKey(filepath.Join(dir, crypt.KeyFileName), true)
	if err != nil {
		b.Fatal(err)
	}
	store, err := db.Open(ctx, filepath.Join(dir, db.FileName), key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	clock := testkit.Running()
	names := make([]string, accounts)
	for i := range names {
		names[i] = fmt.Sprintf("acc-%04d", i)
	}
	refreshtest.AddAccounts(b, store, op, names...)
	m := tokens.New(tokens.Config{
		Store:     store,
		Discovery: &discovery.Client{Cache: store, Now: clock.Now},
		Grants:    &grant.Client{Now: clock.Now},
		Owner:     "bench",
		Now:       clock.Now,
		RetryBase: time.Minute,
	})
	now := clock.Now()
	if out, err := m.RunDue(ctx, tokens.Window{Next: now, Horizon: now}, concurrency); err != nil || len(out) != accounts {
		b.Fatalf("obtaining the first tokens: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		op.ResetTokenRequests()
		// Past half their 5-minute lifetime, every token is due.
		clock.Add(3 * time.Minute)
		b.StartTimer()
		w := tokens.Window{Next: clock.Now().Add(time.Hour), Horizon: clock.Now().Add(time.Hour)}
		out, err := m.RunDue(ctx, w, concurrency)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, o := range out {
			if o.Verdict != tokens.Due || o.Err != nil {
				b.Fatalf("%s: %s %v", o.Account, o.Verdict, o.Err)
			}
		}
		n, seen := 0, map[string]bool{}
		for _, r := range op.TokenRequests() {
			if r.Get("grant_type") != "refresh_token" {
				continue
			}
			n++
			if rt := r.Get("refresh_token"); seen[rt] {
				b.Fatal("a refresh token was sent twice")
			} else {
				seen[rt] = true
			}
		}
		if n != accounts {
			b.Fatalf("%d refreshes, want %d: an account was refreshed twice or not at all", n, accounts)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(accounts*b.N)/b.Elapsed().Seconds(), "accounts/s")
}
