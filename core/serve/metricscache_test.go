package serve_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestMetricSeriesAcrossReloads: the series a call counts in (kept from
// their first use, see metricscache.go) are the registry's: the counts
// of forward-auth, of a webservice and of a profile's validations go on
// in the same series across a reload, every outcome in its own, and a
// refusal's reason in its own, other's staying at zero.
func TestMetricSeriesAcrossReloads(t *testing.T) {
	h := start(t)
	tok := h.signed(nil)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	h.addWebservice(provider("api", "/", up.url, "GET"))
	calls := func() {
		if r := h.do("GET", "/auth", tok, nil); r.status != http.StatusOK {
			t.Fatalf("auth: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/auth", "not-a-jwt", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("auth with a bad token: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/ws/api/", tok, nil); r.status != http.StatusOK {
			t.Fatalf("webservice: %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/ws/api/", tok, nil); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("webservice, POST: %d %s", r.status, r.body)
		}
	}
	calls()
	must(t, h.srv.Reload(context.Background()))
	calls()

	metrics := h.do("GET", "/metrics", "", nil).body
	for _, want := range []string{
		`oidcctl_requests_total{outcome="accepted",webservice="forward-auth"} 2`,
		`oidcctl_requests_total{outcome="refused",webservice="forward-auth"} 2`,
		`oidcctl_request_duration_seconds_count{webservice="forward-auth"} 4`,
		`oidcctl_requests_total{outcome="accepted",webservice="api"} 2`,
		`oidcctl_requests_total{outcome="method_not_allowed",webservice="api"} 2`,
		`oidcctl_request_duration_seconds_count{webservice="api"} 4`,
		`oidcctl_validation_duration_seconds_count{profile="op"} 6`,
		`oidcctl_token_refusals_total{reason="opaque"} 2`,
		`oidcctl_token_refusals_total{reason="other"} 0`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(metrics)
	}
}
