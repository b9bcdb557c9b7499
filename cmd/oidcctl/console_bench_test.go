package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db"
	"oidcctl/internal/testkit"
	"oidcctl/tui"
)

// benchDBs are databases with profiles and accounts, made once per size.
var benchDBs = struct {
	sync.Mutex
	paths map[string]string
}{paths: map[string]string{}}

func seededDB(b *testing.B, profiles, accounts int) string {
	b.Helper()
	benchDBs.Lock()
	defer benchDBs.Unlock()
	name := fmt.Sprintf("%d-%d", profiles, accounts)
	if p, ok := benchDBs.paths[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "oidcctl-bench-")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "oidcctl.db")
	ctx := context.Background()
	key, err := crypt.LoadKey(filepath.Join(dir, "oidcctl.key"), true)
	if err != nil {
		b.Fatal(err)
	}
	store, err := db.Open(ctx, path, key)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	reg := core.Registry{Store: store}
	for i := range profiles {
		p := core.NewProfile(fmt.Sprintf("profile-%03d", i))
		p.DiscoveryURL = fmt.Sprintf("https://idp%d.example/realms/r%d/.well-known/openid-configuration", i%7, i)
		p.ClientID = fmt.Sprintf("client-%d", i)
		p.ClientSecret = core.NewSecret("secret")
		p.Scopes = []string{"api"}
		if err := reg.AddProfile(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	for i := range accounts {
		a := core.NewAccount(fmt.Sprintf("account-%04d", i), fmt.Sprintf("profile-%03d", i%profiles))
		a.Scopes = []string{"openid", "api"}
		if err := reg.AddAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
		if i%3 == 0 {
			if err := store.SaveTokens(ctx, a.Name, "", core.TokenSet{AccessToken: core.NewSecret("token-" + a.Name), Expiry: time.Now().Add(time.Hour)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchDBs.paths[name] = path
	benchCleanup = append(benchCleanup, dir) // removed by TestMain
	return path
}

// benchCleanup are the directories of the seeded databases, kept across
// benchmarks and removed when the test binary ends.
var benchCleanup []string

// BenchmarkConsoleFirstFrame is the time from opening the database to the
// first frame that shows what it holds: what `oidcctl` does before the
// person sees the home screen, without the terminal. The empty database is
// the baseline.
func BenchmarkConsoleFirstFrame(b *testing.B) {
	for _, size := range [][2]int{{0, 0}, {500, 5000}} {
		b.Run(fmt.Sprintf("profiles=%d/accounts=%d", size[0], size[1]), func(b *testing.B) {
			var path string
			if size[0] > 0 {
				path = seededDB(b, size[0], size[1])
			} else {
				path = filepath.Join(b.TempDir(), "oidcctl.db")
			}
			want := "No profile yet."
			if size[0] > 0 {
				want = fmt.Sprintf("%d profiles · %d functional accounts", size[0], size[1])
			}
			b.ReportAllocs()
			for b.Loop() {
				frame := firstFrame(b, path)
				if !strings.Contains(frame, want) {
					b.Fatalf("first frame lacks %q:\n%s", want, frame)
				}
			}
		})
	}
}

// firstFrame opens the database as oidcctl does, builds the console and
// renders the home screen once its data is in.
func firstFrame(b *testing.B, path string) string {
	a := &app{env: env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string {
		if k == "OIDCCTL_DB" {
			return path
		}
		return ""
	}}, log: slog.New(slog.DiscardHandler)}
	reg, err := a.open(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer a.store.Close()
	d := a.consoleDeps(reg)
	m := tui.New(tui.Options{Getenv: a.getenv, Styles: &d.Styles}, consoleScreens(d)...)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(m.Init()()) // the home screen's load, run as the program would
	return m.View().Content
}

// BenchmarkConsoleBinaryFirstFrame starts the oidcctl binary in an 80×24
// tmux pane and waits for the home screen: the time a person waits,
// process start and terminal set-up included (the pane is polled every
// 2 ms). It reports the process's peak RSS too. The empty database is the
// baseline for 500 profiles and 5,000 accounts.
func BenchmarkConsoleBinaryFirstFrame(b *testing.B) {
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Fatal("tmux is not installed: install it with scripts/test-deps.sh (or apt-get install tmux)")
	}
	oidcctl := testkit.BuildOidcctl(b)
	socket := fmt.Sprintf("oidcctl-bench-%d-%d", os.Getpid(), time.Now().UnixNano())
	// A session that outlives the measured ones keeps the server up: a
	// server that exits with its last session races the next new-session.
	if out, err := exec.Command("tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "keep", "--", "sleep", "3600").CombinedOutput(); err != nil {
		b.Fatalf("tmux: %v\n%s", err, out)
	}
	defer exec.Command("tmux", "-L", socket, "kill-server").Run()
	for _, size := range [][2]int{{0, 0}, {500, 5000}} {
		b.Run(fmt.Sprintf("profiles=%d/accounts=%d", size[0], size[1]), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "oidcctl.db")
			want := "No profile yet."
			if size[0] > 0 {
				path = seededDB(b, size[0], size[1])
				want = fmt.Sprintf("%d profiles · %d functional accounts", size[0], size[1])
			}
			var peak int64
			for i := 0; b.Loop(); i++ {
				session := fmt.Sprintf("b%d", i)
				start := time.Now()
				if out, err := exec.Command("tmux", "-L", socket, "new-session", "-d", "-x", "80", "-y", "24", "-s", session,
					"--", oidcctl, "--db", path).CombinedOutput(); err != nil {
					b.Fatalf("tmux: %v\n%s", err, out)
				}
				for {
					out, _ := exec.Command("tmux", "-L", socket, "capture-pane", "-p", "-t", session).Output()
					if strings.Contains(string(out), want) {
						break
					}
					if time.Since(start) > 10*time.Second {
						b.Fatalf("no home screen after 10s:\n%s", out)
					}
					time.Sleep(2 * time.Millisecond)
				}
				b.StopTimer()
				pid, _ := exec.Command("tmux", "-L", socket, "display-message", "-p", "-t", session, "#{pane_pid}").Output()
				if hwm := testkit.PeakRSS(strings.TrimSpace(string(pid))); hwm > peak {
					peak = hwm
				}
				exec.Command("tmux", "-L", socket, "kill-session", "-t", session).Run()
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
		})
	}
}
