package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/serve"
	"oidcctl/internal/testkit"
)

// The tests here make calls as another user, uid and gid 65534 (nobody,
// nogroup): the test binary runs itself as that user, in caller mode
// (init below), and reports what it got. Setting another uid needs root,
// which the tests run as in CI.

const (
	callerEnv = "OIDCCTL_SERVE_TEST_CALLER"
	nobody    = 65534
)

// callSpec is one HTTP call of the caller process.
type callSpec struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Socket string            `json:"socket,omitempty"` // dial this unix socket instead of the URL's host
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
}

// callResult is what the caller process got.
type callResult struct {
	UID    int    `json:"uid"`
	Status int    `json:"status"`
	Body   string `json:"body"`
	Err    string `json:"err,omitempty"`
}

func init() {
	if spec := os.Getenv(callerEnv); spec != "" {
		os.Exit(runCaller(spec))
	}
}

// runCaller makes the call of spec and prints a callResult.
func runCaller(spec string) int {
	var cs callSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	res := callResult{UID: os.Getuid()}
	tr := &http.Transport{}
	if cs.Socket != "" {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", cs.Socket)
		}
	}
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	req, err := http.NewRequest(cs.Method, cs.URL, strings.NewReader(cs.Body))
	if err == nil {
		for k, v := range cs.Header {
			req.Header.Set(k, v)
		}
		var resp *http.Response
		if resp, err = c.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			res.Status, res.Body = resp.StatusCode, string(b)
		}
	}
	if err != nil {
		res.Err = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// caller runs calls as uid and gid 65534.
type caller struct {
	t   *testing.T
	bin string
}

// newCaller copies the test binary where uid 65534 can run it (the build
// directory is root's alone).
func newCaller(t *testing.T) *caller {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making calls as another user needs root (the tests run as root in CI)")
	}
	self, err := os.Executable()
	must(t, err)
	dir := publicDir(t)
	bin := filepath.Join(dir, "caller")
	src, err := os.Open(self)
	must(t, err)
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	must(t, err)
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	must(t, dst.Close())
	return &caller{t: t, bin: bin}
}

// publicDir makes a directory that every user can enter, removed when the
// test ends.
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oidcctl-serve-test-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	return dir
}

// do makes one call as uid 65534.
func (c *caller) do(cs callSpec) callResult {
	c.t.Helper()
	spec, err := json.Marshal(cs)
	must(c.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin)
	cmd.Env = []string{callerEnv + "=" + string(spec)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("caller: %v\n%s", err, errOut.String())
	}
	var res callResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		c.t.Fatalf("caller said %q: %v", out.String(), err)
	}
	if res.UID != nobody {
		c.t.Fatalf("the caller ran as uid %d, not %d", res.UID, nobody)
	}
	return res
}

// echoEndpoint answers with the Authorization header it got: what a
// remote API that echoes its request would hand back to the caller.
func echoEndpoint(t *testing.T) *upstream {
	return startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("auth=" + r.Header.Get("Authorization")))
	})
}

// neverSawCredential fails when an endpoint got an invoke credential.
func neverSawCredential(t *testing.T, up *upstream) {
	t.Helper()
	reqs, _ := up.got()
	for _, r := range reqs {
		if v, ok := r.Header[http.CanonicalHeaderKey(core.CredentialHeader)]; ok {
			t.Fatalf("the endpoint got %s: %q", core.CredentialHeader, v)
		}
	}
}

func TestInvokeOverTCPNeedsACredential(t *testing.T) {
	h := start(t)
	as := newCaller(t)
	ep := echoEndpoint(t)
	h.addWebservice(requester("echo", "billing", ep.url, "/", "GET"))
	h.addWebservice(requester("other", "billing", ep.url, "/", "GET"))
	ctx := context.Background()
	cron := h.issueCredential("echo", "cron")
	otherCred := h.issueCredential("other", "cron")
	must(t, h.srv.Reload(ctx))
	invoke := func(cred string) callResult {
		cs := callSpec{Method: "GET", URL: h.base + "/invoke/echo"}
		if cred != "" {
			cs.Header = map[string]string{core.CredentialHeader: cred}
		}
		return as.do(cs)
	}
	token := func() string {
		st, err := h.store.TokenState(ctx, "billing")
		must(t, err)
		return st.Tokens.AccessToken.Reveal()
	}

	// A first call makes sure a token is stored, so that "the token is not
	// in the answer" means something.
	if r := invoke(cron); r.Status != 200 || r.Body != "auth=Bearer "+token() {
		t.Fatalf("with an issued credential: %d %q %s", r.Status, r.Body, r.Err)
	}
	for _, tt := range []struct {
		name, cred, code string
		status           int
	}{
		{"no credential", "", "credential_required", 401},
		{"a made-up credential", core.CredentialPrefix + strings.Repeat("A", 43), "invalid_credential", 401},
		{"another webservice's credential", otherCred, "wrong_credential", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := invoke(tt.cred)
			// The caller is told the code, not which account or credential.
			if r.Status != tt.status || !strings.Contains(r.Body, `"error":"`+tt.code+`"`) || strings.Contains(r.Body, token()) ||
				strings.Contains(r.Body, "billing") || strings.Contains(r.Body, "cron") {
				t.Fatalf("%d %s %s", r.Status, r.Body, r.Err)
			}
		})
	}
	// A 401 says how to authenticate (RFC 9110 §11.6.1).
	if r := h.do("GET", "/invoke/echo", "", nil, core.CredentialHeader, ""); r.status != 401 ||
		r.header.Get("WWW-Authenticate") != `OidcctlCredential header="X-Oidcctl-Credential"` {
		t.Fatalf("401 without WWW-Authenticate: %d %v", r.status, r.header)
	}
	// Two credentials, one of them good: refused, not the one that matches.
	if r := h.do("GET", "/invoke/echo", "", nil, core.CredentialHeader, "x", core.CredentialHeader, cron); r.status != 401 ||
		!strings.Contains(r.body, "more than one") {
		t.Fatalf("two credentials: %d %s", r.status, r.body)
	}
	// A caller's own bearer token is not a credential.
	if r := h.do("GET", "/invoke/echo", cron, nil, core.CredentialHeader, ""); r.status != 401 {
		t.Fatalf("a credential as a bearer token: %d %s", r.status, r.body)
	}

	must(t, h.store.DeleteCredential(ctx, "echo", "cron"))
	testkit.Eventually(t, 10*time.Second, "the revocation to be picked up", func() bool {
		return h.do("GET", "/invoke/echo", "", nil, core.CredentialHeader, cron).status == 401
	})
	if r := invoke(cron); r.Status != 401 || !strings.Contains(r.Body, `"error":"invalid_credential"`) || strings.Contains(r.Body, token()) {
		t.Fatalf("a revoked credential: %d %s %s", r.Status, r.Body, r.Err)
	}
	neverSawCredential(t, ep)

	// Neither the credential nor the attached token is in the debugger.
	for _, e := range h.entries("echo") {
		js, _ := json.Marshal(e)
		if bytes.Contains(js, []byte(cron)) || bytes.Contains(js, []byte(token())) {
			t.Fatalf("debugger entry %d holds a secret: %s", e.ID, js)
		}
		if e.Status == 200 && e.User != "credential:cron" {
			t.Fatalf("debugger entry %d: user %q, want the credential that made the call", e.ID, e.User)
		}
	}
	if strings.Contains(h.logs.String(), "open to anyone") {
		t.Fatal("serve warned about open requester webservices although they are not")
	}
}

func TestInvokeOpenToAnyoneOnTCP(t *testing.T) {
	h := start(t, func(c *serveConfig) { c.InvokeOpenOnTCP = true })
	as := newCaller(t)
	ep := echoEndpoint(t)
	h.addWebservice(requester("echo", "billing", ep.url, "/", "GET"))
	r := as.do(callSpec{Method: "GET", URL: h.base + "/invoke/echo", Header: map[string]string{core.CredentialHeader: "anything"}})
	if r.Status != 200 || !strings.HasPrefix(r.Body, "auth=Bearer ey") {
		t.Fatalf("open, without a credential: %d %q %s", r.Status, r.Body, r.Err)
	}
	neverSawCredential(t, ep)
	testkit.Eventually(t, 10*time.Second, "the warning", func() bool {
		for _, line := range strings.Split(h.logs.String(), "\n") {
			if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "open to anyone who can reach the listen address") {
				return true
			}
		}
		return false
	})
}

func TestTokenSocketPermissions(t *testing.T) {
	h := start(t)
	as := newCaller(t)
	ep := echoEndpoint(t)
	h.addWebservice(requester("echo", "billing", ep.url, "/", "GET"))

	// The owner uses the socket of Run, /invoke included, with no credential.
	if status, body := get(t, unixClient(h.sock), "http://x/invoke/echo"); status != 200 || !strings.HasPrefix(body, "auth=Bearer ey") {
		t.Fatalf("the owner on the socket: %d %s", status, body)
	}
	neverSawCredential(t, ep)
	if es := h.entries("echo"); len(es) == 0 || es[0].User != fmt.Sprintf("socket:uid=%d", os.Getuid()) {
		t.Fatalf("debugger: %+v", es)
	}

	serveSocket := func(group string) string {
		path := filepath.Join(publicDir(t), "token.sock")
		ln, err := serve.ListenUnixGroup(path, group)
		must(t, err)
		srv := h.srv.SocketServer()
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })
		return path
	}
	for _, tt := range []struct{ name, group, mode string }{
		{"0600: others cannot connect", "", "-rw-------"},
		{"0660 with a group: others still cannot", "0", "-rw-rw----"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := serveSocket(tt.group)
			fi, err := os.Stat(path)
			must(t, err)
			if fi.Mode().Perm().String() != tt.mode {
				t.Fatalf("mode %v, want %s", fi.Mode(), tt.mode)
			}
			for _, u := range []string{"http://x/invoke/echo", "http://x/token/billing"} {
				r := as.do(callSpec{Method: "GET", URL: u, Socket: path})
				if r.Status != 0 || !strings.Contains(r.Err, "permission denied") {
					t.Fatalf("%s as uid %d: %d %q %s", u, nobody, r.Status, r.Body, r.Err)
				}
			}
		})
	}
	t.Run("0660 with a group: its members can", func(t *testing.T) {
		path := serveSocket(fmt.Sprint(nobody))
		fi, err := os.Stat(path)
		must(t, err)
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o660 || st.Gid != nobody {
			t.Fatalf("mode %v, group %d", fi.Mode(), st.Gid)
		}
		r := as.do(callSpec{Method: "GET", URL: "http://x/invoke/echo", Socket: path})
		if r.Status != 200 || !strings.HasPrefix(r.Body, "auth=Bearer ey") {
			t.Fatalf("a member of the group: %d %q %s", r.Status, r.Body, r.Err)
		}
		if r := as.do(callSpec{Method: "GET", URL: "http://x/token/billing", Socket: path}); r.Status != 200 {
			t.Fatalf("a member of the group, /token: %d %q %s", r.Status, r.Body, r.Err)
		}
		if es := h.entries("echo"); es[0].User != fmt.Sprintf("socket:uid=%d", nobody) {
			t.Fatalf("debugger: the call of uid %d is recorded as %q", nobody, es[0].User)
		}
		neverSawCredential(t, ep)
	})
	t.Run("the socket handler on TCP trusts nobody", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		srv := &http.Server{Handler: h.srv.SocketHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		if r := doURL(t, "GET", "http://"+ln.Addr().String()+"/invoke/echo", "", nil); r.status != 401 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	if _, err := serve.ListenUnixGroup(filepath.Join(publicDir(t), "s.sock"), "no-such-group-here"); err == nil ||
		!strings.Contains(err.Error(), "no-such-group-here") {
		t.Fatalf("an unknown group: %v", err)
	}
}
