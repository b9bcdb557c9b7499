package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/memstore"
	"oidcctl/core/oidctest"
	"oidcctl/core/serve"
	"oidcctl/core/tokens"
	"oidcctl/internal/testkit"
)

// syncBuffer is a log sink that tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a running server on a database with a profile "op" for the
// in-process provider's service client, a user for that client, and a
// functional account "billing" of it.
type harness struct {
	t       testing.TB
	op      *oidctest.Provider
	store   *memstore.Store
	srv     *serve.Server
	tokens  *tokens.Manager
	clock   *testkit.Clock // the token manager's and the server's clock: real time, moved by tests
	base    string         // http://127.0.0.1:port
	sock    string
	logs    *syncBuffer
	stop    context.CancelFunc
	stopped chan error

	stopOnce sync.Once
	runErr   error

	// credentials are the secrets of the invoke credentials addWebservice
	// issued, by webservice; do presents them.
	credMu      sync.Mutex
	credentials map[string]string
}

// shutdown stops the server as SIGTERM does and returns what Run returned.
func (h *harness) shutdown() error {
	h.stop()
	h.stopOnce.Do(func() {
		select {
		case h.runErr = <-h.stopped:
		case <-time.After(40 * time.Second):
			h.runErr = errors.New("the server did not stop within 40s")
		}
	})
	return h.runErr
}

type serveConfig = serve.Config

type option func(*serveConfig)

const testRoles = "api,tickets"

func start(t testing.TB, opts ...option) *harness {
	return startWith(t, nil, opts...)
}

// startWith starts a harness; setup runs on the store before the server
// starts.
func startWith(t testing.TB, setup func(h *harness), opts ...option) *harness {
	t.Helper()
	h := &harness{t: t, clock: testkit.Running(), logs: &syncBuffer{}}
	h.op = oidctest.Start(t)
	dir := t.TempDir()
	h.store = memstore.New()
	ctx := context.Background()
	reg := core.Registry{Store: h.store}
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = h.op.DiscoveryURL, oidctest.ServiceClientID, core.NewSecret(oidctest.ServiceClientSecret)
	must(t, reg.AddProfile(ctx, p))
	// The same provider, with a Scope restriction the service client's
	// tokens do not meet.
	w := p
	w.Name, w.Restrictions.Scopes = "op-write", []string{"tickets.write"}
	must(t, reg.AddProfile(ctx, w))
	must(t, h.store.CreateUser(ctx, core.User{Login: oidctest.ServiceClientID, Email: "sid1@example.test", Roles: strings.Split(testRoles, ",")}))
	must(t, reg.AddAccount(ctx, core.NewAccount("billing", "op")))
	if setup != nil {
		setup(h)
	}

	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sv := newServices(h.store, h.clock.Now, "serve-test", logger)
	h.tokens = sv.tokens
	cfg := sv.config(serve.Config{
		Store:          h.store,
		NoScheduler:    true,
		DefaultProfile: "op",
		ReloadInterval: 50 * time.Millisecond,
		Now:            h.clock.Now,
		Logger:         logger,
		DebugWriter:    serve.DebugWriter{FlushInterval: 20 * time.Millisecond},
	})
	for _, o := range opts {
		o(&cfg)
	}
	var err error
	h.srv, err = serve.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.base = "http://" + ln.Addr().String()
	h.sock = filepath.Join(dir, "token.sock")
	sock, err := serve.ListenUnix(h.sock)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.stopped = make(chan error, 1)
	go func() { h.stopped <- h.srv.Run(runCtx, ln, sock) }()
	t.Cleanup(func() {
		if err := h.shutdown(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// serviceToken gets a JWT access token of the service client from the
// provider, with scope.
func (h *harness) serviceToken(scope string) string {
	h.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, h.op.TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oidctest.ServiceClientID, oidctest.ServiceClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || strings.Count(tr.AccessToken, ".") != 2 {
		h.t.Fatalf("token response: %v %q", err, tr.AccessToken)
	}
	return tr.AccessToken
}

// signed signs claims like the provider's for the service client, valid
// for an hour, with extra claims merged in.
func (h *harness) signed(extra map[string]any) string {
	h.t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": h.op.Issuer, "sub": oidctest.ServiceClientID, "aud": []string{oidctest.ServiceClientID},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": "openid",
		"client_id": oidctest.ServiceClientID,
	}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	tok, err := h.op.SignJWT(claims)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// addWebservice stores a webservice and reloads the server. A requester
// webservice gets an invoke credential, which do presents on its calls.
func (h *harness) addWebservice(w core.Webservice) {
	h.t.Helper()
	must(h.t, w.Validate())
	must(h.t, h.store.CreateWebservice(context.Background(), w))
	if w.Kind == core.Requester {
		secret := h.issueCredential(w.Name, "harness")
		h.credMu.Lock()
		if h.credentials == nil {
			h.credentials = make(map[string]string)
		}
		h.credentials[w.Name] = secret
		h.credMu.Unlock()
	}
	must(h.t, h.srv.Reload(context.Background()))
}

// issueCredential stores a new invoke credential of a webservice and
// returns its secret; the server sees it at its next reload.
func (h *harness) issueCredential(webservice, name string) string {
	h.t.Helper()
	c, secret, err := core.NewInvokeCredential(webservice, name)
	must(h.t, err)
	must(h.t, h.store.CreateCredential(context.Background(), c))
	return secret.Reveal()
}

func provider(name, route, upstream string, methods ...string) core.Webservice {
	w := core.NewWebservice(name, core.Provider)
	w.Profile, w.Route, w.Upstream, w.Methods = "op", route, upstream, methods
	return w
}

func requester(name, account, endpoint, path, method string) core.Webservice {
	w := core.NewWebservice(name, core.Requester)
	w.Account, w.Endpoint, w.Path, w.Method = account, endpoint, path, method
	return w
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", r.status, err, r.body)
	}
	return m
}

// do sends a request to the server; token "" sends none. A call to a
// requester webservice of addWebservice presents its invoke credential,
// unless header names core.CredentialHeader.
func (h *harness) do(method, path, token string, body io.Reader, header ...string) response {
	h.t.Helper()
	if rest, ok := strings.CutPrefix(path, "/invoke/"); ok {
		given := false
		for i := 0; i < len(header); i += 2 {
			given = given || http.CanonicalHeaderKey(header[i]) == core.CredentialHeader
		}
		name, _, _ := strings.Cut(rest, "/")
		name, _, _ = strings.Cut(name, "?")
		h.credMu.Lock()
		secret, ok := h.credentials[name]
		h.credMu.Unlock()
		if ok && !given {
			header = append(header, core.CredentialHeader, secret)
		}
	}
	return doURL(h.t, method, h.base+path, token, body, header...)
}

func doURL(t testing.TB, method, u, token string, body io.Reader, header ...string) response {
	t.Helper()
	return doWith(t, http.DefaultClient, method, u, token, body, header...)
}

// doWith is doURL with a client of the caller's.
func doWith(t testing.TB, client *http.Client, method, u, token string, body io.Reader, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// entries returns the debugger's entries of a webservice ("" for all),
// after the recorder wrote what it holds.
func (h *harness) entries(ws string) []core.DebugEntry {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(h.t, h.srv.Recorder().Sync(ctx))
	es, err := h.store.DebugEntries(ctx, core.DebugFilter{Webservice: ws, Limit: 1000})
	must(h.t, err)
	return es
}

// upstream is an httptest-like server that records what it got.
type upstream struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	url      string
	srv      *http.Server
}

func (u *upstream) got() ([]*http.Request, []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.requests...), append([]string(nil), u.bodies...)
}

// startUpstream serves h on 127.0.0.1, recording every request first.
func startUpstream(t testing.TB, h http.HandlerFunc) *upstream {
	u := &upstream{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.url = "http://" + ln.Addr().String()
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, r.Clone(context.Background()))
		u.bodies = append(u.bodies, string(b))
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		h(w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = u.srv.Serve(ln) }()
	t.Cleanup(func() { u.srv.Close() })
	return u
}

// freeAddr returns a free 127.0.0.1 address.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func discoveryOf(h *harness) *discovery.Client { return &discovery.Client{Cache: h.store} }

func grantsOf() *grant.Client { return &grant.Client{} }
