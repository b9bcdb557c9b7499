package grant_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// env is one provider and a grant.Client talking to it.
type env struct {
	op  *oidctest.Provider
	doc *discovery.Document
	c   *grant.Client
	log *syncBuffer // everything the client logged, at debug level
}

func setup(t *testing.T, opts ...oidctest.Option) *env {
	t.Helper()
	op := oidctest.Start(t, opts...)
	e := &env{op: op, doc: fetchDoc(t, op), log: &syncBuffer{}}
	e.c = &grant.Client{
		Logger: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return e
}

// fetchDoc reads the provider's discovery document straight into the
// (stable) discovery.Document type.
func fetchDoc(t *testing.T, op *oidctest.Provider) *discovery.Document {
	t.Helper()
	resp, err := http.Get(op.DiscoveryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d discovery.Document
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	d.URL = op.DiscoveryURL
	return &d
}

func profile(op *oidctest.Provider, clientID, secret string) core.Profile {
	p := core.NewProfile("test")
	p.DiscoveryURL = op.DiscoveryURL
	p.ClientID = clientID
	if secret != "" {
		p.ClientSecret = core.NewSecret(secret)
	}
	return p
}

func (e *env) web() core.Profile {
	return profile(e.op, oidctest.WebClientID, oidctest.WebClientSecret)
}

func (e *env) service() core.Profile {
	return profile(e.op, oidctest.ServiceClientID, oidctest.ServiceClientSecret)
}

func (e *env) native() core.Profile { return profile(e.op, oidctest.NativeClientID, "") }

func account(name string, g core.GrantType, scopes ...string) core.Account {
	a := core.NewAccount(name, "test")
	a.GrantType = g
	a.Scopes = scopes
	return a
}

func (e *env) passwordAccount(scopes ...string) core.Account {
	a := account("robot", core.GrantPassword, scopes...)
	a.Username = e.op.Username()
	a.Password = core.NewSecret(oidctest.Password)
	return a
}

// fixedClock returns a frozen clock standing at the current second.
func fixedClock() (func() time.Time, *testkit.Clock) {
	c := testkit.Frozen(time.Now().Truncate(time.Second))
	return c.Now, c
}

// rewriteTokenResponse makes the provider's successful JSON token answers
// pass through edit.
func rewriteTokenResponse(op *oidctest.Provider, edit func(map[string]any)) {
	op.SetTokenMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if rec.Code == http.StatusOK {
				var m map[string]any
				if json.Unmarshal(body, &m) == nil {
					edit(m)
					body, _ = json.Marshal(m)
				}
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	})
}

// answer makes the token endpoint answer every request with status,
// content type and body.
func answer(op *oidctest.Provider, status int, contentType, body string) {
	op.SetTokenMiddleware(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		})
	})
}

// assertNoSecrets fails when any secret shows in s.
func assertNoSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s contains a secret (%.12s…): %s", what, sec, s)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
