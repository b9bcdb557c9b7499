package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/core"
	"oidcctl/core/oidctest"
	"oidcctl/db/pgtest"
	"oidcctl/internal/testkit"
)

// forwarded is a token middleware for the provider that records the
// refresh tokens that reach it, answers 20 ms late (a provider under load:
// one instance alone takes longer over the due accounts than the three
// need to start their runs), and, while hold is set, holds the refresh of
// one refresh token until its client goes away, without passing it on.
type forwarded struct {
	mu       sync.Mutex
	tokens   []string
	hold     atomic.Pointer[string]
	arrived  chan struct{}
	holdOnce sync.Once
}

func (f *forwarded) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		rt := form.Get("refresh_token")
		if h := f.hold.Load(); h != nil && rt != "" && rt == *h {
			f.holdOnce.Do(func() { close(f.arrived) })
			<-r.Context().Done() // until the instance that sent it dies
			return
		}
		time.Sleep(20 * time.Millisecond)
		if rt != "" {
			f.mu.Lock()
			f.tokens = append(f.tokens, rt)
			f.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// refreshes returns the refresh tokens that reached the provider, and
// fails t when one reached it twice.
func (f *forwarded) refreshes(t *testing.T) []string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	for _, rt := range f.tokens {
		if seen[rt] {
			t.Fatalf("a refresh token reached the provider twice (of %d refreshes)", len(f.tokens))
		}
		seen[rt] = true
	}
	return append([]string(nil), f.tokens...)
}

// instance is one `oidcctl serve` process.
type instance struct {
	cmd    *exec.Cmd
	stderr lockedBuffer
	done   chan struct{}
}

// TestThreeServeInstancesShareTheRenewals: three `oidcctl serve`
// processes on one PostgreSQL database, with the in-process provider
// issuing rotating refresh tokens. `serve status` lists the three with
// their host and pid. 200 accounts fall due at once and all three run:
// each account is renewed exactly once, no refresh token reaches the
// provider twice, and every instance renewed a share. Then one instance
// is killed with SIGKILL in the middle of renewing an account; the others
// leave the account alone while its lease holds, and one of them takes it
// over once the lease has ended, with the refresh token the dead one never
// got an answer for, sent once.
func TestThreeServeInstancesShareTheRenewals(t *testing.T) {
	bin, _ := buildBinaries(t)
	start := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	op := oidctest.Start(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
	fw := &forwarded{arrived: make(chan struct{})}
	op.SetTokenMiddleware(fw.middleware)
	conn := pgtest.URL(t)
	c, store := pgCLI(t, conn, op)

	ctx := context.Background()
	reg := core.Registry{Store: store}
	const due = 200
	names := make([]string, due)
	for i := range due {
		names[i] = fmt.Sprintf("svc-%03d", i)
	}
	for _, name := range append(names, "victim") {
		a := core.NewAccount(name, "web")
		a.GrantType, a.Scopes = core.GrantPassword, []string{"offline_access"}
		a.Username, a.Password = op.Username(), core.NewSecret(oidctest.Password)
		if err := reg.AddAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	c.ok("token", "refresh", "--due", "--concurrency", "16") // the first tokens of every account
	c.ok("config", "set", "refresh.schedule", "0 0 1 1 *")   // a run at the start, then only when the schedule changes
	phase("accounts made")

	env := os.Environ()
	for k, v := range c.env {
		env = append(env, k+"="+v)
	}
	instances := make([]*instance, 3)
	byPID := map[int]int{}
	for i := range instances {
		in := &instance{done: make(chan struct{})}
		in.cmd = exec.Command(bin, "serve", "--listen", freeAddr(t), "--reload-interval", "1s")
		in.cmd.Env = env
		in.cmd.Stderr = &in.stderr
		if err := in.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { in.cmd.Wait(); close(in.done) }()
		t.Cleanup(func() {
			in.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-in.done:
			case <-time.After(20 * time.Second):
				in.cmd.Process.Kill()
				<-in.done
			}
			if t.Failed() {
				t.Logf("instance %d (pid %d):\n%s", i, in.cmd.Process.Pid, in.stderr.String())
			}
		})
		instances[i] = in
		byPID[in.cmd.Process.Pid] = i
	}

	// Every instance runs and has made its first (empty) refresh run:
	// `serve status` says so at its next heartbeat, when the scheduler's
	// floor between two runs has passed too.
	host, _ := os.Hostname()
	testkit.Eventually(t, 30*time.Second, "three instances in serve status, each after its first refresh run", func() bool {
		for i, in := range instances {
			select {
			case <-in.done:
				t.Fatalf("instance %d ended:\n%s", i, in.stderr.String())
			default:
			}
		}
		r := c.run("", "serve", "status", "-o", "json")
		var st []serveStatusJSON
		if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &st) != nil {
			return false
		}
		n := 0
		for _, s := range st {
			if _, ours := byPID[s.PID]; ours && s.Host == host && s.Running && s.LastRefreshRun != nil {
				n++
			}
		}
		return n == len(instances)
	})
	phase("three instances run")
	if out := c.ok("serve", "status"); strings.Count(out, "running") != len(instances) || !strings.Contains(out, host) {
		t.Fatalf("serve status:\n%s", out)
	}

	// 200 accounts fall due; a new schedule reaches every instance at
	// once (LISTEN/NOTIFY), and each runs.
	before := map[string]core.TokenState{}
	for _, name := range names {
		before[name] = dueSoon(t, store, name)
	}
	c.ok("config", "set", "refresh.schedule", "0 0 2 1 *")
	testkit.Eventually(t, 30*time.Second, "every due account renewed", func() bool {
		sts, err := store.TokenStates(ctx)
		if err != nil {
			return false
		}
		n := 0
		for _, st := range sts {
			if b, ok := before[st.Account]; ok && st.LastSuccess.After(b.LastSuccess) {
				n++
			}
		}
		return n == due
	})
	rts := fw.refreshes(t)
	if len(rts) != due {
		t.Fatalf("%d refreshes for %d due accounts, want one each", len(rts), due)
	}
	for _, name := range names {
		found := false
		for _, rt := range rts {
			found = found || rt == before[name].Tokens.RefreshToken.Reveal()
		}
		if !found {
			t.Fatalf("%s was not renewed with its stored refresh token", name)
		}
	}
	share := make([]int, len(instances))
	for i, in := range instances {
		share[i] = strings.Count(in.stderr.String(), `"msg":"tokens renewed"`)
	}
	phase(fmt.Sprintf("renewed per instance: %v", share))
	if share[0]+share[1]+share[2] != due || share[0] == 0 || share[1] == 0 || share[2] == 0 {
		t.Fatalf("renewals per instance %v: want every instance to renew a share, %d in all", share, due)
	}

	// kill -9 in the middle of a renewal.
	victim := dueSoon(t, store, "victim")
	rt := victim.Tokens.RefreshToken.Reveal()
	fw.hold.Store(&rt)
	c.ok("config", "set", "refresh.schedule", "0 0 3 1 *")
	select {
	case <-fw.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("no instance started to renew the victim")
	}
	st, err := store.TokenState(ctx, "victim")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(st.LeaseOwner, ":")
	pid, _ := strconv.Atoi(parts[len(parts)-2])
	k, ok := byPID[pid]
	if len(parts) < 3 || !ok {
		t.Fatalf("the victim's lease is held by %q, not by one of the instances %v", st.LeaseOwner, byPID)
	}
	killed := instances[k]
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.done
	fw.hold.Store(nil)
	phase(fmt.Sprintf("killed instance %d in the middle of renewing the victim", k))
	// The lease outlives the dead instance: the others cannot take it.
	if st, err := store.TokenState(ctx, "victim"); err != nil || st.LeaseOwner != strings.Join(parts, ":") || st.LastSuccess.After(victim.LastSuccess) {
		t.Fatalf("victim after the kill: lease %q, renewed %v, %v", st.LeaseOwner, st.LastSuccess.After(victim.LastSuccess), err)
	}
	// It lasts six minutes (the renewal's deadline and a minute); rather
	// than wait, the test ends it in the database, and the survivors' next
	// run takes the account over. (That a run leaves the account alone
	// while the lease holds, and wakes when it ends, is
	// TestSchedulerTakesOverAfterTheLeaseEnds in core/tokens.)
	pg, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	if _, err := pg.Exec(ctx, `UPDATE tokens SET lease_until = $1 WHERE account_id = (SELECT id FROM accounts WHERE name = 'victim')`,
		time.Now().Add(-time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	c.ok("config", "set", "refresh.schedule", "0 0 4 1 *")
	testkit.Eventually(t, 30*time.Second, "the victim taken over", func() bool {
		st, err := store.TokenState(ctx, "victim")
		return err == nil && st.LastSuccess.After(victim.LastSuccess) && st.LeaseOwner == ""
	})
	phase("victim taken over")
	rts = fw.refreshes(t)
	if len(rts) != due+1 || rts[due] != rt {
		t.Fatalf("%d refreshes, want %d: the takeover's with the refresh token the dead instance held", len(rts), due+1)
	}
}
