package tokens

import (
	"context"
	"fmt"
	"testing"
	"time"

	"oidcctl/core"
)

// BenchmarkRunDue1000 refreshes 1,000 accounts that are all due, against
// the in-process provider, 8 at a time, and checks that none was
// refreshed twice. It reports accounts per second.
func BenchmarkRunDue1000(b *testing.B) {
	const accounts, concurrency = 1000, 8
	e := newEnv(b)
	ctx := context.Background()
	for i := range accounts {
		e.addAccount(b, fmt.Sprintf("acc-%04d", i), "web", core.GrantPassword, "openid", "offline_access")
	}
	now := e.clock.Now()
	if out, err := e.m.RunDue(ctx, Window{Next: now, Horizon: now}, concurrency); err != nil || len(out) != accounts {
		b.Fatalf("obtaining the first tokens: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		e.op.ResetTokenRequests()
		// Past half their 5-minute lifetime, every token is due.
		e.clock.Add(3 * time.Minute)
		b.StartTimer()
		w := Window{Next: e.clock.Now().Add(time.Hour), Horizon: e.clock.Now().Add(time.Hour)}
		out, err := e.m.RunDue(ctx, w, concurrency)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, o := range out {
			if o.Verdict != Due || o.Err != nil {
				b.Fatalf("%s: %s %v", o.Account, o.Verdict, o.Err)
			}
		}
		n, sent := e.grants("refresh_token")
		seen := make(map[string]bool, n)
		for _, rt := range sent {
			if seen[rt] {
				b.Fatal("a refresh token was sent twice")
			}
			seen[rt] = true
		}
		if n != accounts {
			b.Fatalf("%d refreshes, want %d: an account was refreshed twice or not at all", n, accounts)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(accounts*b.N)/b.Elapsed().Seconds(), "accounts/s")
}
