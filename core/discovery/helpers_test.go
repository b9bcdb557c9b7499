package discovery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/internal/testkit"
)

// memCache is an in-memory core.DiscoveryCache that counts its use.
type memCache struct {
	mu     sync.Mutex
	docs   map[string]core.CachedDocument
	reads  int
	writes int
}

func newMemCache() *memCache { return &memCache{docs: map[string]core.CachedDocument{}} }

func (m *memCache) CachedDiscovery(_ context.Context, profile string) (core.CachedDocument, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	d, ok := m.docs[profile]
	if !ok {
		return core.CachedDocument{}, &core.NotFoundError{Kind: "cached discovery document", Name: profile}
	}
	d.Body = bytes.Clone(d.Body)
	return d, nil
}

func (m *memCache) CacheDiscovery(_ context.Context, profile string, doc core.CachedDocument) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	doc.Body = bytes.Clone(doc.Body)
	m.docs[profile] = doc
	return nil
}

func (m *memCache) get(profile string) (core.CachedDocument, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[profile]
	return d, ok
}

func (m *memCache) counts() (reads, writes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads, m.writes
}

// newClock returns a frozen test clock at a fixed time.
func newClock() *testkit.Clock {
	return testkit.Frozen(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
}

// countingTransport counts the requests per URL path and can be made to
// fail as if the provider were down.
type countingTransport struct {
	base  http.RoundTripper
	mu    sync.Mutex
	paths map[string]int
	down  atomic.Bool
}

var errDown = errors.New("provider switched off by the test")

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.paths == nil {
		c.paths = map[string]int{}
	}
	c.paths[r.URL.Path]++
	c.mu.Unlock()
	if c.down.Load() {
		return nil, errDown
	}
	return c.base.RoundTrip(r)
}

func (c *countingTransport) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paths[path]
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func profile(name, discoveryURL string) core.Profile {
	p := core.NewProfile(name)
	p.DiscoveryURL = discoveryURL
	p.ClientID = "oidcctl"
	return p
}

// wantError checks that err is a *discovery.Error of the given stage whose
// message contains every one of want.
func wantError(t *testing.T, err error, stage string, want ...string) *discovery.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want a %s error", stage)
	}
	var de *discovery.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %T is not a *discovery.Error: %v", err, err)
	}
	if de.Stage != stage {
		t.Errorf("stage %q, want %q (error: %v)", de.Stage, stage, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	return de
}
