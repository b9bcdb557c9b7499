package discovery_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

const discoveryPath = "/.well-known/openid-configuration"

// providerClient starts a real provider and a Client that talks to it
// through a counting transport.
func providerClient(t *testing.T) (*oidctest.Provider, *discovery.Client, *countingTransport, *memCache, *testkit.Clock) {
	t.Helper()
	prov := oidctest.Start(t)
	tr := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(tr.base.(*http.Transport).CloseIdleConnections)
	cache, clk := newMemCache(), newClock()
	c := &discovery.Client{
		Cache: cache,
		Now:   clk.Now,
		HTTPClient: func(core.Profile) (*http.Client, error) {
			return &http.Client{Transport: tr, Timeout: 5 * time.Second}, nil
		},
		Logger: (&logBuffer{}).logger(),
	}
	return prov, c, tr, cache, clk
}

func TestFetchRealProvider(t *testing.T) {
	prov, c, _, cache, clk := providerClient(t)
	p := profile("real", prov.DiscoveryURL)

	d, err := c.Fetch(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ name, got, want string }{
		{"issuer", d.Issuer, prov.Issuer},
		{"authorization_endpoint", d.AuthorizationEndpoint, prov.AuthURL},
		{"token_endpoint", d.TokenEndpoint, prov.TokenURL},
		{"jwks_uri", d.JWKSURI, prov.JWKSURL},
		{"userinfo_endpoint", d.UserinfoEndpoint, prov.UserinfoURL},
		{"introspection_endpoint", d.IntrospectionEndpoint, prov.IntrospectionURL},
		{"revocation_endpoint", d.RevocationEndpoint, prov.RevocationURL},
		{"device_authorization_endpoint", d.DeviceAuthorizationEndpoint, prov.DeviceAuthorizationURL},
		{"URL", d.URL, prov.DiscoveryURL},
	} {
		if f.got != f.want || f.got == "" {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	for _, g := range []string{"authorization_code", "client_credentials", "refresh_token", "password",
		"urn:ietf:params:oauth:grant-type:device_code"} {
		if !d.SupportsGrant(g) {
			t.Errorf("SupportsGrant(%q) = false; grant_types_supported = %v", g, d.GrantTypesSupported)
		}
	}
	if d.SupportsGrant("implicit-nonsense") {
		t.Error("SupportsGrant accepts an unknown grant")
	}
	if !slices.Contains(d.IDTokenSigningAlgValuesSupported, "RS256") {
		t.Errorf("id_token_signing_alg_values_supported = %v, want RS256", d.IDTokenSigningAlgValuesSupported)
	}
	if !d.SupportsCodeChallenge("S256") {
		t.Errorf("code_challenge_methods_supported = %v, want S256", d.CodeChallengeMethodsSupported)
	}
	if !slices.Contains(d.ScopesSupported, "openid") || !slices.Contains(d.ResponseTypesSupported, "code") {
		t.Errorf("scopes %v, response types %v", d.ScopesSupported, d.ResponseTypesSupported)
	}
	if d.IssuerFor("some-tenant") != prov.Issuer {
		t.Errorf("IssuerFor changed a plain issuer: %q", d.IssuerFor("some-tenant"))
	}

	cd, ok := cache.get("real")
	if !ok {
		t.Fatal("Fetch did not cache the document")
	}
	if cd.URL != prov.DiscoveryURL || !cd.FetchedAt.Equal(clk.Now()) || string(cd.Body) != string(d.Raw) {
		t.Errorf("cached %q at %s, want %q at %s with the raw body", cd.URL, cd.FetchedAt, prov.DiscoveryURL, clk.Now())
	}
	var raw map[string]any
	if err := json.Unmarshal(cd.Body, &raw); err != nil || raw["issuer"] != prov.Issuer {
		t.Errorf("cached body is not the document: %v %v", err, raw["issuer"])
	}
}

func TestTestRealProvider(t *testing.T) {
	prov, c, tr, cache, clk := providerClient(t)
	clk.SetTick(time.Millisecond)
	clk.Set(time.Now()) // the provider's clock is the real one
	p := profile("real", prov.DiscoveryURL)

	r, err := c.Test(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Document == nil || r.Document.Issuer != prov.Issuer {
		t.Fatalf("report document %+v", r.Document)
	}
	if r.Duration <= 0 || r.JWKSDuration <= 0 {
		t.Errorf("durations %s and %s, want both measured with the client's clock", r.Duration, r.JWKSDuration)
	}
	if n := tr.count(mustPath(t, prov.JWKSURL)); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
	if len(r.Keys) == 0 {
		t.Fatal("no keys in the report")
	}
	i := slices.IndexFunc(r.Keys, func(k discovery.Key) bool { return k.ID == prov.KeyID() })
	if i < 0 {
		t.Fatalf("the provider's signing key %q is not among %+v", prov.KeyID(), r.Keys)
	}
	k := r.Keys[i]
	if k.Type != "RSA" || k.Bits != prov.PublicKey().N.BitLen() || k.Private || k.Unsupported {
		t.Errorf("key summary %+v, want a public %d-bit RSA key", k, prov.PublicKey().N.BitLen())
	}
	if k.Use != "" && k.Use != "sig" {
		t.Errorf("key use %q", k.Use)
	}
	// The test provider speaks plain http; nothing else is wrong with it.
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "plain http, not https, for issuer, authorization_endpoint, token_endpoint, jwks_uri") {
		t.Errorf("warnings %q, want exactly the plain-http one", r.Warnings)
	}
	if _, ok := cache.get("real"); !ok {
		t.Error("Test did not cache the document it fetched")
	}
	if r.ClockOffset == nil || r.ClockOffset.Abs() > 2*time.Second {
		t.Errorf("clock offset %v, want about 0", r.ClockOffset)
	}
	// Our clock an hour behind: the provider's is an hour ahead.
	clk.Set(time.Now().Add(-time.Hour))
	r, err = c.Test(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if r.ClockOffset == nil || (*r.ClockOffset-time.Hour).Abs() > 2*time.Second ||
		!slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "clock is 1h0m0s ahead of this machine's") }) {
		t.Errorf("an hour of skew: offset %v, warnings %q", r.ClockOffset, r.Warnings)
	}
	if b, err := json.Marshal(r); err != nil || !strings.Contains(string(b), `"kid":"`+prov.KeyID()+`"`) {
		t.Errorf("report JSON %s, %v", b, err)
	}

	// Test always fetches, even with a fresh cached document.
	if _, err := c.Test(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if n := tr.count(discoveryPath); n != 3 {
		t.Errorf("three Tests fetched the document %d times, want 3", n)
	}
}

func TestGetCachesWithinTTL(t *testing.T) {
	prov, c, tr, cache, clk := providerClient(t)
	p := profile("cached", prov.DiscoveryURL)
	p.DiscoveryTTL = 10 * time.Minute

	first, err := c.Get(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.count(discoveryPath); n != 1 {
		t.Fatalf("first Get fetched %d times, want 1", n)
	}
	if !first.FetchedAt.Equal(clk.Now()) {
		t.Errorf("FetchedAt %s, want the clock's %s", first.FetchedAt, clk.Now())
	}

	clk.Add(9 * time.Minute)
	again, err := c.Get(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.count(discoveryPath); n != 1 || again != first {
		t.Errorf("Get within the TTL fetched (%d requests in all) or returned another document", n)
	}

	// Another process (a new Client) on the same cache uses the cached
	// document too.
	readsBefore, _ := cache.counts()
	other := &discovery.Client{Cache: cache, Now: clk.Now, HTTPClient: c.HTTPClient, Logger: c.Logger}
	d, err := other.Get(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	reads, _ := cache.counts()
	if n := tr.count(discoveryPath); n != 1 || reads != readsBefore+1 {
		t.Errorf("a second client fetched (%d requests in all) or did not read the cache (%d reads)", n, reads-readsBefore)
	}
	if d.Issuer != prov.Issuer || !d.FetchedAt.Equal(first.FetchedAt) {
		t.Errorf("second client got issuer %q fetched at %s", d.Issuer, d.FetchedAt)
	}

	// At the TTL the document is refetched and the cache updated.
	clk.Add(time.Minute)
	refetched, err := c.Get(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.count(discoveryPath); n != 2 {
		t.Errorf("Get after the TTL: %d requests in all, want 2", n)
	}
	if !refetched.FetchedAt.Equal(clk.Now()) {
		t.Errorf("refetched document has FetchedAt %s, want %s", refetched.FetchedAt, clk.Now())
	}
	if cd, _ := cache.get("cached"); !cd.FetchedAt.Equal(clk.Now()) {
		t.Errorf("cache holds a document fetched at %s, want %s", cd.FetchedAt, clk.Now())
	}
	if _, err := other.Get(t.Context(), p); err != nil || tr.count(discoveryPath) != 2 {
		t.Errorf("the second client should now see the refetched document in the cache: %v, %d requests", err, tr.count(discoveryPath))
	}

	// A changed discovery URL is never served from the cache.
	p.DiscoveryURL = prov.DiscoveryURL + "?v=2"
	if _, err := c.Get(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if n := tr.count(discoveryPath); n != 3 {
		t.Errorf("Get with a new URL: %d requests in all, want 3", n)
	}

	// A TTL of 0 trusts no cached document.
	p.DiscoveryTTL = 0
	for range 2 {
		if _, err := c.Get(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	if n := tr.count(discoveryPath); n != 5 {
		t.Errorf("two Gets with TTL 0: %d requests in all, want 5", n)
	}
}

func TestGetConcurrentFetchesOnce(t *testing.T) {
	prov, c, tr, _, _ := providerClient(t)
	p := profile("concurrent", prov.DiscoveryURL)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			d, err := c.Get(t.Context(), p)
			if err == nil && d.Issuer != prov.Issuer {
				err = &discovery.Error{URL: d.URL, Stage: "test", Err: errDown}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := tr.count(discoveryPath); n != 1 {
		t.Errorf("8 concurrent Gets fetched %d times, want 1", n)
	}
}

func TestGetServesStaleWhenProviderDown(t *testing.T) {
	prov, c, tr, _, clk := providerClient(t)
	logs := &logBuffer{}
	c.Logger = logs.logger()
	c.MaxStale = time.Hour
	c.RetryBackoff = time.Minute
	p := profile("stale", prov.DiscoveryURL)
	p.DiscoveryTTL = 10 * time.Minute

	good, err := c.Get(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	tr.down.Store(true)
	clk.Add(15 * time.Minute)

	d, err := c.Get(t.Context(), p)
	if err != nil {
		t.Fatalf("Get with the provider down and a stale document: %v", err)
	}
	if d != good {
		t.Error("Get did not return the stale document")
	}
	if n := tr.count(discoveryPath); n != 2 {
		t.Errorf("%d requests, want the initial one and one failed refresh", n)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "past its TTL") || !strings.Contains(l, errDown.Error()) {
		t.Errorf("no warning logged about the stale document:\n%s", l)
	}

	// Within the backoff nothing is tried.
	clk.Add(30 * time.Second)
	if d, err := c.Get(t.Context(), p); err != nil || d != good || tr.count(discoveryPath) != 2 {
		t.Errorf("Get within the backoff: %v, %d requests", err, tr.count(discoveryPath))
	}
	// After it, one more try.
	clk.Add(31 * time.Second)
	if d, err := c.Get(t.Context(), p); err != nil || d != good || tr.count(discoveryPath) != 3 {
		t.Errorf("Get after the backoff: %v, %d requests", err, tr.count(discoveryPath))
	}
	// Fetch does not fall back.
	if _, err := c.Fetch(t.Context(), p); err == nil {
		t.Error("Fetch with the provider down succeeded")
	}
	// Past TTL + MaxStale the stale document is no longer good enough.
	clk.Add(time.Hour)
	_, err = c.Get(t.Context(), p)
	wantError(t, err, discovery.StageConnect, prov.DiscoveryURL, errDown.Error())

	// Back up: a fresh document again.
	tr.down.Store(false)
	clk.Add(2 * time.Minute)
	d, err = c.Get(t.Context(), p)
	if err != nil || !d.FetchedAt.Equal(clk.Now()) {
		t.Errorf("Get after recovery: %v, fetched at %s", err, d.FetchedAt)
	}
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}
