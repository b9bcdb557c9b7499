package db

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
)

// The helper process is this test binary run again with -test.run=
// TestHelperProcess and these variables set.
const (
	envHelper = "OIDCCTL_DB_TEST_HELPER" // "worker" or "open"
	envPath   = "OIDCCTL_DB_TEST_PATH"
	envKey    = "OIDCCTL_DB_TEST_KEY" // base64 key material
	envWorker = "OIDCCTL_DB_TEST_WORKER"
	envN      = "OIDCCTL_DB_TEST_N"
	envGo     = "OIDCCTL_DB_TEST_GO" // a file to wait for before starting
)

const sharedProfile = "shared"

// TestHelperProcess is not a test: it is the body of the processes that
// TestTwoProcesses and TestConcurrentFreshOpen start. Run normally it
// returns at once.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		return
	}
	errs := helperMain(mode)
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	fmt.Printf("errors=%d\n", len(errs))
	if len(errs) > 0 {
		os.Exit(1)
	}
	os.Exit(0)
}

// helperMain does a helper process's work, with no retries: every error
// counts.
func helperMain(mode string) []error {
	ctx := context.Background()
	material, err := base64.StdEncoding.DecodeString(os.Getenv(envKey))
	if err != nil {
		return []error{err}
	}
	key, err := crypt.NewKey(material, "helper key")
	if err != nil {
		return []error{err}
	}
	worker := os.Getenv(envWorker)
	n, _ := strconv.Atoi(os.Getenv(envN))

	// Wait for the starting signal, so that the processes open the new
	// database at the same moment.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(os.Getenv(envGo)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return []error{errors.New("no starting signal")}
		}
	}

	d, err := Open(ctx, os.Getenv(envPath), key)
	if err != nil {
		return []error{err}
	}
	defer d.Close()

	// Both create the shared profile; exactly one succeeds, the other finds
	// it there. Neither is an error.
	p := minimalProfile(sharedProfile)
	if mode == "open" {
		p = minimalProfile("p-" + worker)
	}
	if err := d.CreateProfile(ctx, p); err != nil && !errors.Is(err, core.ErrExists) {
		return []error{err}
	}
	if mode == "open" {
		return nil
	}

	var (
		errs    []error
		slowest time.Duration
		begin   = time.Now()
	)
	defer func() {
		fmt.Printf("ran=%v slowest=%v\n", time.Since(begin).Round(time.Millisecond), slowest.Round(time.Millisecond))
	}()
	for i := range n {
		opStart := time.Now()
		name := fmt.Sprintf("w%s-%03d", worker, i)
		if err := d.CreateAccount(ctx, core.NewAccount(name, sharedProfile)); err != nil {
			errs = append(errs, fmt.Errorf("create %s: %w", name, err))
		}
		// Read-modify-write: a lost update would lose an audience.
		_, err := d.UpdateProfile(ctx, sharedProfile, func(p *core.Profile) error {
			p.Restrictions.Audiences = append(p.Restrictions.Audiences, name)
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("update for %s: %w", name, err))
		}
		slowest = max(slowest, time.Since(opStart))
		// Pause as a real process does between operations. Without it the
		// process that holds the write lock takes it again at once and the
		// other waits in SQLite's busy handler until the first is done:
		// serialized, but not concurrent.
		time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
	}
	return errs
}

// helper is a started helper process.
type helper struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// runHelpers starts one helper process per worker name on path, lets them
// go at once and waits for them.
func runHelpers(t *testing.T, mode, path string, key []byte, n int, workers ...string) []*helper {
	t.Helper()
	goFile := filepath.Join(t.TempDir(), "go")
	var hs []*helper
	for _, w := range workers {
		h := &helper{cmd: exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")}
		h.cmd.Env = append(os.Environ(),
			envHelper+"="+mode,
			envPath+"="+path,
			envKey+"="+base64.StdEncoding.EncodeToString(key),
			envWorker+"="+w,
			envN+"="+strconv.Itoa(n),
			envGo+"="+goFile,
		)
		h.cmd.Stdout, h.cmd.Stderr = &h.stdout, &h.stderr
		if err := h.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	if err := os.WriteFile(goFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		err := h.cmd.Wait()
		if err != nil || !strings.Contains(h.stdout.String(), "errors=0") {
			t.Errorf("helper %s: %v\nstdout:\n%s\nstderr:\n%s", workers[i], err, h.stdout.String(), h.stderr.String())
		}
	}
	return hs
}

func testKeyMaterial(t *testing.T) ([]byte, *crypt.Key) {
	t.Helper()
	material := bytes.Repeat([]byte{0x5a}, 32)
	key, err := crypt.NewKey(material, "helper key")
	if err != nil {
		t.Fatal(err)
	}
	return material, key
}

// TestTwoProcesses runs two real processes against one new database: both
// open it at once, each creates n accounts and appends n times to a list
// in the shared profile through UpdateProfile. No call may fail and no
// update may be lost.
func TestTwoProcesses(t *testing.T) {
	const n = 200
	material, key := testKeyMaterial(t)
	path := filepath.Join(t.TempDir(), "db", FileName)
	start := time.Now()
	hs := runHelpers(t, "worker", path, material, n, "1", "2")
	for i, h := range hs {
		t.Logf("process %d: %s", i+1, strings.TrimSpace(h.stdout.String()))
	}
	t.Logf("2 processes × (%d creates + %d updates): %v", n, n, time.Since(start))
	if t.Failed() {
		return
	}

	d, err := Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	accounts, err := d.Accounts(context.Background(), sharedProfile)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, w := range []string{"1", "2"} {
		for i := range n {
			want = append(want, fmt.Sprintf("w%s-%03d", w, i))
		}
	}
	var got []string
	for _, a := range accounts {
		got = append(got, a.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("accounts: got %d, want %d (all of both processes)", len(got), len(want))
	}

	p, err := d.Profile(context.Background(), sharedProfile)
	if err != nil {
		t.Fatal(err)
	}
	auds := p.Restrictions.Audiences
	if len(auds) != 2*n {
		t.Errorf("updates: %d audiences, want %d: %d updates lost", len(auds), 2*n, 2*n-len(auds))
	}
	if !slices.Equal(slices.Sorted(slices.Values(auds)), want) {
		t.Error("audiences are not each update exactly once")
	}
	// Each process's own updates are in its order.
	for _, w := range []string{"w1-", "w2-"} {
		var mine []string
		for _, a := range auds {
			if strings.HasPrefix(a, w) {
				mine = append(mine, a)
			}
		}
		if !slices.IsSorted(mine) {
			t.Errorf("updates of %s out of order", w)
		}
	}
	// Both worked at the same time: their updates interleave.
	switches := 0
	for i := 1; i < len(auds); i++ {
		if auds[i][:3] != auds[i-1][:3] {
			switches++
		}
	}
	t.Logf("the two processes took turns %d times", switches)
	if switches < 10 {
		t.Errorf("the processes took turns only %d times: they did not write concurrently, so the test proves little", switches)
	}
}

// TestConcurrentFreshOpenInProcess opens new databases from several
// goroutines at once, each with its own *DB: SQLite locks between
// connections of one process as between processes, and this is fast enough
// to run many rounds. Before Open retried SQLITE_BUSY, about one open in 150
// lost the race to switch the new file to WAL.
func TestConcurrentFreshOpenInProcess(t *testing.T) {
	_, key := testKeyMaterial(t)
	const rounds, openers = 50, 6
	failures := 0
	for round := range rounds {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("round%d", round), FileName)
		errs := make([]error, openers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range openers {
			wg.Go(func() {
				<-start
				d, err := Open(context.Background(), path, key)
				if err == nil {
					err = d.CreateProfile(context.Background(), minimalProfile(fmt.Sprint("p", i)))
					if cerr := d.Close(); err == nil {
						err = cerr
					}
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				failures++
				t.Errorf("round %d: %v", round, err)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d concurrent opens failed", failures, rounds*openers)
	}
}

// TestConcurrentFreshOpen starts four processes that open one new database
// at the same moment, a few times over: all must succeed, and the schema
// must be migrated once.
func TestConcurrentFreshOpen(t *testing.T) {
	material, key := testKeyMaterial(t)
	for round := range 3 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("round%d", round), FileName)
		runHelpers(t, "open", path, material, 0, "a", "b", "c", "d")
		if t.Failed() {
			return
		}
		d, err := Open(context.Background(), path, key)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := d.Profiles(context.Background())
		if err != nil || len(ps) != 4 {
			t.Errorf("round %d: %d profiles, %v; want 4", round, len(ps), err)
		}
		var versions, checks int
		if err := d.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil {
			t.Fatal(err)
		}
		if err := d.db.QueryRow(`SELECT count(*) FROM meta`).Scan(&checks); err != nil {
			t.Fatal(err)
		}
		if ms, _ := loadMigrations(); versions != len(ms) || checks != 1 {
			t.Errorf("round %d: %d migration rows, %d key checks; want %d and 1", round, versions, checks, len(ms))
		}
		d.Close()
	}
}
