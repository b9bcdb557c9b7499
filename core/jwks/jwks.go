// Package jwks keeps the key sets (JWKS, RFC 7517) of oidcctl's profiles:
// fetched from the jwks_uri of the provider's discovery document with the
// profile's TLS client, cached in memory, and refetched only when needed and
// never more often than once per MinRefetchInterval (10 s by default, held
// between one and ten seconds).
//
// # Why not jwk.Cache
//
// jwx's jwk.Cache (httprc) refreshes in goroutines of its own on the real
// clock, knows a set only by its URL, and does not say when or why a set
// was fetched. oidcctl needs a fake clock in tests, one HTTP client per
// profile (client certificates, private CAs), a bounded refetch on an
// unknown kid, and the fetch time and reason for `oidcctl profile keys`.
// So this package is a small cache of its own around jwk.Parse; jwx still
// parses, validates and exports every key.
//
// # When a set is fetched
//
//   - on first use;
//   - when a token names a kid the set does not have ("unknown kid"), at
//     most once per MinRefetchInterval per set: a flood of tokens with
//     made-up kids costs one request per interval, not one per token, and
//     never more than one a second. The same bound is the longest a key
//     the provider added in a rotation waits to be picked up, however many
//     made-up kids arrive meanwhile: ten seconds at most;
//   - when the set is older than MaxAge (so that a key the provider
//     withdrew stops being trusted), again at most once per interval;
//   - when Refresh is called (an administrator asked).
//
// A failed refetch keeps the keys fetched before: a provider that is down
// does not stop validation. Concurrent callers that need the same fetch
// share it. The fetch runs with the caller's values but not its
// cancellation, bounded by the HTTP client's timeout, so that one caller
// giving up does not fail the others.
package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/tlsclient"
)

// Defaults of a Cache.
const (
	// DefaultMinRefetchInterval is the least time between two fetches of
	// one set that were not asked for by Refresh.
	DefaultMinRefetchInterval = 10 * time.Second
	// MinRefetchFloor and MinRefetchCeiling bound MinRefetchInterval: a
	// flood of tokens with unknown kids never makes more than one fetch a
	// second, and never keeps a new key of the provider out for more than
	// ten seconds after a rotation.
	MinRefetchFloor   = time.Second
	MinRefetchCeiling = 10 * time.Second
	// DefaultMaxAge is how long a set is used before it is fetched again
	// although every kid asked for was found.
	DefaultMaxAge = time.Hour
	// DefaultTimeout bounds each fetch.
	DefaultTimeout = 10 * time.Second
	// MaxBodySize is the largest key set read.
	MaxBodySize = 1 << 20
	// MinRSABits is the smallest RSA modulus accepted for verification.
	MinRSABits = 2048
	// DefaultMaxSets bounds the number of sets held (one per profile and
	// jwks_uri).
	DefaultMaxSets = 64
	// DefaultMaxBytes bounds the sizes of the sets held, as served.
	DefaultMaxBytes = 8 << 20
)

// Reasons for a fetch, as Info.Reason. ReasonUnknownKID is followed by the
// kid: `unknown kid "abc"`.
const (
	ReasonFirstUse   = "first use"
	ReasonUnknownKID = "unknown kid"
	ReasonMaxAge     = "older than the maximum age"
	ReasonRequested  = "requested"
)

// Errors that callers test with errors.Is.
var (
	// ErrUnknownKID: the set has no key with the token's kid, even after
	// a refetch (or a refetch was not allowed yet). The error is a
	// *KIDError.
	ErrUnknownKID = errors.New("unknown kid")
	// ErrUnavailable: the set could not be fetched and there is no
	// earlier copy to fall back on.
	ErrUnavailable = errors.New("the key set cannot be fetched")
)

// KIDError says that a kid is not in a profile's key set.
type KIDError struct {
	URL string
	KID string
	// Known lists the kids the set has.
	Known []string
	// Refetched is true when the set was fetched again for this kid (and
	// still did not have it); false when the last fetch was too recent.
	Refetched bool
	// FetchedAt is when the set was fetched last.
	FetchedAt time.Time
	// NextRefetch is the earliest time the set may be fetched again.
	NextRefetch time.Time
	// FetchErr is why the last fetch failed, when it did: the kid may be
	// in the set the provider serves now.
	FetchErr error
}

func (e *KIDError) Error() string {
	what := fmt.Sprintf("kid %q is not in the key set at %s", e.KID, e.URL)
	if e.KID == "" {
		what = fmt.Sprintf("the token has no kid and the key set at %s has %d keys, so none can be picked", e.URL, len(e.Known))
	}
	if e.FetchErr != nil {
		return what + fmt.Sprintf(" (fetched %s; fetching it again failed: %v)", e.FetchedAt.UTC().Format(time.RFC3339), e.FetchErr)
	}
	if e.Refetched {
		return what + " (fetched again just now)"
	}
	return what + fmt.Sprintf(" (fetched %s; not fetched again before %s)",
		e.FetchedAt.UTC().Format(time.RFC3339), e.NextRefetch.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrUnknownKID) hold.
func (e *KIDError) Unwrap() error { return ErrUnknownKID }

// Key is one key of a set, ready for verification.
type Key struct {
	// JWK is the key as parsed by jwx.
	JWK jwk.Key
	// Public is its crypto form: *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey; nil when the key cannot verify signatures (see
	// Problem).
	Public crypto.PublicKey
	// Alg is the key's alg parameter, "" when the JWK has none: a token
	// verified with this key must use exactly this alg.
	Alg string
	// Problem says why Public is nil, for instance "kty oct (a shared
	// secret) is never used to verify tokens".
	Problem string
}

// KeyInfo describes a key for people: `oidcctl profile keys`.
type KeyInfo struct {
	KID     string `json:"kid"`
	Kty     string `json:"kty"`
	Alg     string `json:"alg,omitempty"`
	Use     string `json:"use,omitempty"`
	Curve   string `json:"crv,omitempty"`
	Bits    int    `json:"bits,omitempty"`
	X5T     string `json:"x5t,omitempty"`
	X5TS256 string `json:"x5t#S256,omitempty"`
	// Problem is why the key is not used, "" when it is.
	Problem string `json:"problem,omitempty"`
}

// Info describes the cached set of one profile.
type Info struct {
	URL string `json:"url"`
	// FetchedAt is when the keys in use were fetched; zero when there are
	// none yet.
	FetchedAt time.Time `json:"fetched_at"`
	// Age is the time since FetchedAt by the Cache's clock.
	Age time.Duration `json:"age"`
	// Reason is why the keys in use were fetched: ReasonFirstUse,
	// `unknown kid "…"`, ReasonMaxAge or ReasonRequested.
	Reason string `json:"reason"`
	// Fetches counts the fetches tried, good or not.
	Fetches int `json:"fetches"`
	// LastAttempt is when the last fetch was tried.
	LastAttempt time.Time `json:"last_attempt"`
	// LastError is why the last fetch failed; nil when it worked. The keys
	// fetched before stay in use. LastErrorText is its message, for JSON.
	LastError     error     `json:"-"`
	LastErrorText string    `json:"last_error,omitempty"`
	Keys          []KeyInfo `json:"keys"`
}

// Cache keeps the key sets of profiles. The zero value works: the real
// clock, tlsclient for HTTP, slog's default logger and the defaults above.
// A Cache is safe for concurrent use and must not be copied after first
// use.
type Cache struct {
	// HTTPClient returns the HTTP client for a profile; nil means
	// tlsclient.New(p.TLS, DefaultTimeout), a new one per fetch.
	HTTPClient func(core.Profile) (*http.Client, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MinRefetchInterval: 0 means DefaultMinRefetchInterval; other values
	// are held between MinRefetchFloor and MinRefetchCeiling.
	MinRefetchInterval time.Duration
	// MaxAge: 0 means DefaultMaxAge, negative means a set is kept until a
	// kid is missing from it.
	MaxAge time.Duration
	// Logger receives warnings (a failed refetch); nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxSets and MaxBytes bound the sets held: their number and their
	// sizes as served (a set is at most MaxBodySize). Beyond either, the
	// sets used least recently are dropped (and fetched again when a token
	// needs them), never one whose fetch is under way. 0 means
	// DefaultMaxSets and DefaultMaxBytes.
	MaxSets, MaxBytes int

	mu      sync.Mutex
	entries map[entryKey]*entry
	bytes   int    // the sizes of the sets held
	tick    uint64 // counts uses, for entry.used
	// hits and misses count PublicKey lookups served from a set held and
	// those that waited for a fetch or failed.
	hits, misses uint64
}

// Stats describe what a Cache holds, for /metrics.
type Stats struct {
	// Sets and Bytes are the sets held and their sizes as served;
	// MaxSets and MaxBytes their bounds.
	Sets, Bytes, MaxSets, MaxBytes int
	// Hits and Misses count key lookups (PublicKey) answered from a set
	// held, and those that were not.
	Hits, Misses uint64
}

// Stats returns what the cache holds.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.entries {
		if e.keys != nil {
			n++
		}
	}
	return Stats{Sets: n, Bytes: c.bytes, MaxSets: c.maxSets(), MaxBytes: c.maxBytes(), Hits: c.hits, Misses: c.misses}
}

func (c *Cache) maxSets() int {
	if c.MaxSets > 0 {
		return c.MaxSets
	}
	return DefaultMaxSets
}

func (c *Cache) maxBytes() int {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	return DefaultMaxBytes
}

// trim drops the sets used least recently until the bounds hold; keep is
// never dropped, nor an entry with a fetch under way. c.mu is held.
func (c *Cache) trim(keep *entry) {
	for len(c.entries) > c.maxSets() || c.bytes > c.maxBytes() {
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
		c.drop(oldestKey, oldest)
	}
}

// drop forgets an entry; c.mu is held.
func (c *Cache) drop(k entryKey, e *entry) {
	if e.keys != nil {
		c.bytes -= e.keys.size
	}
	delete(c.entries, k)
}

// entryKey: a set belongs to one profile and one URL, so that two profiles
// with different TLS settings never share a fetch, and a changed jwks_uri
// never serves the old provider's keys.
type entryKey struct{ profile, url string }

type entry struct {
	keys      *keySet   // nil until a fetch worked
	fetchedAt time.Time // when keys were fetched
	reason    string    // why keys were fetched
	attempt   time.Time // when the last fetch started; zero: never
	err       error     // the last fetch's error; nil after a success
	fetches   int
	flight    *flight
	used      uint64 // Cache.tick at the last use
}

type flight struct {
	done chan struct{}
	err  error
}

// keySet is a parsed set with its kid index; immutable once built.
type keySet struct {
	set    jwk.Set
	byKID  map[string]Key
	usable []Key // keys that can verify, in set order
	info   []KeyInfo
	size   int // the set's size as served
}

// PublicKey returns the key with the given kid from the profile's set at
// jwksURL, fetching the set on first use and fetching it again, at a
// bounded rate, when the kid is not in it. An empty kid finds the set's
// only key that can verify. Errors: *KIDError (errors.Is ErrUnknownKID),
// or an ErrUnavailable error when there is no set at all.
func (c *Cache) PublicKey(ctx context.Context, p core.Profile, jwksURL, kid string) (Key, error) {
	k := entryKey{p.Name, jwksURL}
	now := c.now()

	c.mu.Lock()
	e := c.entry(k)
	key, found := e.keys.lookup(kid)
	reason := ""
	switch {
	case e.keys == nil:
		reason = ReasonFirstUse
	case !found:
		reason = fmt.Sprintf("%s %q", ReasonUnknownKID, kid)
	case c.tooOld(e, now):
		reason = ReasonMaxAge
	default:
		c.hits++
		c.mu.Unlock()
		return key, nil
	}
	if found {
		c.hits++
	} else {
		c.misses++
	}
	f := e.flight
	if f == nil && c.mayFetch(e, now) {
		f = c.start(ctx, e, k, p, reason, now)
	}
	if found {
		// Only too old: the refetch runs in the background and this key
		// serves until it is done.
		c.mu.Unlock()
		return key, nil
	}
	if f == nil {
		err := c.missErr(e, k, kid, false, now)
		c.mu.Unlock()
		return Key{}, err
	}
	c.mu.Unlock()

	if err := wait(ctx, f); err != nil {
		return Key{}, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if key, ok := e.keys.lookup(kid); ok {
		return key, nil
	}
	return Key{}, c.missErr(e, k, kid, true, now)
}

// Key is PublicKey returning only the jwx key.
func (c *Cache) Key(ctx context.Context, p core.Profile, jwksURL, kid string) (jwk.Key, error) {
	k, err := c.PublicKey(ctx, p, jwksURL, kid)
	return k.JWK, err
}

// Set returns the profile's set at jwksURL and its Info, fetching it on
// first use or when it is older than MaxAge. The set is shared: do not
// modify it.
func (c *Cache) Set(ctx context.Context, p core.Profile, jwksURL string) (jwk.Set, Info, error) {
	return c.get(ctx, p, jwksURL, false)
}

// Refresh fetches the profile's set now, whatever the rate limit says
// (an administrator asked), and returns it as Set does. When the fetch
// fails, the error is returned together with the keys fetched before, if
// any.
func (c *Cache) Refresh(ctx context.Context, p core.Profile, jwksURL string) (jwk.Set, Info, error) {
	return c.get(ctx, p, jwksURL, true)
}

func (c *Cache) get(ctx context.Context, p core.Profile, jwksURL string, force bool) (jwk.Set, Info, error) {
	k := entryKey{p.Name, jwksURL}
	now := c.now()
	c.mu.Lock()
	e := c.entry(k)
	var reason string
	switch {
	case force:
		reason = ReasonRequested
	case e.keys == nil:
		reason = ReasonFirstUse
	case c.tooOld(e, now):
		reason = ReasonMaxAge
	}
	f := e.flight
	if f == nil && reason != "" && (force || c.mayFetch(e, now)) {
		f = c.start(ctx, e, k, p, reason, now)
	}
	// Wait only when there is nothing to serve or a fetch was asked for;
	// a set that is merely old serves while it is fetched again.
	mustWait := f != nil && (force || e.keys == nil)
	c.mu.Unlock()

	var ferr error
	if mustWait {
		ferr = wait(ctx, f)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	info := c.info(e, k, c.now())
	switch {
	case ferr != nil && e.keys == nil:
		return nil, info, ferr
	case ferr != nil && force:
		return e.keys.set, info, ferr
	case e.keys == nil:
		return nil, info, unavailable(k.url, e.err)
	case force && e.err != nil:
		return e.keys.set, info, e.err
	}
	return e.keys.set, info, nil
}

// Info returns what is known about the profile's set at jwksURL without
// fetching; false when it was never asked for.
func (c *Cache) Info(p core.Profile, jwksURL string) (Info, bool) {
	k := entryKey{p.Name, jwksURL}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return Info{}, false
	}
	return c.info(e, k, c.now()), true
}

// Forget drops every set of the named profile, for instance after the
// profile was removed.
func (c *Cache) Forget(profile string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if k.profile == profile {
			c.drop(k, e)
		}
	}
}

func (c *Cache) info(e *entry, k entryKey, now time.Time) Info {
	in := Info{URL: k.url, Reason: e.reason, Fetches: e.fetches, LastAttempt: e.attempt, LastError: e.err}
	if e.err != nil {
		in.LastErrorText = e.err.Error()
	}
	if e.keys != nil {
		in.FetchedAt = e.fetchedAt
		in.Age = now.Sub(e.fetchedAt)
		in.Keys = slices.Clone(e.keys.info)
	}
	return in
}

// start begins a fetch; c.mu must be held.
func (c *Cache) start(ctx context.Context, e *entry, k entryKey, p core.Profile, reason string, now time.Time) *flight {
	f := &flight{done: make(chan struct{})}
	e.flight = f
	e.attempt = now
	e.fetches++
	go func() {
		// Not the caller's cancellation: other callers share this fetch.
		ks, err := c.fetch(context.WithoutCancel(ctx), p, k.url)
		c.mu.Lock()
		if err != nil {
			e.err = err
			if e.keys != nil {
				c.logger().Warn("jwks: cannot fetch the key set; keeping the keys fetched before",
					"profile", p.Name, "url", k.url, "reason", reason, "fetched_at", e.fetchedAt, "err", err)
			}
		} else {
			if c.entries[k] == e { // not dropped meanwhile
				c.bytes += ks.size
				if e.keys != nil {
					c.bytes -= e.keys.size
				}
			}
			e.keys, e.fetchedAt, e.reason, e.err = ks, c.now(), reason, nil
		}
		e.flight = nil
		if c.entries[k] == e {
			c.trim(e)
		}
		f.err = err
		c.mu.Unlock()
		close(f.done)
	}()
	return f
}

// wait waits for a fetch; a failed fetch is not an error here (the caller
// looks at what the entry holds), a cancelled caller is.
func wait(ctx context.Context, f *flight) error {
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the key set: %w", ctx.Err())
	}
}

// missErr is the error for a kid that is not there; c.mu must be held.
func (c *Cache) missErr(e *entry, k entryKey, kid string, refetched bool, now time.Time) error {
	if e.keys == nil {
		return unavailable(k.url, e.err)
	}
	known := make([]string, 0, len(e.keys.byKID))
	for id := range e.keys.byKID {
		known = append(known, id)
	}
	slices.Sort(known)
	next := e.attempt.Add(c.interval())
	if next.Before(now) {
		next = now
	}
	return &KIDError{URL: k.url, KID: kid, Known: known, Refetched: refetched,
		FetchedAt: e.fetchedAt, NextRefetch: next, FetchErr: e.err}
}

func unavailable(url string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: %s", ErrUnavailable, url)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// mayFetch reports whether the rate limit allows a fetch now; c.mu must be
// held. A clock that went back allows one.
func (c *Cache) mayFetch(e *entry, now time.Time) bool {
	if e.attempt.IsZero() {
		return true
	}
	since := now.Sub(e.attempt)
	return since < 0 || since >= c.interval()
}

func (c *Cache) tooOld(e *entry, now time.Time) bool {
	maxAge := c.MaxAge
	switch {
	case maxAge < 0:
		return false
	case maxAge == 0:
		maxAge = DefaultMaxAge
	}
	return now.Sub(e.fetchedAt) >= maxAge
}

func (c *Cache) interval() time.Duration {
	if c.MinRefetchInterval == 0 {
		return DefaultMinRefetchInterval
	}
	return min(max(c.MinRefetchInterval, MinRefetchFloor), MinRefetchCeiling)
}

// entry returns the entry for k, making it; c.mu must be held.
func (c *Cache) entry(k entryKey) *entry {
	if c.entries == nil {
		c.entries = make(map[entryKey]*entry)
	}
	e := c.entries[k]
	if e == nil {
		e = &entry{}
		c.entries[k] = e
		c.trim(e)
	}
	c.tick++
	e.used = c.tick
	return e
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// fetch downloads and parses a set.
func (c *Cache) fetch(ctx context.Context, p core.Profile, url string) (*keySet, error) {
	var hc *http.Client
	var err error
	if c.HTTPClient != nil {
		hc, err = c.HTTPClient(p)
	} else {
		// Fetches are rare: a client of their own, closed after.
		hc, err = tlsclient.New(p.TLS, DefaultTimeout)
		if hc != nil {
			defer hc.CloseIdleConnections()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the TLS settings of profile %q: %w", p.Name, err)
	}
	if hc.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri %q is not a valid URL: %w", url, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	req.Header.Set("User-Agent", "oidcctl")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, discovery.ForProfile(p.Name, fmt.Errorf("fetching the key set: %w", discovery.Explain(err)))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the key set from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the key set at %s: HTTP %s", url, resp.Status)
	}
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("the key set at %s is larger than 1 MiB", url)
	}
	return parseSet(url, body)
}

// parseSet parses a JWKS and indexes its keys. Entries jwx cannot parse
// are kept as unsupported keys (and listed with a problem) rather than
// failing the whole set, as RFC 7517 §5 asks.
func parseSet(url string, body []byte) (*keySet, error) {
	set, err := jwk.Parse(body, jwk.WithStrictKeySetParsing(false))
	if err != nil {
		return nil, fmt.Errorf("the key set at %s is not a valid JWK set: %w", url, err)
	}
	ks := fromSet(set)
	ks.size = len(body)
	return ks, nil
}

// fromSet exports the keys of a parsed set and indexes them by kid.
func fromSet(set jwk.Set) *keySet {
	ks := &keySet{set: set, byKID: make(map[string]Key, set.Len())}
	for i := range set.Len() {
		jk, _ := set.Key(i)
		key := describe(jk)
		info := keyInfo(jk, key)
		kid := info.KID
		if _, dup := ks.byKID[kid]; dup && kid != "" {
			info.Problem = fmt.Sprintf("kid %q appears more than once; the first key with it is used", kid)
			key.Public, key.Problem = nil, info.Problem
		} else if kid != "" {
			ks.byKID[kid] = key
		}
		if key.Public != nil {
			ks.usable = append(ks.usable, key)
		}
		ks.info = append(ks.info, info)
	}
	return ks
}

// lookup finds a key by kid; "" finds the only usable key. A nil set has
// none.
func (ks *keySet) lookup(kid string) (Key, bool) {
	if ks == nil {
		return Key{}, false
	}
	if kid == "" {
		if len(ks.usable) == 1 {
			return ks.usable[0], true
		}
		return Key{}, false
	}
	k, ok := ks.byKID[kid]
	return k, ok
}

// describe exports a jwx key to its crypto form, or says why it cannot
// verify.
func describe(jk jwk.Key) Key {
	key := Key{JWK: jk}
	if a, ok := jk.Algorithm(); ok {
		key.Alg = a.String()
	}
	if jwk.IsUnsupportedKey(jk) {
		key.Problem = fmt.Sprintf("jwx cannot parse this key: %v", jk.(jwk.UnsupportedKey).Reason())
		return key
	}
	if use, ok := jk.KeyUsage(); ok && use != "sig" {
		key.Problem = fmt.Sprintf("use is %q, not sig", use)
		return key
	}
	if ops, ok := jk.KeyOps(); ok && !slices.Contains(ops, jwk.KeyOpVerify) {
		key.Problem = fmt.Sprintf("key_ops %v does not include verify", ops)
		return key
	}
	var raw any
	if err := jwk.Export(jk, &raw); err != nil {
		key.Problem = fmt.Sprintf("cannot export the key: %v", err)
		return key
	}
	if s, ok := raw.(crypto.Signer); ok {
		// A private key published by mistake: use its public half.
		raw = s.Public()
	}
	switch pub := raw.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < MinRSABits {
			key.Problem = fmt.Sprintf("RSA key of %d bits is shorter than %d", pub.N.BitLen(), MinRSABits)
			return key
		}
		key.Public = pub
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			key.Public = pub
		default:
			key.Problem = fmt.Sprintf("curve %s is not supported", pub.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		key.Public = pub
	case []byte:
		key.Problem = "kty oct (a shared secret) is never used to verify tokens"
	default:
		key.Problem = fmt.Sprintf("key type %T cannot verify token signatures", raw)
	}
	return key
}

func keyInfo(jk jwk.Key, key Key) KeyInfo {
	in := KeyInfo{Kty: jk.KeyType().String(), Problem: key.Problem}
	in.KID, _ = jk.KeyID()
	if a, ok := jk.Algorithm(); ok {
		in.Alg = a.String()
	}
	in.Use, _ = jk.KeyUsage()
	in.X5T, _ = jk.X509CertThumbprint()
	in.X5TS256, _ = jk.X509CertThumbprintS256()
	switch pub := key.Public.(type) {
	case *rsa.PublicKey:
		in.Bits = pub.N.BitLen()
	case *ecdsa.PublicKey:
		in.Curve, in.Bits = pub.Curve.Params().Name, pub.Curve.Params().BitSize
	case ed25519.PublicKey:
		in.Curve = "Ed25519"
	}
	return in
}

// Lookup picks the key that verifies a token with the given kid from a
// set, by the rules of Cache.PublicKey: the key with that kid (the first
// when a kid appears twice), or for "" the only usable key; each exported
// to its crypto form, or with the Problem that keeps it from verifying.
// It is the key selection for sets that do not come from a Cache (the
// id_token check's Keys hook).
func Lookup(set jwk.Set, kid string) (Key, bool) {
	return fromSet(set).lookup(kid)
}
