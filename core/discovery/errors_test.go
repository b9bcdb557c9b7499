package discovery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/tlsclient"
)

// docFor returns a valid discovery document for a provider at issuer, with
// edit applied.
func docFor(issuer string, edit func(map[string]any)) []byte {
	doc := map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                issuer + "/auth",
		"token_endpoint":                        issuer + "/token",
		"jwks_uri":                              issuer + "/keys",
		"response_types_supported":              []string{"code"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	if edit != nil {
		edit(doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

func TestBadDocuments(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        func(issuer string) []byte
		stage       string
		want        []string
	}{
		{
			name: "404", status: 404, contentType: "text/plain",
			body:  func(string) []byte { return []byte("no such page\n\n  here " + strings.Repeat("x", 500)) },
			stage: discovery.StageHTTP,
			want:  []string{"HTTP 404 Not Found", `the body starts: "no such page here xxx`},
		},
		{
			name: "HTML login page", contentType: "text/html; charset=utf-8",
			body:  func(string) []byte { return []byte("<!DOCTYPE html>\n<html><body>Sign in</body></html>") },
			stage: discovery.StageJSON,
			want:  []string{"not JSON (content-type text/html; charset=utf-8)", `"<!DOCTYPE html> <html><body>Sign in`},
		},
		{
			name: "invalid JSON", contentType: "application/json",
			body:  func(string) []byte { return []byte(`{"issuer": "x",`) },
			stage: discovery.StageJSON,
			want:  []string{"not JSON (content-type application/json)"},
		},
		{
			name: "JSON array", contentType: "application/json",
			body:  func(string) []byte { return []byte(`["issuer"]`) },
			stage: discovery.StageJSON,
			want:  []string{"is JSON but not an object"},
		},
		{
			name: "field of the wrong type", contentType: "application/json",
			body: func(iss string) []byte {
				return docFor(iss, func(d map[string]any) { d["scopes_supported"] = "openid profile" })
			},
			stage: discovery.StageDocument,
			want:  []string{"field scopes_supported is a JSON string, want an array of strings"},
		},
		{
			name: "issuer mismatch", contentType: "application/json",
			body: func(iss string) []byte {
				return docFor(iss, func(d map[string]any) { d["issuer"] = "https://elsewhere.example" })
			},
			stage: discovery.StageIssuer,
			want:  []string{`issuer mismatch: the document says "https://elsewhere.example", expected "http://127.0.0.1:`, "OpenID Connect Discovery 1.0 §4.3"},
		},
		{
			name: "issuer with a trailing slash", contentType: "application/json",
			body: func(iss string) []byte {
				return docFor(iss, func(d map[string]any) { d["issuer"] = iss + "/" })
			},
			stage: discovery.StageIssuer,
			want:  []string{"issuer mismatch", "differ only in the trailing slash"},
		},
		{
			name: "Entra issuer without the entra flavour", contentType: "application/json",
			body: func(iss string) []byte {
				return docFor(iss, func(d map[string]any) { d["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0" })
			},
			stage: discovery.StageIssuer,
			want:  []string{"issuer mismatch", "set the profile's flavour to entra"},
		},
		{
			name: "no issuer", contentType: "application/json",
			body:  func(iss string) []byte { return docFor(iss, func(d map[string]any) { delete(d, "issuer") }) },
			stage: discovery.StageIssuer,
			want:  []string{"the document has no issuer"},
		},
		{
			name: "no jwks_uri", contentType: "application/json",
			body:  func(iss string) []byte { return docFor(iss, func(d map[string]any) { delete(d, "jwks_uri") }) },
			stage: discovery.StageDocument,
			want:  []string{"the document has no jwks_uri"},
		},
		{
			name: "no token_endpoint", contentType: "application/json",
			body:  func(iss string) []byte { return docFor(iss, func(d map[string]any) { delete(d, "token_endpoint") }) },
			stage: discovery.StageDocument,
			want:  []string{"the document has no token_endpoint"},
		},
		{
			name: "relative token_endpoint", contentType: "application/json",
			body: func(iss string) []byte {
				return docFor(iss, func(d map[string]any) { d["token_endpoint"] = "/token" })
			},
			stage: discovery.StageDocument,
			want:  []string{`token_endpoint "/token" is not an absolute http(s) URL`},
		},
		{
			name: "larger than 1 MiB", contentType: "application/json",
			body: func(iss string) []byte {
				return docFor(iss, func(d map[string]any) { d["padding"] = strings.Repeat("x", discovery.MaxBodySize) })
			},
			stage: discovery.StageHTTP,
			want:  []string{"larger than 1 MiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				w.Write(tt.body(srv.URL))
			}))
			defer srv.Close()
			url := srv.URL + discoveryPath
			cache := newMemCache()
			c := &discovery.Client{Cache: cache, Now: newClock().Now, Logger: (&logBuffer{}).logger()}

			for _, get := range []func() (*discovery.Document, error){
				func() (*discovery.Document, error) { return c.Fetch(t.Context(), profile("bad", url)) },
				func() (*discovery.Document, error) { return c.Get(t.Context(), profile("bad", url)) },
			} {
				d, err := get()
				if d != nil {
					t.Errorf("got a document %+v with the error", d)
				}
				de := wantError(t, err, tt.stage, append([]string{url + ": "}, tt.want...)...)
				if de.URL != url {
					t.Errorf("Error.URL = %q, want %q", de.URL, url)
				}
			}
			if _, w := cache.counts(); w != 0 {
				t.Errorf("a bad document was cached (%d writes)", w)
			}
			r, err := c.Test(t.Context(), profile("bad", url))
			wantError(t, err, tt.stage, tt.want...)
			if r == nil {
				t.Fatal("Test returned no report")
			}
			if tt.stage == discovery.StageIssuer || tt.stage == discovery.StageDocument {
				if r.Document == nil && !strings.Contains(tt.name, "wrong type") {
					t.Error("Test's report lacks the document that failed the checks")
				}
			}
		})
	}
}

func TestStatusError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone fishing", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := (&discovery.Client{}).Fetch(t.Context(), profile("x", srv.URL+discoveryPath))
	var se *discovery.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v does not carry a *StatusError", err)
	}
	if se.StatusCode != 503 || se.Body != "gone fishing" || !strings.HasPrefix(se.ContentType, "text/plain") {
		t.Errorf("StatusError %+v", se)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		stage   string
		want    []string
		as      func(error) bool
	}{
		{
			name: "nothing listens", url: "http://" + closedPort + discoveryPath,
			stage: discovery.StageConnect,
			want:  []string{"the provider at " + closedPort + " does not answer (connection refused); is it running", "? Try: oidcctl profile test down"},
		},
		{
			name: "DNS failure", url: "https://oidcctl-test.invalid" + discoveryPath,
			stage: discovery.StageDNS,
			want:  []string{`DNS lookup failed for host "oidcctl-test.invalid": no such host`},
			as:    func(err error) bool { var d *net.DNSError; return errors.As(err, &d) },
		},
		{
			name: "no answer in time", url: slow.URL + discoveryPath, timeout: 200 * time.Millisecond,
			stage: discovery.StageConnect,
			want:  []string{"does not answer in time", "Try: oidcctl profile test down"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &discovery.Client{Now: newClock().Now}
			if tt.timeout > 0 {
				c.HTTPClient = func(p core.Profile) (*http.Client, error) { return tlsclient.New(p.TLS, tt.timeout) }
			}
			p := profile("down", tt.url)
			p.InsecureHTTP = true
			_, err := c.Get(t.Context(), p)
			wantError(t, err, tt.stage, append([]string{tt.url + ": "}, tt.want...)...)
			if tt.as != nil && !tt.as(err) {
				t.Errorf("errors.As does not reach the cause of %v", err)
			}
		})
	}
}

func TestTestWarnings(t *testing.T) {
	var srv *httptest.Server
	var doc func(string) []byte
	var jwks string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keys" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, jwks)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(doc(srv.URL))
	}))
	defer srv.Close()

	doc = func(iss string) []byte {
		return docFor(iss, func(d map[string]any) {
			d["id_token_signing_alg_values_supported"] = []string{"RS256", "ES256", "none"}
			d["code_challenge_methods_supported"] = []string{"plain"}
			d["grant_types_supported"] = []string{"authorization_code", "client_credentials"}
			delete(d, "response_types_supported")
			d["userinfo_endpoint"] = "userinfo"
		})
	}
	// Two keys without kid, one of them a 1024-bit RSA key, and a
	// symmetric key.
	jwks = `{"keys":[
		{"kty":"RSA","use":"sig","alg":"RS256","e":"AQAB","n":"w` + strings.Repeat("A", 170) + `"},
		{"kty":"oct","k":"c2VjcmV0"}
	]}`
	r, err := (&discovery.Client{Now: newClock().Now}).Test(t.Context(), profile("odd", srv.URL+discoveryPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Keys) != 2 || r.Keys[0].Type != "RSA" || r.Keys[1].Type != "oct" || !r.Keys[1].Private {
		t.Errorf("keys %+v", r.Keys)
	}
	all := strings.Join(r.Warnings, "\n")
	for _, w := range []string{
		`served as "text/plain", not application/json`,
		`userinfo_endpoint "userinfo" is not an absolute http(s) URL`,
		"plain http, not https, for issuer, authorization_endpoint, token_endpoint, jwks_uri",
		"response_types_supported is missing",
		`id_token_signing_alg_values_supported lists "none"`,
		"does not support PKCE S256 (code_challenge_methods_supported: plain)",
		"does not list refresh_token",
		`key #1 (kty "RSA") cannot be used: jwk.RSAPublicKey: rsa modulus too small: got 1024 bits, need at least 2048`,
		"key #2 is a symmetric (oct) key",
		"key #1 has no kid",
		"lists ES256, but the JWKS has no EC signing key",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("no warning containing %q in:\n%s", w, all)
		}
	}

	jwks = `{"keys":[]}`
	r, err = (&discovery.Client{Now: newClock().Now}).Test(t.Context(), profile("odd", srv.URL+discoveryPath))
	if err != nil || !strings.Contains(strings.Join(r.Warnings, "\n"), "the JWKS has no keys") {
		t.Errorf("empty JWKS: %v, warnings %q", err, r.Warnings)
	}

	jwks = `<html>oops</html>`
	r, err = (&discovery.Client{Now: newClock().Now}).Test(t.Context(), profile("odd", srv.URL+discoveryPath))
	wantError(t, err, discovery.StageJSON, srv.URL+"/keys: the JWKS is not JSON")
	if r.Document == nil {
		t.Error("report lost the document when the JWKS failed")
	}

	jwks = `{"kty":"RSA","kid":"lonely"}`
	_, err = (&discovery.Client{Now: newClock().Now}).Test(t.Context(), profile("odd", srv.URL+discoveryPath))
	wantError(t, err, discovery.StageJWKS, srv.URL+`/keys: not a JWK set: want a JSON object with a "keys" array`)

	jwks = `{"keys":[{"kty":"RSA","kid":"broken","n":5}]}`
	r, err = (&discovery.Client{Now: newClock().Now}).Test(t.Context(), profile("odd", srv.URL+discoveryPath))
	if err != nil || len(r.Keys) != 1 || !r.Keys[0].Unsupported || r.Keys[0].ID != "broken" ||
		!strings.Contains(strings.Join(r.Warnings, "\n"), `key "broken" (kty "RSA") cannot be used`) {
		t.Errorf("broken key: %v, keys %+v, warnings %q", err, r.Keys, r.Warnings)
	}
}

func ExampleError() {
	err := &discovery.Error{
		URL:   "https://idp.example/.well-known/openid-configuration",
		Stage: discovery.StageHTTP,
		Err:   &discovery.StatusError{StatusCode: 404, Status: "404 Not Found", Body: "not here"},
	}
	fmt.Println(err)
	// Output: https://idp.example/.well-known/openid-configuration: HTTP 404 Not Found; the body starts: "not here"
}
