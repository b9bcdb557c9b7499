package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"oidcctl/core"
)

// BenchmarkTokenCycle is the store's share of one renewal on SQLite: the
// lease taken, the new tokens saved (which releases it) and the state
// read back, each its own transaction. It measures what the store adds to
// the database's work (the shared code of db/internal/sqlstore and the
// engine's adapter), without a provider.
func BenchmarkTokenCycle(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), FileName), newKey(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		b.Fatal(err)
	}
	if err := d.CreateAccount(ctx, core.NewAccount("svc", "idp")); err != nil {
		b.Fatal(err)
	}
	set := core.TokenSet{
		AccessToken: core.NewSecret("access"), RefreshToken: core.NewSecret("refresh"), IDToken: core.NewSecret("id"),
		TokenType: "Bearer", Scope: "openid", Expiry: t0.Add(time.Hour), ObtainedAt: t0,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := d.AcquireLease(ctx, "svc", "bench", t0, t0.Add(time.Minute)); err != nil || !ok {
			b.Fatalf("lease: %v %v", ok, err)
		}
		if err := d.SaveTokens(ctx, "svc", "bench", set); err != nil {
			b.Fatal(err)
		}
		if _, err := d.TokenState(ctx, "svc"); err != nil {
			b.Fatal(err)
		}
	}
}
