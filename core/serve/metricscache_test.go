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

// TestForwardAuthRefusalRecord: the debugger's record of a refused
// forward-auth call has the answer as the caller got it (the JSON body,
// the challenge, X-Request-Id) and the refusal's detail as its reason,
// though serve keeps the body without copying it and makes the detail
// only for the record.
func TestForwardAuthRefusalRecord(t *testing.T) {
	h := start(t)
	r := h.do("GET", "/auth", "not-a-jwt", nil)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	es := h.entries("")
	if len(es) != 1 {
		t.Fatalf("%d entries, want 1: %+v", len(es), es)
	}
	e := es[0]
	// The record's JSON is re-encoded for redaction, without the newline.
	if string(e.ResponseBody) != strings.TrimSuffix(r.body, "\n") || e.Status != http.StatusUnauthorized || e.Verdict != "refused" {
		t.Errorf("recorded %d %s %q, the caller got %q", e.Status, e.Verdict, e.ResponseBody, r.body)
	}
	if !strings.HasPrefix(e.Reason, "opaque: ") {
		t.Errorf("reason %q", e.Reason)
	}
	id := r.header.Get("X-Request-Id")
	if id == "" || e.RequestID != id || !strings.Contains(r.body, `"request_id":"`+id+`"`) {
		t.Errorf("request id %q, recorded %q, body %s", id, e.RequestID, r.body)
	}
	for _, k := range []string{"Www-Authenticate", "Content-Type", "Content-Length", "Cache-Control", "X-Request-Id"} {
		if got, want := e.ResponseHeader.Get(k), r.header.Get(k); got != want || want == "" {
			t.Errorf("recorded %s %q, the caller got %q", k, got, want)
		}
	}
}
