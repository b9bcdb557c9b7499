package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"oidcctl/core/buildinfo"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// freeAddr returns a free 127.0.0.1 address.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// inProcessServe is `oidcctl serve` run in the test's own process.
type inProcessServe struct {
	base   string // http://ADDR
	stderr *lockedBuffer
	done   chan int
	stop   context.CancelFunc
}

// startServe runs `oidcctl serve --listen ADDR args...` on a free address
// with c's environment, until end or the end of the test, and returns
// once its /readyz answers 200; a serve that ends first fails the test.
func (c *cli) startServe(hc *http.Client, args ...string) *inProcessServe {
	t := c.t
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	s := &inProcessServe{base: "http://" + freeAddr(t), stderr: &lockedBuffer{}, done: make(chan int, 1), stop: stop}
	go func() {
		s.done <- run(ctx, append([]string{"serve", "--listen", strings.TrimPrefix(s.base, "http://")}, args...),
			env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: s.stderr, getenv: func(k string) string { return c.env[k] }})
	}()
	testkit.Eventually(t, 15*time.Second, "serve ready", func() bool {
		select {
		case code := <-s.done:
			t.Fatalf("serve ended with %d:\n%s", code, s.stderr.String())
		default:
		}
		resp, err := hc.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s
}

// end stops serve and fails the test unless it exits 0 within 30 s.
func (s *inProcessServe) end(t *testing.T) {
	t.Helper()
	s.stop()
	select {
	case code := <-s.done:
		if code != exitOK {
			t.Fatalf("serve ended with %d:\n%s", code, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// httpDo sends a request and returns the status and body.
func httpDo(t *testing.T, c *http.Client, method, u, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeCommand runs oidcctl serve in-process against the real provider,
// drives it with webservices added before and during the run, and stops it
// as SIGTERM does.
func TestServeCommand(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	c.ok("user", "add", oidctest.ServiceClientID, "--email", "sid1@example.test", "--role", "api")
	// The scheduler runs when serve starts, then not again during the test.
	c.ok("config", "set", "refresh.schedule", "0 0 1 1 *")
	upstream := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.URL.Path + " for " + r.Header.Get("X-Auth-User") + " auth=" + r.Header.Get("Authorization")))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go upstream.Serve(ln)
	defer upstream.Close()
	up := "http://" + ln.Addr().String()
	c.ok("webservice", "add", "tickets", "--provider", "--profile", "service", "--route", "/GetTicket/:TicketID", "--method", "GET",
		"--upstream", up+"/otobo")

	addr := freeAddr(t)
	sock := filepath.Join(c.dir, "token.sock")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--socket", sock, "--auth-profile", "service", "--reload-interval", "100ms"},
			env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, getenv: func(k string) string { return c.env[k] }})
	}()
	base := "http://" + addr
	hc := &http.Client{Timeout: 10 * time.Second}
	testkit.Eventually(t, 15*time.Second, "serve to answer", func() bool {
		resp, err := hc.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		select {
		case code := <-done:
			t.Fatalf("serve ended with %d:\n%s", code, stderr.String())
		default:
		}
		return err == nil && resp.StatusCode == 200
	})
	testkit.Eventually(t, 15*time.Second, "readiness", func() bool { s, _ := httpDo(t, hc, "GET", base+"/readyz", ""); return s == 200 })

	tok := strings.TrimSpace(c.ok("token", "get", "billing"))
	if s, b := httpDo(t, hc, "GET", base+"/auth", tok); s != 200 {
		t.Fatalf("forward-auth: %d %s", s, b)
	}
	if s, b := httpDo(t, hc, "GET", base+"/ws/tickets/GetTicket/7", tok); s != 200 || b != "/otobo/GetTicket/7 for sid1 auth=" {
		t.Fatalf("provider webservice: %d %s", s, b)
	}
	if s, _ := httpDo(t, hc, "GET", base+"/ws/tickets/GetTicket/7", "nope"); s != 401 {
		t.Fatalf("bad token: %d", s)
	}
	// Added while serve runs: served without a restart.
	c.ok("webservice", "add", "out", "--requester", "--account", "billing", "--endpoint", up, "--path", "/remote", "--method", "GET")
	var cred credentialJSON
	must(t, json.Unmarshal([]byte(c.ok("webservice", "credential", "add", "out", "script", "-o", "json")), &cred))
	invoke := func(cl *http.Client, u, credential string) (int, string) {
		req, _ := http.NewRequest("GET", u, nil)
		if credential != "" {
			req.Header.Set(cred.Header, credential)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	testkit.Eventually(t, 15*time.Second, "the new webservice", func() bool {
		s, b := invoke(hc, base+"/invoke/out", cred.Secret)
		return s == 200 && strings.HasPrefix(b, "/remote for  auth=Bearer ey")
	})
	if s, b := invoke(hc, base+"/invoke/out", ""); s != 401 || !strings.Contains(b, "credential_required") {
		t.Fatalf("requester webservice without a credential: %d %s", s, b)
	}
	sc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	// On the socket, its permissions decide: no credential.
	if s, b := invoke(sc, "http://x/invoke/out", ""); s != 200 || !strings.HasPrefix(b, "/remote for  auth=Bearer ey") {
		t.Fatalf("requester webservice on the socket: %d %s", s, b)
	}
	c.ok("webservice", "credential", "rm", "out", "script")
	testkit.Eventually(t, 15*time.Second, "the revocation", func() bool { s, _ := invoke(hc, base+"/invoke/out", cred.Secret); return s == 401 })
	// The scheduler inside serve renews tokens that expire before its
	// next run, so the socket's token is the one stored now.
	if s, b := httpDo(t, sc, "GET", "http://x/token/billing", ""); s != 200 || strings.TrimSpace(b) != strings.TrimSpace(c.ok("token", "get", "billing")) {
		t.Fatalf("token socket: %d %q", s, b)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi.Mode(), err)
	}

	// What serve did is in the debugger.
	var entries []debugEntryJSON
	testkit.Eventually(t, 15*time.Second, "debugger entries", func() bool {
		entries = nil
		json.Unmarshal([]byte(c.ok("debug", "list", "tickets", "-o", "json")), &entries)
		return len(entries) == 2
	})
	if entries[0].Status != 401 || entries[0].Verdict != "refused" || entries[1].Status != 200 || entries[1].User != oidctest.ServiceClientID {
		t.Fatalf("debug list: %+v", entries)
	}
	if out := c.ok("debug", "list", "tickets", "--status", "401"); !strings.Contains(out, "refused") || strings.Contains(out, " 200 ") {
		t.Fatalf("debug list --status 401:\n%s", out)
	}
	var full debugEntryJSON
	must(t, json.Unmarshal([]byte(c.ok("debug", "show", itoa(entries[1].ID), "-o", "json")), &full))
	if full.RequestHeader.Get("Authorization") != "Bearer [REDACTED]" || full.ResponseBody == nil || !strings.Contains(*full.ResponseBody, "/otobo/GetTicket/7") {
		t.Fatalf("debug show: %+v", full)
	}
	if show := c.ok("debug", "show", itoa(entries[1].ID)); !strings.Contains(show, "Authorization: Bearer [REDACTED]") || strings.Contains(show, tok) {
		t.Fatalf("debug show:\n%s", show)
	}
	if out := c.ok("debug", "clear", "tickets", "--yes"); !strings.Contains(out, "Removed 2 recorded calls") {
		t.Fatalf("debug clear: %s", out)
	}
	if out := c.ok("debug", "list", "tickets"); !strings.Contains(out, "No calls recorded") {
		t.Fatalf("after clear: %s", out)
	}

	var statuses []serveStatusJSON
	must(t, json.Unmarshal([]byte(c.ok("serve", "status", "-o", "json")), &statuses))
	if len(statuses) != 1 || !statuses[0].Running || statuses[0].Listen != addr || statuses[0].Socket != sock {
		t.Fatalf("serve status: %+v", statuses)
	}
	if out := c.ok("serve", "status"); !strings.Contains(out, "running") || !strings.Contains(out, addr) {
		t.Fatalf("serve status:\n%s", out)
	}
	// Which build runs: in the status (both forms) and in /metrics.
	if v := buildinfo.Read().Short(); statuses[0].Version != v || !strings.Contains(c.ok("serve", "status"), "VERSION") || !strings.Contains(c.ok("serve", "status"), v) {
		t.Fatalf("serve status lacks the version %q: %+v", v, statuses[0])
	}
	if _, b := httpDo(t, hc, "GET", base+"/metrics", ""); !strings.Contains(b, "oidcctl_build_info{") {
		t.Fatal("/metrics lacks oidcctl_build_info")
	}

	stop()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve ended with %d:\n%s", code, stderr.String())
		}
		if r := c.run("", "serve", "status"); r.code != exitFailure || !strings.Contains(r.stdout, "stopped") || !strings.Contains(r.stderr, "no oidcctl serve runs") {
			t.Fatalf("serve status after the stop: %+v", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"serving"`, `"msg":"configuration reloaded"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, tok) {
		t.Fatal("a token in the logs")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("the socket is left behind: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestServePrintUnit(t *testing.T) {
	c := newCLI(t)
	out := c.ok("serve", "--print-unit")
	for _, want := range []string{"Type=notify", "DynamicUser=yes", "StateDirectory=oidcctl", "LoadCredential=oidcctl.key:/etc/oidcctl/oidcctl.key",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "WatchdogSec=", "ExecStart=/usr/local/bin/oidcctl serve"} {
		if !strings.Contains(out, want) {
			t.Errorf("unit lacks %s", want)
		}
	}
}

// --invoke-open-to-anyone-on-tcp lets a caller without a credential use a
// requester webservice over TCP, and serve says so in its log.
func TestServeInvokeOpenToAnyoneOnTCP(t *testing.T) {
	c := newCLI(t)
	op := oidctest.Start(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("auth=" + r.Header.Get("Authorization")))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go up.Serve(ln)
	defer up.Close()
	c.ok("webservice", "add", "out", "--requester", "--account", "billing", "--endpoint", "http://"+ln.Addr().String(), "--method", "GET")
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--no-scheduler", "--invoke-open-to-anyone-on-tcp"},
			env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, getenv: func(k string) string { return c.env[k] }})
	}()
	hc := &http.Client{Timeout: 10 * time.Second}
	testkit.Eventually(t, 15*time.Second, "serve to answer", func() bool {
		select {
		case code := <-done:
			t.Fatalf("serve ended with %d:\n%s", code, stderr.String())
		default:
		}
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	if s, b := httpDo(t, hc, "GET", "http://"+addr+"/invoke/out", ""); s != 200 || !strings.HasPrefix(b, "auth=Bearer ey") {
		t.Fatalf("open requester webservice without a credential: %d %s", s, b)
	}
	if !strings.Contains(stderr.String(), `"level":"WARN","msg":"requester webservices are open to anyone`) {
		t.Fatalf("no warning in the log:\n%s", stderr.String())
	}
	stop()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

func TestServeBadInput(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--listen", "nonsense"}, exitUsage, "want host:port"},
		{[]string{"serve", "--auth-debug", "sometimes"}, exitUsage, "want refused, all or off"},
		{[]string{"serve", "--max-body", "lots"}, exitUsage, "--max-body"},
		{[]string{"serve", "--max-body", "0"}, exitUsage, "--max-body"},
		{[]string{"serve", "--user-header", "X User"}, exitUsage, "not a header name"},
		{[]string{"serve", "--user-header", "Authorization"}, exitUsage, "--user-header Authorization: Authorization carries the bearer token"},
		{[]string{"serve", "--roles-header", "cookie"}, exitUsage, "--roles-header cookie: Cookie"},
		{[]string{"serve", "--subject-header", "Host"}, exitUsage, "--subject-header Host"},
		{[]string{"serve", "--user-header", "X-Forwarded-User"}, exitUsage, "X-Forwarded-* is set by proxies"},
		{[]string{"serve", "--user-header", "X_Forwarded_User"}, exitUsage, "X-Forwarded-* is set by proxies"},
		{[]string{"serve", "--subject-header", "X-Auth_User"}, exitUsage, "the same header as --user-header"},
		{[]string{"serve", "--user-header", "X-Oidcctl-Credential"}, exitUsage, "X-Oidcctl-* is oidcctl's own"},
		{[]string{"serve", "--subject-header", "x-auth-user"}, exitUsage, "--subject-header x-auth-user: the same header as --user-header"},
		{[]string{"serve", "--shutdown-timeout", "0s"}, exitUsage, "positive duration"},
		{[]string{"serve", "--debug-rate", "-1"}, exitUsage, "--debug-rate"},
		{[]string{"serve", "extra"}, exitUsage, "takes no arguments"},
		{[]string{"serve", "--auth-profile", "nope", "--listen", freeAddr(t)}, exitFailure, `profile "nope" does not exist`},
		{[]string{"serve", "--listen", busy.Addr().String()}, exitFailure, "address already in use"},
		{[]string{"serve", "--listen", freeAddr(t), "--socket", filepath.Join(c.dir, "missing", "s.sock")}, exitFailure, "token socket"},
		{[]string{"serve", "--socket-group", "nogroup"}, exitUsage, "give --socket too"},
		{[]string{"serve", "--listen", freeAddr(t), "--socket", filepath.Join(c.dir, "g.sock"), "--socket-group", "no-such-group-here"}, exitFailure, `group "no-such-group-here"`},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.want)
		}
	}
}

// SIGHUP reloads at once; without it, nothing would before the (long)
// reload interval.
func TestServeReloadsOnSIGHUP(t *testing.T) {
	c := newCLI(t)
	op := oidctest.Start(t)
	addProvider(c, op)
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", addr, "--reload-interval", "1h", "--no-scheduler"},
			env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, getenv: func(k string) string { return c.env[k] }})
	}()
	hc := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + addr
	testkit.Eventually(t, 15*time.Second, "serve to answer", func() bool {
		select {
		case code := <-done:
			t.Fatalf("serve ended with %d:\n%s", code, stderr.String())
		default:
		}
		resp, err := hc.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	c.ok("webservice", "add", "late", "--provider", "--profile", "service", "--route", "/", "--method", "GET", "--upstream", "http://127.0.0.1:9")
	if s, _ := httpDo(t, hc, "GET", base+"/ws/late/", ""); s != 404 {
		t.Fatalf("served before the reload: %d", s)
	}
	// serve is running, so its SIGHUP handler is installed.
	must(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	testkit.Eventually(t, 15*time.Second, "the reload", func() bool { s, _ := httpDo(t, hc, "GET", base+"/ws/late/", ""); return s == 401 })
	if !strings.Contains(stderr.String(), "SIGHUP: reloading") {
		t.Fatalf("logs:\n%s", stderr.String())
	}
	stop()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
}
