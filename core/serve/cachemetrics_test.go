package serve_test

import (
	"strings"
	"testing"
)

// TestCacheMetrics: /metrics shows the validator's result cache: entries
// and bytes of accepted results and of refusals (the negative cache), the
// bounds, and hits and misses, from which the hit rate follows; and the
// key-set and discovery caches likewise.
func TestCacheMetrics(t *testing.T) {
	h := start(t)
	tok := h.signed(nil)
	bad := tok[:len(tok)-40] + "AAAA" + tok[len(tok)-36:]
	for range 3 {
		if r := h.do("GET", "/auth", tok, nil); r.status != 200 {
			t.Fatalf("valid token: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/auth", bad, nil); r.status != 401 {
			t.Fatalf("tampered token: %d %s", r.status, r.body)
		}
	}
	metrics := h.do("GET", "/metrics", "", nil).body
	for _, want := range []string{
		`oidcctl_validation_cache_entries{kind="accepted"} 1`,
		`oidcctl_validation_cache_entries{kind="refused"} 1`,
		`oidcctl_validation_cache_bytes{kind="accepted"} `,
		`oidcctl_validation_cache_max_bytes{kind="refused"} 4.194304e+06`,
		`oidcctl_validation_cache_hits_total 4`,
		`oidcctl_validation_cache_misses_total 2`,
		// The key set and the discovery document, bounded likewise.
		`oidcctl_jwks_cache_sets 1`,
		`oidcctl_jwks_cache_max_bytes 8.388608e+06`,
		`oidcctl_jwks_cache_hits_total `,
		`oidcctl_discovery_cache_documents 1`,
		`oidcctl_discovery_cache_max_bytes 4.194304e+06`,
		`oidcctl_discovery_cache_hits_total `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, zero := range []string{`oidcctl_validation_cache_bytes{kind="accepted"} 0`, `oidcctl_jwks_cache_bytes 0`, `oidcctl_discovery_cache_bytes 0`} {
		if strings.Contains(metrics, zero+"\n") || !strings.Contains(metrics, strings.TrimSuffix(zero, "0")) {
			t.Errorf("/metrics: %s, or missing", zero)
		}
	}
}
