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
	"oidcctl/internal/testkit"
)

// The helper process is this test binary run again with -test.run=
// TestHelperProcess and these variables set.
const (
	envHelper = "OIDCCTL_DB_TEST_HELPER" // "worker", "open", "lease", "config" or "watch"
	envPath   = "OIDCCTL_DB_TEST_PATH"
	envKey    = "OIDCCTL_DB_TEST_KEY" // base64 key material
	envWorker = "OIDCCTL_DB_TEST_WORKER"
	envN      = "OIDCCTL_DB_TEST_N"
	envGo     = "OIDCCTL_DB_TEST_GO" // a file to wait for before starting
)

const sharedProfile = "shared"

// TestHelperProcess is not a test: it is the body of the processes that
// TestTwoProcesses, TestTwoProcessesLease and TestConcurrentFreshOpen
// start, and of those of TestTwoProcessesConfigVersion. Run normally it
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

	switch mode {
	case "lease":
		return leaseWorker(ctx, d, worker, n)
	case "config":
		return configWorker(ctx, d, worker)
	case "watch":
		return watchWorker(ctx, d, os.Getenv(envGo)+"-ready-"+worker)
	}

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
	hs, goFile := startHelpers(t, mode, path, key, n, workers...)
	if err := os.WriteFile(goFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitHelpers(t, hs, workers...)
	return hs
}

// startHelpers starts one helper process per worker name on path; they
// wait until the returned file exists.
func startHelpers(t *testing.T, mode, path string, key []byte, n int, workers ...string) ([]*helper, string) {
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
		t.Cleanup(func() {
			if h.cmd.ProcessState == nil { // not waited for: the test failed early
				h.cmd.Process.Kill()
				h.cmd.Wait()
			}
		})
		hs = append(hs, h)
	}
	return hs, goFile
}

// waitHelpers waits for helper processes and fails the test for each that
// did not report errors=0.
func waitHelpers(t *testing.T, hs []*helper, workers ...string) {
	t.Helper()
	for i, h := range hs {
		err := h.cmd.Wait()
		if err != nil || !strings.Contains(h.stdout.String(), "errors=0") {
			t.Errorf("helper %s: %v\nstdout:\n%s\nstderr:\n%s", workers[i], err, h.stdout.String(), h.stderr.String())
		}
	}
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

// leaseAccount is the account whose refresh lease the "lease" helpers
// contend for. Its refresh token is a counter, "rt-<n>".
const leaseAccount = "leased"

// leaseWorker does n refreshes of leaseAccount as a token manager does:
// take the lease (retrying while the other process holds it), read the
// refresh token, "refresh" it to the next number and save it. It checks,
// just before saving, that nobody changed the token or took the lease
// since it was acquired. It prints how many leases it got, how often it
// was refused, and the numbers it wrote.
func leaseWorker(ctx context.Context, d *DB, worker string, n int) []error {
	owner := fmt.Sprintf("w%s:%d", worker, os.Getpid())
	var (
		errs    []error
		got     []string
		refused int
	)
	defer func() {
		fmt.Printf("leases=%d refused=%d got=%s\n", len(got), refused, strings.Join(got, ","))
	}()
	for len(got) < n && len(errs) < 10 {
		now := time.Now()
		st, ok, err := d.AcquireLease(ctx, leaseAccount, owner, now, now.Add(time.Minute))
		if err != nil {
			errs = append(errs, fmt.Errorf("acquire: %w", err))
			continue
		}
		if !ok {
			refused++
			if st.LeaseOwner == owner || st.LeaseOwner == "" {
				errs = append(errs, fmt.Errorf("refused, but the state says the lease is held by %q", st.LeaseOwner))
			}
			time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
			continue
		}
		read := st.Tokens.RefreshToken.Reveal()
		num, err := strconv.Atoi(strings.TrimPrefix(read, "rt-"))
		if err != nil || !strings.HasPrefix(read, "rt-") {
			errs = append(errs, fmt.Errorf("refresh token %q is not rt-<n>", read))
			continue
		}
		// Hold the lease a moment, as a refresh at the provider does, so
		// that a second holder, if there could be one, would overlap.
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
		cur, err := d.TokenState(ctx, leaseAccount)
		if err != nil {
			errs = append(errs, fmt.Errorf("read before save: %w", err))
			continue
		}
		if stored := cur.Tokens.RefreshToken.Reveal(); stored != read || cur.LeaseOwner != owner {
			errs = append(errs, fmt.Errorf("under our lease: read %s at acquire time, now %s stored and the lease held by %q", read, stored, cur.LeaseOwner))
		}
		next := strconv.Itoa(num + 1)
		set := core.TokenSet{
			AccessToken:  core.NewSecret("at-" + next),
			RefreshToken: core.NewSecret("rt-" + next),
			ObtainedAt:   time.Now(),
		}
		if err := d.SaveTokens(ctx, leaseAccount, owner, set); err != nil {
			errs = append(errs, fmt.Errorf("save rt-%s: %w", next, err))
			continue
		}
		got = append(got, next)
		// Pause between refreshes, as in helperMain.
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	}
	return errs
}

// TestTwoProcessesLease runs two real processes that each refresh one
// account's tokens n times under its lease, the refresh token being a
// counter. With at most one holder at a time and no lost update, the
// counter ends at the number of leases both got, and every number from 1
// to it was written exactly once.
func TestTwoProcessesLease(t *testing.T) {
	const n = 200
	ctx := context.Background()
	material, key := testKeyMaterial(t)
	path := filepath.Join(t.TempDir(), "db", FileName)
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateProfile(ctx, minimalProfile(sharedProfile)); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAccount(ctx, core.NewAccount(leaseAccount, sharedProfile)); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveTokens(ctx, leaseAccount, "", core.TokenSet{AccessToken: core.NewSecret("at-0"), RefreshToken: core.NewSecret("rt-0")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	hs := runHelpers(t, "lease", path, material, n, "1", "2")
	t.Logf("2 processes × %d leased refreshes: %v", n, time.Since(start))
	if t.Failed() {
		return
	}

	// Who wrote each number, from the helpers' reports.
	writer := map[int]int{}
	leases, refused := 0, 0
	for i, h := range hs {
		var l, r int
		var list string
		line := h.stdout.String()
		if k := strings.Index(line, "leases="); k >= 0 {
			line = line[k:]
		}
		if _, err := fmt.Sscanf(line, "leases=%d refused=%d got=%s", &l, &r, &list); err != nil {
			t.Fatalf("process %d: report %q: %v", i+1, h.stdout.String(), err)
		}
		t.Logf("process %d: %d leases, refused %d times", i+1, l, r)
		leases, refused = leases+l, refused+r
		prev := 0
		for _, s := range strings.Split(list, ",") {
			num, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("process %d: number %q", i+1, s)
			}
			if num <= prev {
				t.Errorf("process %d wrote %d after %d", i+1, num, prev)
			}
			prev = num
			if w, dup := writer[num]; dup {
				t.Errorf("rt-%d written by process %d and process %d: two holders at once", num, w, i+1)
			}
			writer[num] = i + 1
		}
		if l != n {
			t.Errorf("process %d: %d leases, want %d", i+1, l, n)
		}
	}

	d, err = Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := d.TokenState(ctx, leaseAccount)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Tokens.RefreshToken.Reveal(), fmt.Sprintf("rt-%d", leases); got != want {
		t.Errorf("counter: %s after %d leases, want %s: updates lost", got, leases, want)
	}
	if got, want := st.Tokens.AccessToken.Reveal(), fmt.Sprintf("at-%d", leases); got != want {
		t.Errorf("access token: %s, want %s", got, want)
	}
	if st.LeaseOwner != "" || !st.LeaseUntil.IsZero() || st.Failures != 0 {
		t.Errorf("at the end: lease %q until %v, %d failures; want released, none", st.LeaseOwner, st.LeaseUntil, st.Failures)
	}
	for num := 1; num <= leases; num++ {
		if _, ok := writer[num]; !ok {
			t.Errorf("rt-%d was never written", num)
		}
	}
	// Both processes contended and took turns, or the test proves little.
	switches := 0
	for num := 2; num <= leases; num++ {
		if writer[num] != writer[num-1] {
			switches++
		}
	}
	t.Logf("the processes took turns %d times; %d acquires were refused", switches, refused)
	if switches < 10 || refused == 0 {
		t.Errorf("took turns %d times, %d refusals: the processes did not contend for the lease", switches, refused)
	}
}

// configHelperWebservice is the webservice a "config" helper creates.
func configHelperWebservice(worker string) string { return "from-helper-" + worker }

// parentWebservice is the webservice TestTwoProcessesConfigVersion creates
// while a "watch" helper waits for it.
const parentWebservice = "from-parent"

// configWorker makes writes that are not configuration (tokens, a debug
// entry, a discovery document) and checks that they leave the version
// alone, then creates a webservice and prints the version it reads after.
func configWorker(ctx context.Context, d *DB, worker string) []error {
	v0, err := d.ConfigVersion(ctx)
	if err != nil {
		return []error{err}
	}
	if err := d.SaveTokens(ctx, leaseAccount, "", core.TokenSet{AccessToken: core.NewSecret("at-helper")}); err != nil {
		return []error{err}
	}
	if err := d.AddDebugEntries(ctx, []core.DebugEntry{{Direction: core.DirectionForwardAuth, Path: "/helper"}}); err != nil {
		return []error{err}
	}
	if err := d.CacheDiscovery(ctx, sharedProfile, core.CachedDocument{URL: "https://idp/", Body: []byte("{}"), FetchedAt: time.Now()}); err != nil {
		return []error{err}
	}
	var errs []error
	if v, err := d.ConfigVersion(ctx); err != nil || v != v0 {
		errs = append(errs, fmt.Errorf("after writes that are not configuration: version %d (%v), was %d", v, err, v0))
	}
	if err := d.CreateWebservice(ctx, providerWebservice(configHelperWebservice(worker), sharedProfile)); err != nil {
		return append(errs, err)
	}
	v, err := d.ConfigVersion(ctx)
	if err != nil {
		return append(errs, err)
	}
	if v <= v0 {
		errs = append(errs, fmt.Errorf("after creating a webservice: version %d, was %d", v, v0))
	}
	fmt.Printf("before=%d version=%d\n", v0, v)
	return errs
}

// watchWorker reads the version, says so by creating the file ready, and
// polls the version, on the handle it opened before, until it rises; the
// change must then be there to read. After each poll it writes how many
// it has done to the file ready+"-polls", so that the parent can tell
// when a poll began after a write of its own.
func watchWorker(ctx context.Context, d *DB, ready string) []error {
	v0, err := d.ConfigVersion(ctx)
	if err != nil {
		return []error{err}
	}
	if err := os.WriteFile(ready, nil, 0o600); err != nil {
		return []error{err}
	}
	begin := time.Now()
	for polls := 1; ; polls++ {
		v, err := d.ConfigVersion(ctx)
		if err != nil {
			return []error{err}
		}
		// Written aside and renamed, so that a reader never sees it half
		// written.
		if err := os.WriteFile(ready+"-polls.tmp", []byte(strconv.Itoa(polls)), 0o600); err != nil {
			return []error{err}
		}
		if err := os.Rename(ready+"-polls.tmp", ready+"-polls"); err != nil {
			return []error{err}
		}
		if v > v0 {
			if _, err := d.Webservice(ctx, parentWebservice); err != nil {
				return []error{fmt.Errorf("version rose to %d, but: %w", v, err)}
			}
			fmt.Printf("before=%d seen=%d polls=%d after=%v\n", v0, v, polls, time.Since(begin).Round(time.Millisecond))
			return nil
		}
		if time.Since(begin) > 20*time.Second {
			return []error{fmt.Errorf("version still %d after %v", v, time.Since(begin))}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTwoProcessesConfigVersion checks that a configuration change made by
// one process shows in another's ConfigVersion, each on a handle opened
// before the change, both ways: a helper process writes while this one
// has the database open, then this one writes while a helper polls.
func TestTwoProcessesConfigVersion(t *testing.T) {
	ctx := context.Background()
	material, key := testKeyMaterial(t)
	path := filepath.Join(t.TempDir(), "db", FileName)
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.CreateProfile(ctx, minimalProfile(sharedProfile)); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAccount(ctx, core.NewAccount(leaseAccount, sharedProfile)); err != nil {
		t.Fatal(err)
	}
	v0 := mustVersion(t, d)

	// Another process changes the configuration.
	hs := runHelpers(t, "config", path, material, 0, "1")
	if t.Failed() {
		return
	}
	var before, reported int64
	if _, err := fmt.Sscanf(hs[0].stdout.String(), "before=%d version=%d", &before, &reported); err != nil {
		t.Fatalf("helper report %q: %v", hs[0].stdout.String(), err)
	}
	if before != v0 {
		t.Errorf("the helper read version %d before its writes, this process %d", before, v0)
	}
	if v := mustVersion(t, d); v != reported || v <= v0 {
		t.Errorf("version here after the helper's change: %d; it read %d, and before it was %d", v, reported, v0)
	}
	if _, err := d.Webservice(ctx, configHelperWebservice("1")); err != nil {
		t.Errorf("the helper's webservice: %v", err)
	}
	if es, err := d.DebugEntries(ctx, core.DebugFilter{}); err != nil || len(es) != 1 || es[0].Path != "/helper" {
		t.Errorf("the helper's debug entry: %+v, %v", es, err)
	}

	// This process changes it while another watches.
	hs, goFile := startHelpers(t, "watch", path, material, 0, "w")
	if err := os.WriteFile(goFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ready := goFile + "-ready-w"
	testkit.Eventually(t, 20*time.Second, "the watching helper to get ready", func() bool {
		_, err := os.Stat(ready)
		return err == nil
	})
	// A non-configuration write first: the watcher must not stop on it
	// (it would then not find the webservice and fail).
	if err := d.SaveTokens(ctx, leaseAccount, "", core.TokenSet{AccessToken: core.NewSecret("at-parent")}); err != nil {
		t.Fatal(err)
	}
	// The poll after the one under way when the save ended began after
	// it: once it is done, the watcher has seen the save.
	polls := func() int {
		b, _ := os.ReadFile(ready + "-polls")
		n, _ := strconv.Atoi(string(b))
		return n
	}
	sawSave := polls() + 2
	testkit.Eventually(t, 20*time.Second, "the watcher to poll after the token write", func() bool {
		return polls() >= sawSave
	})
	if err := d.CreateWebservice(ctx, providerWebservice(parentWebservice, sharedProfile)); err != nil {
		t.Fatal(err)
	}
	waitHelpers(t, hs, "w")
	t.Logf("watcher: %s", strings.TrimSpace(hs[0].stdout.String()))
}
