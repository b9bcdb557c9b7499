package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/memstore"
	"oidcctl/core/storetest"
)

// The fake keeps every promise of core.Store that the SQLite store keeps:
// the same conformance suite runs against both.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opened {
		s := memstore.New()
		return storetest.Opened{
			Store:  s,
			SetNow: func(now func() time.Time) { s.Now = now },
			CorruptToken: func(t testing.TB, account, column string) {
				t.Helper()
				if err := s.CorruptToken(account, column); err != nil {
					t.Fatal(err)
				}
			},
			// One process: every handle is the store itself.
			Another: func(testing.TB) core.Store { return s },
		}
	})
}

// CorruptToken damages only a token that is there, of an account that is.
func TestCorruptTokenNeedsAStoredToken(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	p := core.NewProfile("op")
	if err := s.CreateProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, core.NewAccount("acc", "op")); err != nil {
		t.Fatal(err)
	}
	if err := s.CorruptToken("nope", "access_token"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
	if err := s.CorruptToken("acc", "access_token"); err == nil {
		t.Error("an account without tokens had its access token damaged")
	}
	if err := s.SaveTokens(ctx, "acc", "", core.TokenSet{AccessToken: core.NewSecret("at")}); err != nil {
		t.Fatal(err)
	}
	if err := s.CorruptToken("acc", "password"); err == nil {
		t.Error("a column that holds no token was accepted")
	}
	if err := s.CorruptToken("acc", "id_token"); err == nil {
		t.Error("a token that is not stored was damaged")
	}
	if err := s.CorruptToken("acc", "access_token"); err != nil {
		t.Fatal(err)
	}
	st, err := s.TokenState(ctx, "acc")
	if err != nil || !errors.Is(st.Damaged, memstore.ErrDamaged) {
		t.Fatalf("damaged = %v, %v; want ErrDamaged", st.Damaged, err)
	}
}
