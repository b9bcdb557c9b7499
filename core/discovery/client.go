// Package discovery fetches, checks and caches OpenID Connect discovery
// documents (OpenID Connect Discovery 1.0, RFC 8414) for oidcctl's
// profiles, and tests a profile's provider end to end (Client.Test).
//
// Documents are cached twice: in the Client's memory, and in a
// core.DiscoveryCache that every process on one database shares. A cached
// document is used while it is younger than the profile's DiscoveryTTL and
// was fetched from the profile's current discovery URL; otherwise Get
// fetches a new one. When that fetch fails, Get falls back to the stale
// document for up to MaxStale past its TTL (a provider that is briefly
// down should not stop token validation), logs a warning, and does not try
// again for RetryBackoff. Fetch and Test always fetch.
package discovery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"oidcctl/core"
	"oidcctl/core/tlsclient"
)

// Defaults of a Client.
const (
	// DefaultTimeout bounds each request of the default HTTP client.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxStale is how long past its TTL a cached document may
	// stand in when the provider cannot be reached.
	DefaultMaxStale = 24 * time.Hour
	// DefaultRetryBackoff is how long Get serves a stale document after a
	// failed fetch before it tries again.
	DefaultRetryBackoff = 30 * time.Second
	// DefaultMaxDocuments bounds the documents held in memory (one per
	// profile and discovery URL).
	DefaultMaxDocuments = 64
	// DefaultMaxBytes bounds the sizes of the documents held, as served.
	DefaultMaxBytes = 4 << 20
	// MaxBodySize is the largest discovery document or JWKS read.
	MaxBodySize = 1 << 20
	// UserAgent is sent with every request.
	UserAgent = "oidcctl"
)

// Client fetches and caches discovery documents. The zero value works: no
// shared cache, the real clock, tlsclient for HTTP and slog's default
// logger. A Client is safe for concurrent use and must not be copied after
// first use.
type Client struct {
	// Cache, when not nil, is shared by every process on one database.
	Cache core.DiscoveryCache
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient returns the HTTP client for a profile; nil means
	// tlsclient.New(p.TLS, DefaultTimeout), a new one per fetch.
	HTTPClient func(core.Profile) (*http.Client, error)
	// Logger receives warnings (stale documents, cache failures); nil
	// means slog.Default().
	Logger *slog.Logger
	// MaxStale: 0 means DefaultMaxStale, negative means never serve a
	// stale document.
	MaxStale time.Duration
	// RetryBackoff: 0 means DefaultRetryBackoff, negative means none.
	RetryBackoff time.Duration
	// MaxDocuments and MaxBytes bound the documents held in memory: their
	// number and their sizes as served. Beyond either, the documents used
	// least recently are dropped (and read from Cache or fetched again
	// when needed), never one whose fetch is under way. 0 means
	// DefaultMaxDocuments and DefaultMaxBytes.
	MaxDocuments, MaxBytes int

	mu      sync.Mutex
	entries map[entryKey]*entry
	bytes   int    // the sizes of the documents held
	tick    uint64 // counts uses, for entry.used
	// hits and misses count Gets answered with a fresh document from
	// memory, and the others.
	hits, misses atomic.Uint64
}

// Stats describe the documents a Client holds in memory, for /metrics.
type Stats struct {
	// Documents and Bytes are the documents held and their sizes as
	// served; MaxDocuments and MaxBytes their bounds.
	Documents, Bytes, MaxDocuments, MaxBytes int
	// Hits and Misses count Gets answered with a fresh document from
	// memory, and those that were not.
	Hits, Misses uint64
}

// Stats returns what the client holds in memory.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.entries {
		if e.doc != nil {
			n++
		}
	}
	return Stats{Documents: n, Bytes: c.bytes, MaxDocuments: c.maxDocuments(), MaxBytes: c.maxBytes(), Hits: c.hits.Load(), Misses: c.misses.Load()}
}

func (c *Client) maxDocuments() int {
	if c.MaxDocuments > 0 {
		return c.MaxDocuments
	}
	return DefaultMaxDocuments
}

func (c *Client) maxBytes() int {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	return DefaultMaxBytes
}

// trim drops the documents used least recently until the bounds hold;
// keep is never dropped, nor an entry with a fetch under way. c.mu is
// held.
func (c *Client) trim(keep *entry) {
	for len(c.entries) > c.maxDocuments() || c.bytes > c.maxBytes() {
		var oldest *entry
		var oldestKey entryKey
		for k, e := range c.entries {
			if e != keep && e.flight == nil && (oldest == nil || e.used < oldest.used) {
				oldest, oldestKey = e, k
			}
		}
		if oldest == nil {
			return
		}
		if oldest.doc != nil {
			c.bytes -= len(oldest.doc.Raw)
		}
		delete(c.entries, oldestKey)
	}
}

// entryKey: a profile's memory is per discovery URL, so that changing the
// URL never serves the old provider's document.
type entryKey struct{ profile, url string }

type entry struct {
	doc      *Document // last good document, or nil
	failedAt time.Time // when the last fetch failed; zero after a success
	flight   *flight   // the fetch Get is waiting for, or nil
	used     uint64    // Client.tick at the last use
}

type flight struct {
	done chan struct{}
	doc  *Document
	err  error
}

// Get returns the profile's discovery document: the cached one while it is
// fresh, otherwise a newly fetched one (see the package comment for the
// stale fallback, whose documents have an old FetchedAt). Concurrent Gets
// for one profile share one fetch, made with the first caller's context.
// Errors are *Error, within an *UnreachableError when the provider could
// not be reached. The document is shared: do not modify it.
func (c *Client) Get(ctx context.Context, p core.Profile) (*Document, error) {
	now := c.now()
	key := entryKey{p.Name, p.DiscoveryURL}
	stale := c.memory(key, p)
	if stale != nil && fresh(stale, p, now) {
		c.hits.Add(1)
		return stale, nil
	}
	c.misses.Add(1)
	if d := c.cached(ctx, p); d != nil && (stale == nil || d.FetchedAt.After(stale.FetchedAt)) {
		c.remember(key, d)
		stale = d
		if fresh(d, p, now) {
			return d, nil
		}
	}
	if stale != nil && !c.usable(stale, p, now) {
		stale = nil
	}

	c.mu.Lock()
	e := c.entry(key)
	if stale != nil && (e.flight != nil || c.backingOff(e, now)) {
		c.mu.Unlock()
		return stale, nil
	}
	f := e.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		e.flight = f
		c.mu.Unlock()
		f.doc, f.err = c.Fetch(ctx, p)
		c.mu.Lock()
		e.flight = nil
		c.mu.Unlock()
		close(f.done)
	} else {
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, &Error{URL: p.DiscoveryURL, Stage: StageConnect, Err: explain(ctx.Err(), "gave up waiting: %v", ctx.Err())}
		}
	}
	if f.err != nil {
		if stale != nil {
			c.logger().Warn("discovery: cannot refresh the document; using the cached one past its TTL",
				"profile", p.Name, "url", p.DiscoveryURL, "fetched_at", stale.FetchedAt, "err", f.err)
			return stale, nil
		}
		return nil, ForProfile(p.Name, f.err)
	}
	return f.doc, nil
}

// Fetch fetches the profile's discovery document, checks it and caches it.
// Errors are *Error.
func (c *Client) Fetch(ctx context.Context, p core.Profile) (*Document, error) {
	hc, done, err := c.httpClient(p)
	if err != nil {
		return nil, err
	}
	defer done()
	d, _, err := c.fetch(ctx, hc, p)
	c.settle(p, d, err)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// fetch downloads, parses and checks the discovery document. On a check
// failure it returns the parsed document too.
func (c *Client) fetch(ctx context.Context, hc *http.Client, p core.Profile) (*Document, string, error) {
	body, h, err := download(ctx, hc, p.DiscoveryURL)
	ct := h.Get("Content-Type")
	if err != nil {
		return nil, ct, err
	}
	d, err := parse(p.DiscoveryURL, body, ct)
	if err != nil {
		return nil, ct, err
	}
	d.FetchedAt = c.now()
	return d, ct, check(d, p)
}

// settle records the outcome of a fetch: a good document goes to memory and
// to the shared cache, a failure starts the retry backoff.
func (c *Client) settle(p core.Profile, d *Document, err error) {
	key := entryKey{p.Name, p.DiscoveryURL}
	if err != nil {
		c.mu.Lock()
		c.entry(key).failedAt = c.now()
		c.mu.Unlock()
		return
	}
	c.remember(key, d)
	if c.Cache == nil {
		return
	}
	// The fetch's context may be nearly spent; the cache write is short
	// and worth finishing.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cd := core.CachedDocument{URL: d.URL, Body: d.Raw, FetchedAt: d.FetchedAt}
	switch err := c.Cache.CacheDiscovery(ctx, p.Name, cd); {
	case errors.Is(err, core.ErrReadOnly):
		// A reading command on a read-only database: the cache is a side
		// effect it can do without.
		c.logger().Debug("discovery: the database is read-only; document not cached", "profile", p.Name)
	case err != nil:
		c.logger().Warn("discovery: cannot cache the document", "profile", p.Name, "err", err)
	}
}

// memory returns the remembered document for key if it still passes the
// profile's checks (its flavour may have changed).
func (c *Client) memory(key entryKey, p core.Profile) *Document {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || e.doc == nil || check(e.doc, p) != nil {
		return nil
	}
	c.tick++
	e.used = c.tick
	return e.doc
}

// remember keeps d in memory unless a newer document is there already.
func (c *Client) remember(key entryKey, d *Document) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(key)
	if e.doc == nil || !e.doc.FetchedAt.After(d.FetchedAt) {
		if e.doc != nil {
			c.bytes -= len(e.doc.Raw)
		}
		c.bytes += len(d.Raw)
		e.doc = d
		e.failedAt = time.Time{}
		c.trim(e)
	}
}

// entry returns the entry for key, making it; c.mu must be held.
func (c *Client) entry(key entryKey) *entry {
	if c.entries == nil {
		c.entries = make(map[entryKey]*entry)
	}
	e := c.entries[key]
	if e == nil {
		e = &entry{}
		c.entries[key] = e
		c.trim(e)
	}
	c.tick++
	e.used = c.tick
	return e
}

// cached returns the document of the shared cache if it was fetched from
// the profile's URL and passes the checks, else nil.
func (c *Client) cached(ctx context.Context, p core.Profile) *Document {
	if c.Cache == nil {
		return nil
	}
	cd, err := c.Cache.CachedDiscovery(ctx, p.Name)
	if errors.Is(err, core.ErrNotFound) {
		return nil
	}
	if err != nil {
		c.logger().Warn("discovery: cannot read the cached document; fetching", "profile", p.Name, "err", err)
		return nil
	}
	if cd.URL != p.DiscoveryURL {
		return nil
	}
	d, err := parse(cd.URL, cd.Body, "application/json")
	if err == nil {
		err = check(d, p)
	}
	if err != nil {
		c.logger().Warn("discovery: ignoring an unusable cached document", "profile", p.Name, "err", err)
		return nil
	}
	d.FetchedAt = cd.FetchedAt
	return d
}

// fresh reports whether d is younger than the profile's TTL. A document
// from the future (the clock was set back) is not fresh.
func fresh(d *Document, p core.Profile, now time.Time) bool {
	age := now.Sub(d.FetchedAt)
	return age >= 0 && age < p.DiscoveryTTL
}

// usable reports whether a stale d may still stand in for a fresh one.
func (c *Client) usable(d *Document, p core.Profile, now time.Time) bool {
	maxStale := c.MaxStale
	switch {
	case maxStale < 0:
		return false
	case maxStale == 0:
		maxStale = DefaultMaxStale
	}
	return now.Sub(d.FetchedAt) <= p.DiscoveryTTL+maxStale
}

// backingOff reports whether a fetch failed too recently to try again;
// c.mu must be held.
func (c *Client) backingOff(e *entry, now time.Time) bool {
	b := c.RetryBackoff
	if b == 0 {
		b = DefaultRetryBackoff
	}
	return !e.failedAt.IsZero() && now.Sub(e.failedAt) < b
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// httpClient returns the HTTP client for a profile and what to call when
// done with it.
func (c *Client) httpClient(p core.Profile) (*http.Client, func(), error) {
	var (
		hc   *http.Client
		err  error
		done = func() {}
	)
	if c.HTTPClient != nil {
		hc, err = c.HTTPClient(p)
	} else {
		hc, err = tlsclient.New(p.TLS, DefaultTimeout)
		if err == nil {
			// Our own client: do not leave its connections idling.
			done = hc.CloseIdleConnections
		}
	}
	if err != nil {
		return nil, nil, &Error{URL: p.DiscoveryURL, Stage: StageTLS, Err: explain(err, "cannot set up TLS: %v", err)}
	}
	return hc, done, nil
}

// download GETs a JSON resource and returns its body (at most MaxBodySize
// bytes) and Content-Type. Any status but 200 is an error.
// download GETs a JSON document and returns its body and the response's
// header.
func download(ctx context.Context, hc *http.Client, rawURL string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, http.Header{}, &Error{URL: rawURL, Stage: StageConnect, Err: explain(err, "is not a valid URL: %v", err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, http.Header{}, transportError(rawURL, err)
	}
	defer resp.Body.Close()
	h, ct := resp.Header, resp.Header.Get("Content-Type")
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	if err != nil {
		e := transportError(rawURL, err)
		e.Err = explain(err, "reading the response failed: %v", e.Err)
		return nil, h, e
	}
	if resp.StatusCode != http.StatusOK {
		return nil, h, &Error{URL: rawURL, Stage: StageHTTP, Err: &StatusError{
			StatusCode: resp.StatusCode, Status: resp.Status, ContentType: ct, Body: snippet(body, 200)}}
	}
	if len(body) > MaxBodySize {
		return nil, h, &Error{URL: rawURL, Stage: StageHTTP, Err: errors.New("the response is larger than 1 MiB")}
	}
	return body, h, nil
}
