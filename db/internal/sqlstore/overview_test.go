package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/dbtest"
	"oidcctl/db/internal/sqlstore"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// A page of every account at a deep offset skips whole profiles by their
// counts (skipProfilesFrom) instead of ordering the accounts before it:
// on both engines it gives what ordering and skipping every account
// gives, at every offset, with profiles of different sizes (one without
// accounts) and past the end.
func TestTokenStatePageSkipsProfiles(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			var s core.Store
			if engine == "sqlite" {
				s, _ = dbtest.Open(t)
			} else {
				key, err := crypt.LoadKey(filepath.Join(t.TempDir(), crypt.KeyFileName), true)
				if err != nil {
					t.Fatal(err)
				}
				pg, err := postgres.Open(ctx, pgtest.URL(t), key)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pg.Close() })
				s = pg
			}
			var want []string // every account, in overview order
			for _, p := range []struct {
				name     string
				accounts int
			}{{"B", 3}, {"a", 5}, {"a0", 0}, {"b1", 1}, {"c", 4}} {
				prof := core.NewProfile(p.name)
				prof.DiscoveryURL, prof.ClientID = "https://op.example/.well-known/openid-configuration", "c"
				if err := s.CreateProfile(ctx, prof); err != nil {
					t.Fatal(err)
				}
				for i := range p.accounts {
					name := fmt.Sprintf("%s-%d", p.name, p.accounts-i) // created out of order
					if err := s.CreateAccount(ctx, core.NewAccount(name, p.name)); err != nil {
						t.Fatal(err)
					}
				}
				for i := range p.accounts {
					want = append(want, fmt.Sprintf("%s-%d", p.name, i+1))
				}
			}
			q := core.AccountQuery{Now: time.Now()}
			pages := func(skipFrom int) map[[2]int][]string {
				t.Helper()
				defer sqlstore.SetSkipProfilesFrom(skipFrom)()
				out := map[[2]int][]string{}
				for offset := range len(want) + 3 {
					for _, limit := range []int{1, 2, 5, 20} {
						sts, err := s.TokenStatePage(ctx, q, offset, limit)
						if err != nil {
							t.Fatal(err)
						}
						var names []string
						for _, st := range sts {
							names = append(names, st.Account)
						}
						out[[2]int{offset, limit}] = names
					}
				}
				return out
			}
			skipped, ordered := pages(0), pages(1<<30)
			for k, got := range skipped {
				offset, limit := k[0], k[1]
				w := want[min(offset, len(want)):min(offset+limit, len(want))]
				if !slices.Equal(got, w) || !slices.Equal(ordered[k], w) {
					t.Errorf("offset %d limit %d: skipping profiles %v, ordering all %v, want %v", offset, limit, got, ordered[k], w)
				}
			}
		})
	}
}
