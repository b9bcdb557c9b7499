// Package scale measures oidcctl with many accounts, on SQLite and on
// PostgreSQL: a pass of the refresh scheduler that finds nothing due,
// the store's overview of the accounts (their counts and a page),
// `oidcctl token list`, and the console's first frame (the binary in an
// 80×24 tmux pane, as a person waits for it). Each is measured at every
// size of SIZES (default 10,000 and 100,000 accounts, one profile for 100
// accounts, every account with fresh tokens), so that the growth shows.
//
//	bench/scale.sh                      # 10,000 and 100,000 accounts, a table
//	SIZES=2000,20000 bench/scale.sh
//
// PostgreSQL is a throwaway cluster (db/pgtest), or the server in
// OIDCCTL_TEST_POSTGRES. The peak RSS of a binary is its VmHWM, or what
// GNU time (/usr/bin/time) says of token list.
package scale

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/tokens"
	"oidcctl/db"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
	"oidcctl/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// store is what the benchmark needs of a database.
type store interface {
	tokens.Store
	core.Store
	Close() error
}

func sizes(b *testing.B) []int {
	spec := os.Getenv("SIZES")
	if spec == "" {
		spec = "10000,100000"
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("SIZES=%q: want positive numbers separated by commas", spec)
		}
		out = append(out, n)
	}
	return out
}

func BenchmarkScale(b *testing.B) {
	bin := testkit.BuildOidcctl(b)
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, n := range sizes(b) {
			b.Run(fmt.Sprintf("%s/accounts=%d", backend, n), func(b *testing.B) {
				dir := b.TempDir()
				keyFile := filepath.Join(dir, crypt.KeyFileName)
				key, err := crypt.LoadKey(keyFile, true)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				var (
					conn string
					open func() (store, error)
				)
				if backend == "sqlite" {
					conn = filepath.Join(dir, "oidcctl.db")
					open = func() (store, error) { return db.Open(ctx, conn, key) }
				} else {
					conn = pgtest.URL(b)
					open = func() (store, error) { return postgres.Open(ctx, conn, key) }
				}
				s, err := open()
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				start := time.Now()
				seed(b, s, n, backend == "postgres")
				if backend == "postgres" {
					// As autovacuum would have by now: the planner gets
					// the statistics of the new rows.
					analyze(b, conn)
				}
				b.Logf("seeded %d accounts in %s", n, time.Since(start).Round(time.Millisecond))
				b.Run("scheduler-pass", func(b *testing.B) { benchPass(b, s) })
				b.Run("overview", func(b *testing.B) { benchOverview(b, s, n) })
				env := []string{"OIDCCTL_DB=" + conn, "OIDCCTL_KEY_FILE=" + keyFile, "HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "PATH=" + os.Getenv("PATH")}
				b.Run("token-list", func(b *testing.B) { benchTokenList(b, bin, env, n) })
				b.Run("first-frame", func(b *testing.B) {
					benchFirstFrame(b, bin, env, fmt.Sprintf("%d profiles · %d functional accounts", profiles(n), n))
				})
			})
		}
	}
}

func profiles(accounts int) int { return max(accounts/100, 1) }

// seed adds profiles(n) profiles and n client_credentials accounts, each
// with tokens that last a day: nothing is due within the hourly schedule.
func seed(b *testing.B, s store, n int, parallel bool) {
	ctx := context.Background()
	reg := core.Registry{Store: s}
	np := profiles(n)
	for i := range np {
		p := core.NewProfile(fmt.Sprintf("profile-%04d", i))
		p.DiscoveryURL = fmt.Sprintf("https://idp%d.example/realms/r%d/.well-known/openid-configuration", i%7, i)
		p.ClientID, p.ClientSecret, p.Scopes = fmt.Sprintf("client-%d", i), core.NewSecret("secret"), []string{"api"}
		if err := reg.AddProfile(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	workers := 1
	if parallel {
		workers = 4 // PostgreSQL takes writes from several connections
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				a := core.NewAccount(fmt.Sprintf("account-%06d", i), fmt.Sprintf("profile-%04d", i%np))
				a.Scopes = []string{"openid", "api"}
				if err := s.CreateAccount(ctx, a); err != nil {
					b.Error(err)
					return
				}
				set := core.TokenSet{
					AccessToken: core.NewSecret("at-" + a.Name), RefreshToken: core.NewSecret("rt-" + a.Name), TokenType: "Bearer",
					Expiry: now.Add(24 * time.Hour), RefreshExpiry: now.Add(30 * 24 * time.Hour), ObtainedAt: now, Scope: "openid api",
				}
				if err := s.SaveTokens(ctx, a.Name, "", set); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
}

func analyze(b *testing.B, conn string) {
	c, err := pgx.Connect(context.Background(), conn)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

// benchPass is one pass of the refresh scheduler that finds nothing due:
// from the scheduled time firing to the scheduler waiting for the next
// one (the run and the computation of its next wake-up).
func benchPass(b *testing.B, s store) {
	m := tokens.New(tokens.Config{
		Store: s, Discovery: &discovery.Client{Cache: s}, Grants: &grant.Client{},
		Owner: "bench", Logger: slog.New(slog.DiscardHandler),
	})
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	var renewed int
	sch := &tokens.Scheduler{
		Manager: m, Settings: s, Concurrency: 4, MinGap: time.Nanosecond,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return fire },
		Ran: func(out []tokens.Outcome) {
			for _, o := range out {
				if o.Verdict == tokens.Due || o.Verdict == tokens.Elsewhere {
					renewed++
				}
			}
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sch.Run(ctx) }()
	<-waits // the first run
	b.ReportAllocs()
	for b.Loop() {
		fire <- time.Now()
		<-waits
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if renewed != 0 {
		b.Fatalf("%d accounts renewed: the pass was not idle", renewed)
	}
}

// benchOverview is what the console's home screen reads of the store for
// its first frame: the counts of every account and the first page (60
// rows) of them. It reports each part's mean too, and that of a page at
// 90% of the accounts, as far down as scrolling goes.
func benchOverview(b *testing.B, s store, n int) {
	ctx := context.Background()
	const pageSize = 60
	var counting, paging time.Duration
	b.ReportAllocs()
	for b.Loop() {
		q := core.AccountQuery{Now: time.Now()}
		start := time.Now()
		c, err := s.CountAccounts(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		counting += time.Since(start)
		start = time.Now()
		page, err := s.TokenStatePage(ctx, q, 0, pageSize)
		if err != nil {
			b.Fatal(err)
		}
		paging += time.Since(start)
		if c.Total != n || c.States[core.StateValid] != n || len(c.Profiles) != profiles(n) {
			b.Fatalf("counts: %d in all, %d valid, %d profiles; want %d, %d, %d", c.Total, c.States[core.StateValid], len(c.Profiles), n, n, profiles(n))
		}
		if len(page) != min(pageSize, n) || page[0].Account != "account-000000" || !page[0].Tokens.AccessToken.IsSet() {
			b.Fatalf("first page: %d rows, the first %q", len(page), page[0].Account)
		}
	}
	b.StopTimer()
	const deepRuns = 5
	var deep time.Duration
	for range deepRuns {
		start := time.Now()
		page, err := s.TokenStatePage(ctx, core.AccountQuery{Now: time.Now()}, n*9/10, pageSize)
		if err != nil {
			b.Fatal(err)
		}
		deep += time.Since(start)
		if len(page) != min(pageSize, n-n*9/10) {
			b.Fatalf("deep page: %d rows", len(page))
		}
	}
	ms := func(d time.Duration, runs int) float64 { return float64(d) / float64(runs) / float64(time.Millisecond) }
	b.ReportMetric(ms(counting, b.N), "count-ms")
	b.ReportMetric(ms(paging, b.N), "first-page-ms")
	b.ReportMetric(ms(deep, deepRuns), "deep-page-ms")
}

// benchTokenList runs `oidcctl token list` and reports its peak RSS. The
// peak is measured by GNU time when it is installed: the rusage of a
// child that Go starts directly counts the benchmark's own memory too (the
// child starts on the parent's address space, and Linux keeps that peak
// across exec). Without it, /proc's VmHWM is read every millisecond
// while the command runs.
func benchTokenList(b *testing.B, bin string, env []string, n int) {
	gnuTime, _ := exec.LookPath("/usr/bin/time")
	rssFile := filepath.Join(b.TempDir(), "rss")
	var peak int64
	for b.Loop() {
		cmd := exec.Command(bin, "token", "list")
		if gnuTime != "" {
			cmd = exec.Command(gnuTime, "-f", "%M", "-o", rssFile, bin, "token", "list")
		}
		cmd.Env = env
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		polled := make(chan int64)
		stop := make(chan struct{})
		go func() {
			var hwm int64
			for {
				if gnuTime == "" {
					hwm = max(hwm, testkit.PeakRSS(strconv.Itoa(cmd.Process.Pid)))
				}
				select {
				case <-stop:
					polled <- hwm
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
		lines := countLines(out)
		err = cmd.Wait()
		close(stop)
		hwm := <-polled
		if err != nil {
			b.Fatalf("token list: %v\n%s", err, stderr.String())
		}
		if lines != n+1 {
			b.Fatalf("token list printed %d lines, want %d", lines, n+1)
		}
		if gnuTime != "" {
			b.StopTimer()
			data, err := os.ReadFile(rssFile)
			if err != nil {
				b.Fatal(err)
			}
			if hwm, err = strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err != nil {
				b.Fatalf("GNU time wrote %q", data)
			}
			b.StartTimer()
		}
		peak = max(peak, hwm)
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
}

func countLines(r io.Reader) int {
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := r.Read(buf)
		n += strings.Count(string(buf[:k]), "\n")
		if err != nil {
			return n
		}
	}
}

// benchFirstFrame starts the console in an 80×24 tmux pane and waits for
// the home screen to show want (the pane is polled every 2 ms). It
// reports the process's peak RSS.
func benchFirstFrame(b *testing.B, bin string, env []string, want string) {
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Fatal("tmux is not installed: install it with scripts/test-deps.sh (or apt-get install tmux)")
	}
	socket := fmt.Sprintf("oidcctl-scale-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) *exec.Cmd {
		return exec.Command("tmux", append([]string{"-L", socket}, args...)...)
	}
	// A session that outlives the measured ones keeps the server up.
	if out, err := tmux("-f", "/dev/null", "new-session", "-d", "-s", "keep", "--", "sleep", "3600").CombinedOutput(); err != nil {
		b.Fatalf("tmux: %v\n%s", err, out)
	}
	defer tmux("kill-server").Run()
	args := []string{"new-session", "-d", "-x", "80", "-y", "24"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	var peak int64
	for i := 0; b.Loop(); i++ {
		session := fmt.Sprintf("b%d", i)
		start := time.Now()
		if out, err := tmux(append(args, "-s", session, "--", bin)...).CombinedOutput(); err != nil {
			b.Fatalf("tmux: %v\n%s", err, out)
		}
		for {
			out, _ := tmux("capture-pane", "-p", "-t", session).Output()
			if strings.Contains(string(out), want) {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("no home screen after 30s (want %q):\n%s", want, out)
			}
			time.Sleep(2 * time.Millisecond)
		}
		b.StopTimer()
		pid, _ := tmux("display-message", "-p", "-t", session, "#{pane_pid}").Output()
		peak = max(peak, testkit.PeakRSS(strings.TrimSpace(string(pid))))
		tmux("kill-session", "-t", session).Run()
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
}
