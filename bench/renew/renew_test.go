// Package renew measures the renewal of many due accounts by the refresh
// scheduler's RunDue: one instance on SQLite, one on PostgreSQL, and three
// on one PostgreSQL database (three token managers, each with a
// connection pool and a lease owner of its own, as three serve processes
// have), against the in-process provider with rotating refresh tokens.
//
//	bench/renew.sh                      # 1,000 accounts
//	ACCOUNTS=200 bench/renew.sh
//
// It reports accounts per second and the refresh tokens that reached the
// provider twice (reuse, which must be 0). PostgreSQL is a throwaway
// cluster (db/pgtest), or the server in OIDCCTL_TEST_POSTGRES.
package renew

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
	"oidcctl/core/tokens"
	"oidcctl/db"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// store is what a benchmark instance needs of a database.
type store interface {
	tokens.Store
	core.Store
	Close() error
}

// refreshLog records the refresh tokens that reach the provider.
type refreshLog struct {
	mu   sync.Mutex
	seen map[string]int
}

func (l *refreshLog) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if rt := form.Get("refresh_token"); rt != "" {
			l.mu.Lock()
			l.seen[rt]++
			l.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// reset forgets what was recorded and returns how many refreshes there
// were and how many refresh tokens were sent more than once.
func (l *refreshLog) reset() (refreshes, reused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.seen {
		refreshes += n
		if n > 1 {
			reused += n - 1
		}
	}
	l.seen = map[string]int{}
	return refreshes, reused
}

func accounts() int {
	if n, err := strconv.Atoi(os.Getenv("ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 1000
}

func BenchmarkRenewDue(b *testing.B) {
	op := oidctest.Start(b, oidctest.WithAccessTokenLifetime(2*time.Hour))
	log := &refreshLog{seen: map[string]int{}}
	op.SetTokenMiddleware(log.middleware)
	key, err := crypt.LoadKey(filepath.Join(b.TempDir(), crypt.KeyFileName), true)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	openSQLite := func(b *testing.B) func() (store, error) {
		path := filepath.Join(b.TempDir(), "oidcctl.db")
		return func() (store, error) { return db.Open(ctx, path, key) }
	}
	openPostgres := func(b *testing.B) func() (store, error) {
		conn := pgtest.URL(b)
		return func() (store, error) { return postgres.Open(ctx, conn, key) }
	}
	for _, bc := range []struct {
		name      string
		instances int
		open      func(b *testing.B) func() (store, error)
	}{
		{"sqlite/1-instance", 1, openSQLite},
		{"postgres/1-instance", 1, openPostgres},
		{"postgres/3-instances", 3, openPostgres},
	} {
		b.Run(bc.name, func(b *testing.B) {
			open := bc.open(b)
			stores := make([]store, bc.instances)
			managers := make([]*tokens.Manager, bc.instances)
			for i := range stores {
				s, err := open()
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				stores[i] = s
				managers[i] = tokens.New(tokens.Config{
					Store: s, Discovery: &discovery.Client{Cache: s}, Grants: &grant.Client{},
					Owner: fmt.Sprintf("bench-%d", i), Logger: discard(),
				})
			}
			n := accounts()
			names := setup(b, stores[0], op, managers[0], n)
			horizon := time.Now().Add(time.Hour)
			w := tokens.Window{Next: horizon, Horizon: horizon}
			var total time.Duration
			reusedAll := 0
			for b.Loop() {
				b.StopTimer()
				makeDue(b, stores[0], names)
				log.reset()
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for _, m := range managers {
					wg.Go(func() {
						out, err := m.RunDue(ctx, w, 4)
						if err != nil {
							b.Error(err)
						}
						for _, o := range out {
							if o.Err != nil {
								b.Error(o.Account, o.Err)
							}
						}
					})
				}
				wg.Wait()
				total += time.Since(start)
				b.StopTimer()
				refreshes, reused := log.reset()
				if refreshes != n {
					b.Errorf("%d refreshes for %d due accounts", refreshes, n)
				}
				reusedAll += reused
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "accounts/s")
			b.ReportMetric(float64(reusedAll), "reused")
		})
	}
}

// setup adds n password-grant accounts and obtains their first tokens.
func setup(b *testing.B, s store, op *oidctest.Provider, m *tokens.Manager, n int) []string {
	b.Helper()
	ctx := context.Background()
	reg := core.Registry{Store: s}
	p := core.NewProfile("web")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = op.DiscoveryURL, oidctest.WebClientID, core.NewSecret(oidctest.WebClientSecret)
	if err := reg.AddProfile(ctx, p); err != nil {
		b.Fatal(err)
	}
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("svc-%04d", i)
		a := core.NewAccount(names[i], "web")
		a.GrantType, a.Scopes = core.GrantPassword, []string{"offline_access"}
		a.Username, a.Password = op.Username(), core.NewSecret(oidctest.Password)
		if err := reg.AddAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := m.RunDue(ctx, tokens.Window{Next: time.Now(), Horizon: time.Now()}, 16); err != nil {
		b.Fatal(err)
	}
	return names
}

// makeDue leaves every account 10 of its tokens' 70 minutes.
func makeDue(b *testing.B, s store, names []string) {
	ctx := context.Background()
	for _, name := range names {
		st, err := s.TokenState(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		st.Tokens.Expiry = time.Now().Add(10 * time.Minute)
		st.Tokens.ObtainedAt = time.Now().Add(-time.Hour)
		if err := s.SaveTokens(ctx, name, "", st.Tokens); err != nil {
			b.Fatal(err)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
