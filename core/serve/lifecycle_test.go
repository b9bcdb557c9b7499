package serve_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/serve"
	"oidcctl/core/tokens"
	"oidcctl/internal/testkit"
)

// A webservice added after the start is served without a restart, by the
// change counter alone (no Reload call).
func TestReloadPicksUpChanges(t *testing.T) {
	h := start(t)
	tok := h.serviceToken("openid")
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("v1")) })
	if r := h.do("GET", "/ws/late/x", tok, nil); r.status != 404 {
		t.Fatalf("before: %d", r.status)
	}
	w := provider("late", "/x", up.url, "GET")
	must(t, w.Validate())
	must(t, h.store.CreateWebservice(context.Background(), w))
	testkit.Eventually(t, 10*time.Second, "the new webservice", func() bool { return h.do("GET", "/ws/late/x", tok, nil).status == 200 })

	up2 := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("v2")) })
	_, err := h.store.UpdateWebservice(context.Background(), "late", func(w *core.Webservice) error {
		w.Upstream, w.Methods = up2.url, []string{"GET", "PUT"}
		return nil
	})
	must(t, err)
	testkit.Eventually(t, 10*time.Second, "the changed upstream", func() bool { return h.do("GET", "/ws/late/x", tok, nil).body == "v2" })
	must(t, h.store.DeleteWebservice(context.Background(), "late"))
	testkit.Eventually(t, 10*time.Second, "the removal", func() bool { return h.do("GET", "/ws/late/x", tok, nil).status == 404 })

	// A profile's restriction, changed in the console, holds at once.
	_, err = core.Registry{Store: h.store}.EditProfile(context.Background(), "op", func(p *core.Profile) error {
		p.Restrictions.Scopes = []string{"nope"}
		return nil
	})
	must(t, err)
	testkit.Eventually(t, 10*time.Second, "the new restriction", func() bool { return h.do("GET", "/auth", tok, nil).status == 403 })
}

// Requests in flight finish when the server stops; new ones are not
// taken.
func TestGracefulShutdown(t *testing.T) {
	h := start(t)
	tok := h.serviceToken("openid")
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	var releaseOnce sync.Once
	let := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(let)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release // answers only once the server is draining
		w.Write([]byte("slow answer"))
	})
	h.addWebservice(provider("slow", "/", up.url, "GET"))
	type result struct {
		r   response
		err error
	}
	done := make(chan result, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("GET", h.base+"/ws/slow/", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			done <- result{r: response{status: resp.StatusCode, body: string(b)}, err: err}
		}()
	}
	<-arrived
	<-arrived
	stopped := make(chan error, 1)
	go func() { stopped <- h.shutdown() }()
	testkit.Eventually(t, 10*time.Second, "the drain to begin", func() bool {
		return strings.Contains(h.logs.String(), "draining requests in flight")
	})
	let()
	for range 2 {
		res := <-done
		if res.err != nil || res.r.status != 200 || res.r.body != "slow answer" {
			t.Fatalf("request in flight: %v %+v", res.err, res.r)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(h.base, "http://"), time.Second); err == nil {
		t.Fatal("the server still takes connections after stopping")
	}
	// The debugger's queue was written before Run returned.
	es, err := h.store.DebugEntries(context.Background(), core.DebugFilter{Webservice: "slow"})
	must(t, err)
	if len(es) != 2 {
		t.Fatalf("%d entries of the drained calls, want 2", len(es))
	}
	if !strings.Contains(h.logs.String(), "draining requests in flight") {
		t.Fatal("no log of the drain")
	}
}

// The shutdown timeout cuts requests that take longer.
func TestShutdownTimeout(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.Timeouts.Shutdown = 200 * time.Millisecond })
	tok := h.serviceToken("openid")
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	})
	defer close(release)
	h.addWebservice(provider("stuck", "/", up.url, "GET"))
	go func() {
		req, _ := http.NewRequest("GET", h.base+"/ws/stuck/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-arrived
	start := time.Now()
	if err := h.shutdown(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopping took %v with a 200ms shutdown timeout", d)
	}
	if !strings.Contains(h.logs.String(), "shutdown timeout") {
		t.Fatal("the cut was not logged")
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	h := startWith(t, func(h *harness) {
		// An account with tokens, for the expiry metric.
		_, err := tokens.New(tokens.Config{Store: h.store, Discovery: discoveryOf(h), Grants: grantsOf(), Owner: "x"}).Token(context.Background(), "billing")
		must(t, err)
	})
	tok := h.serviceToken("openid")
	if r := h.do("GET", "/healthz", "", nil); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	testkit.Eventually(t, 10*time.Second, "ready", func() bool { return h.do("GET", "/readyz", "", nil).status == 200 })
	r := h.do("GET", "/readyz", "", nil)
	checks := r.json(t)["checks"].(map[string]any)
	if checks["database"] != "ok" || checks["jwks:op"] != "ok" {
		t.Fatalf("readyz: %s", r.body)
	}

	// A webservice whose provider cannot be reached makes serve not ready.
	p := core.NewProfile("dead")
	p.DiscoveryURL, p.ClientID = "http://"+freeAddr(t)+"/.well-known/openid-configuration", "x"
	must(t, core.Registry{Store: h.store}.AddProfile(context.Background(), p))
	w := provider("deadws", "/", "http://127.0.0.1:1", "GET")
	w.Profile = "dead"
	h.addWebservice(w)
	testkit.Eventually(t, 10*time.Second, "not ready", func() bool {
		r := h.do("GET", "/readyz", "", nil)
		return r.status == 503 && strings.Contains(r.body, `"jwks:dead":"not fetched`)
	})

	h.do("GET", "/auth", tok, nil)
	h.do("GET", "/auth", "bad", nil)
	h.do("GET", "/nowhere", "", nil)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	h.addWebservice(requester("out", "billing", up.url, "/", "POST"))
	h.op.FailTokenRequests(http.StatusBadGateway)
	h.clock.Add(24 * time.Hour)
	h.do("POST", "/invoke/out", "", nil)
	h.clock.Add(-24 * time.Hour)
	h.op.FailTokenRequests(0)

	metrics := h.do("GET", "/metrics", "", nil).body
	for _, want := range []string{
		`oidcctl_requests_total{outcome="accepted",webservice="forward-auth"} 1`,
		`oidcctl_requests_total{outcome="refused",webservice="forward-auth"} 1`,
		`oidcctl_requests_total{outcome="not_found",webservice=""} 1`,
		`oidcctl_requests_total{outcome="no_token",webservice="out"} 1`,
		`oidcctl_validation_duration_seconds_bucket{profile="op",le="+Inf"} 2`,
		`oidcctl_token_refreshes_total{account="billing",grant="obtain",result="failure"} 1`,
		`oidcctl_token_expiry_timestamp_seconds{account="billing"}`,
		`oidcctl_config_reloads_total{result="success"}`,
		`oidcctl_requests_in_flight`,
		`process_resident_memory_bytes`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(metrics)
	}
}

// The refresh scheduler runs inside serve with the schedule from the
// database.
func TestSchedulerRunsInside(t *testing.T) {
	h := startWith(t, func(h *harness) {
		must(t, h.store.SetSetting(context.Background(), tokens.SettingSchedule, "*/10 * * * *"))
		must(t, h.store.SetSetting(context.Background(), tokens.SettingInterval, "600"))
	}, func(c *serveConfig) { c.NoScheduler = false })
	testkit.Eventually(t, 10*time.Second, "the first run", func() bool {
		st, err := h.store.TokenState(context.Background(), "billing")
		return err == nil && st.Tokens.AccessToken.IsSet()
	})
	testkit.Eventually(t, 10*time.Second, "the metric", func() bool {
		return strings.Contains(h.do("GET", "/metrics", "", nil).body, `oidcctl_token_refreshes_total{account="billing",grant="obtain",result="success"} 1`)
	})
}

// READY=1, WATCHDOG=1 and STOPPING=1 reach systemd's notify socket.
func TestSystemdNotify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	must(t, err)
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "200000")
	var mu sync.Mutex
	var got []string
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, string(buf[:n]))
			mu.Unlock()
		}
	}()
	seen := func(prefix string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got {
			if strings.HasPrefix(m, prefix) {
				return true
			}
		}
		return false
	}
	h := start(t)
	testkit.Eventually(t, 10*time.Second, "READY=1", func() bool { return seen("READY=1\nSTATUS=serving") })
	testkit.Eventually(t, 10*time.Second, "WATCHDOG=1", func() bool { return seen("WATCHDOG=1") })
	must(t, h.shutdown())
	testkit.Eventually(t, 10*time.Second, "STOPPING=1", func() bool { return seen("STOPPING=1") })
}

// A client that sends its headers too slowly is cut.
func TestSlowClientCut(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.Timeouts.ReadHeader = 200 * time.Millisecond })
	c, err := net.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
	must(t, err)
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if time.Since(start) > 3*time.Second {
		t.Fatalf("the slow client was kept %v", time.Since(start))
	}
	if err == nil && !strings.Contains(line, "408") {
		t.Fatalf("the slow client got %q", line)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	ctx := context.Background()
	if _, err := serve.New(ctx, serve.Config{}); err == nil || !strings.Contains(err.Error(), "no store") {
		t.Fatalf("no store: %v", err)
	}
	h := start(t)
	if _, err := serve.New(ctx, serve.Config{Store: h.store}); err == nil || !strings.Contains(err.Error(), "validator") {
		t.Fatalf("no validator: %v", err)
	}
	sv := newServices(h.store, nil, "x", nil)
	noWatch := sv.config(serve.Config{Store: h.store, NoScheduler: true})
	noWatch.TokenWatch = nil
	if _, err := serve.New(ctx, noWatch); err == nil || !strings.Contains(err.Error(), "TokenWatch") {
		t.Fatalf("a token manager without its watch: %v", err)
	}
	cfg := sv.config(serve.Config{Store: h.store})
	cfg.ForwardAuthDebug.Mode = "sometimes"
	if _, err := serve.New(ctx, cfg); err == nil || !strings.Contains(err.Error(), "sometimes") {
		t.Fatalf("bad debug mode: %v", err)
	}
}

// serve reports its status in the database while it runs, and that it
// stopped.
func TestServeStatus(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.NoScheduler = false; c.Version = "test-1" })
	var st core.ServeStatus
	testkit.Eventually(t, 10*time.Second, "the status", func() bool {
		ss, err := h.store.ServeStatuses(context.Background())
		if err != nil || len(ss) != 1 {
			return false
		}
		st = ss[0]
		return true
	})
	if !st.Alive(time.Now()) || st.Listen != strings.TrimPrefix(h.base, "http://") || st.Socket != h.sock || st.Version != "test-1" ||
		!strings.HasSuffix(st.Instance, fmt.Sprintf(":%d", os.Getpid())) {
		t.Fatalf("status: %+v", st)
	}
	testkit.Eventually(t, 10*time.Second, "the scheduler's first run", func() bool {
		st, err := h.store.TokenState(context.Background(), "billing")
		return err == nil && st.Tokens.AccessToken.IsSet()
	})
	must(t, h.shutdown())
	ss, err := h.store.ServeStatuses(context.Background())
	must(t, err)
	if len(ss) != 1 || !ss[0].Stopped || ss[0].Alive(time.Now()) || ss[0].LastRefreshRun.IsZero() || ss[0].LastRefreshRenewed != 1 {
		t.Fatalf("after the stop: %+v", ss)
	}
}
