package discovery

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"oidcctl/core"
)

// Report is what Client.Test found out about a profile's provider.
type Report struct {
	// URL is the discovery URL tested.
	URL string `json:"url"`
	// Document is the document as served; it is set when the body was a
	// JSON object, even when the document then failed its checks.
	Document *Document `json:"document,omitempty"`
	// ContentType is the Content-Type of the discovery response.
	ContentType string `json:"content_type,omitempty"`
	// Duration is how long fetching the discovery document took. The
	// durations are left out of the JSON form: `oidcctl profile test -o
	// json` gives them in seconds, as every duration of its JSON.
	Duration time.Duration `json:"-"`
	// JWKSDuration is how long fetching the JWKS took.
	JWKSDuration time.Duration `json:"-"`
	// Keys summarises the JWKS.
	Keys []Key `json:"keys"`
	// ClockOffset is how far the provider's clock (its HTTP Date header,
	// to the second) is ahead of ours; nil when it sent no Date.
	ClockOffset *time.Duration `json:"-"`
	// Warnings are problems that do not stop oidcctl from working with
	// the provider, in words for a person.
	Warnings []string `json:"warnings"`
}

// Key summarises one key of a JWKS.
type Key struct {
	ID        string `json:"kid,omitempty"`
	Type      string `json:"kty"`
	Algorithm string `json:"alg,omitempty"`
	Use       string `json:"use,omitempty"`
	X5T       string `json:"x5t,omitempty"`
	X5TS256   string `json:"x5t#S256,omitempty"`
	Curve     string `json:"crv,omitempty"`  // EC and OKP keys
	Bits      int    `json:"bits,omitempty"` // RSA keys
	// Private: the JWKS publishes private or symmetric key material.
	Private bool `json:"private,omitempty"`
	// Unsupported: the key cannot be used, for the reason in Problem.
	Unsupported bool   `json:"unsupported,omitempty"`
	Problem     string `json:"problem,omitempty"`
}

func (k Key) name(i int) string {
	if k.ID != "" {
		return fmt.Sprintf("%q", k.ID)
	}
	return fmt.Sprintf("#%d", i+1)
}

// Test fetches the profile's discovery document afresh, checks it, caches
// it when it passes, and fetches and summarises its JWKS with the same
// HTTP client. The report is never nil: it holds what was learnt before
// any failure. The error, an *Error, is the first failure that stops
// oidcctl from using the provider; lesser problems are Report.Warnings.
func (c *Client) Test(ctx context.Context, p core.Profile) (*Report, error) {
	r := &Report{URL: p.DiscoveryURL, Keys: []Key{}, Warnings: []string{}}
	hc, done, err := c.httpClient(p)
	if err != nil {
		return r, err
	}
	defer done()

	start := c.now()
	d, ct, err := c.fetch(ctx, hc, p)
	r.Duration = c.now().Sub(start)
	r.ContentType, r.Document = ct, d
	c.settle(p, d, err)
	if err != nil {
		return r, err
	}
	r.Warnings = append(r.Warnings, documentWarnings(d, ct)...)

	start = c.now()
	body, h, err := download(ctx, hc, d.JWKSURI)
	end := c.now()
	r.JWKSDuration = end.Sub(start)
	if err != nil {
		return r, err
	}
	jct := h.Get("Content-Type")
	if w := r.clockOffset(h.Get("Date"), start, end, p.Misc.Leeway); w != "" {
		r.Warnings = append(r.Warnings, w)
	}
	if !json.Valid(body) {
		return r, &Error{URL: d.JWKSURI, Stage: StageJSON, Err: fmt.Errorf(
			"the JWKS is not JSON (content-type %s); the body starts: %q", jct, snippet(body, 200))}
	}
	// Each key on its own: one key that jwx refuses (too short, unknown
	// curve) is a warning, not a failure of the whole set.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || set.Keys == nil {
		return r, &Error{URL: d.JWKSURI, Stage: StageJWKS, Err: explain(err,
			`not a JWK set: want a JSON object with a "keys" array, got %q`, snippet(body, 200))}
	}
	for _, raw := range set.Keys {
		r.Keys = append(r.Keys, summarize(raw))
	}
	r.Warnings = append(r.Warnings, keyWarnings(r.Keys, d)...)
	return r, nil
}

// summarize describes one JWK.
// clockOffset sets ClockOffset from an HTTP Date header against the
// middle of the request, and returns a warning when the clocks differ by
// more than the leeway: tokens would then be refused as not yet valid or
// expired. The Date header has whole seconds, so a second of offset is
// always tolerated.
func (r *Report) clockOffset(date string, start, end time.Time, leeway time.Duration) string {
	at, err := http.ParseTime(date)
	if err != nil {
		return ""
	}
	mid := start.Add(end.Sub(start) / 2)
	off := at.Sub(mid.Truncate(time.Second))
	r.ClockOffset = &off
	if off.Abs() <= max(leeway, time.Second) {
		return ""
	}
	dir := "ahead of"
	if off < 0 {
		dir = "behind"
	}
	return fmt.Sprintf("the provider's clock is %s %s this machine's, more than the leeway of %s: tokens will be refused as not yet valid or expired; sync the clocks (NTP) or raise --leeway",
		off.Abs().Round(time.Second), dir, leeway)
}

func summarize(raw json.RawMessage) Key {
	k, err := jwk.ParseKey(raw)
	if err != nil {
		var hdr struct{ Kid, Kty, Alg, Use string }
		_ = json.Unmarshal(raw, &hdr)
		return Key{ID: hdr.Kid, Type: hdr.Kty, Algorithm: hdr.Alg, Use: hdr.Use, Unsupported: true, Problem: jwxReason(err)}
	}
	var s Key
	s.ID, _ = k.KeyID()
	s.Type = k.KeyType().String()
	if a, ok := k.Algorithm(); ok {
		s.Algorithm = a.String()
	}
	s.Use, _ = k.KeyUsage()
	s.X5T, _ = k.X509CertThumbprint()
	s.X5TS256, _ = k.X509CertThumbprintS256()
	if ck, ok := k.(interface {
		Crv() (jwa.EllipticCurveAlgorithm, bool)
	}); ok {
		if crv, ok := ck.Crv(); ok {
			s.Curve = crv.String()
		}
	}
	if jwk.IsUnsupportedKey(k) {
		s.Unsupported, s.Problem = true, "unsupported key type"
		return s
	}
	if s.Type == jwa.OctetSeq().String() {
		s.Private = true
		return s
	}
	s.Private, _ = jwk.IsPrivateKey(k)
	var pub any
	if err := jwk.Export(k, &pub); err != nil {
		s.Unsupported, s.Problem = true, jwxReason(err)
		return s
	}
	switch rk := pub.(type) {
	case *rsa.PublicKey:
		s.Bits = rk.N.BitLen()
	case *rsa.PrivateKey:
		s.Bits = rk.N.BitLen()
	}
	return s
}

// documentWarnings lists what is odd about a document that passed check.
func documentWarnings(d *Document, contentType string) []string {
	var w []string
	if !isJSONContentType(contentType) {
		w = append(w, fmt.Sprintf("the document is served as %q, not application/json", contentType))
	}
	if _, ok := expectedIssuer(d.URL); !ok {
		w = append(w, fmt.Sprintf("the discovery URL does not end in /.well-known/openid-configuration, "+
			"so the issuer %q could not be checked against it", d.Issuer))
	}

	endpoints := []struct{ name, value string }{
		{"issuer", d.Issuer},
		{"authorization_endpoint", d.AuthorizationEndpoint},
		{"token_endpoint", d.TokenEndpoint},
		{"jwks_uri", d.JWKSURI},
		{"userinfo_endpoint", d.UserinfoEndpoint},
		{"revocation_endpoint", d.RevocationEndpoint},
		{"introspection_endpoint", d.IntrospectionEndpoint},
		{"device_authorization_endpoint", d.DeviceAuthorizationEndpoint},
		{"end_session_endpoint", d.EndSessionEndpoint},
	}
	var plain []string
	for _, e := range endpoints {
		if e.value == "" {
			continue
		}
		if msg := checkURL(e.value); msg != "" {
			w = append(w, fmt.Sprintf("%s %q %s", e.name, e.value, msg))
			continue
		}
		if u, _ := url.Parse(e.value); u.Scheme == "http" {
			plain = append(plain, e.name)
		}
	}
	if len(plain) > 0 {
		w = append(w, fmt.Sprintf("plain http, not https, for %s: tokens and secrets travel unencrypted; "+
			"acceptable only for a test provider on this machine", strings.Join(plain, ", ")))
	}
	if d.AuthorizationEndpoint == "" {
		w = append(w, "there is no authorization_endpoint: accounts with the authorization_code grant cannot log in")
	}

	if d.ResponseTypesSupported == nil {
		w = append(w, "response_types_supported is missing, though OpenID Connect Discovery requires it")
	}
	switch {
	case d.IDTokenSigningAlgValuesSupported == nil:
		w = append(w, "id_token_signing_alg_values_supported is missing, though OpenID Connect Discovery requires it")
	case slices.Contains(d.IDTokenSigningAlgValuesSupported, "none"):
		w = append(w, `id_token_signing_alg_values_supported lists "none": the provider can issue unsigned ID tokens (oidcctl never accepts them)`)
	}
	switch {
	case d.CodeChallengeMethodsSupported == nil:
		w = append(w, "code_challenge_methods_supported is missing: the provider does not say it supports PKCE; "+
			"authorization code logins send S256 anyway")
	case !d.SupportsCodeChallenge("S256"):
		w = append(w, fmt.Sprintf("the provider does not support PKCE S256 (code_challenge_methods_supported: %s)",
			strings.Join(d.CodeChallengeMethodsSupported, ", ")))
	}
	if d.GrantTypesSupported != nil && !d.SupportsGrant("refresh_token") {
		w = append(w, "grant_types_supported does not list refresh_token: tokens will be obtained anew instead of refreshed")
	}
	return w
}

// keyWarnings lists what is wrong with a JWKS.
func keyWarnings(keys []Key, d *Document) []string {
	if len(keys) == 0 {
		return []string{"the JWKS has no keys: no token signature can be checked"}
	}
	var w []string
	seen := map[string]bool{}
	for i, k := range keys {
		switch {
		case k.Unsupported:
			w = append(w, fmt.Sprintf("key %s (kty %q) cannot be used: %s", k.name(i), k.Type, k.Problem))
		case k.Type == jwa.OctetSeq().String():
			w = append(w, fmt.Sprintf("key %s is a symmetric (oct) key: a JWKS must publish only public keys, and oidcctl ignores it", k.name(i)))
		case k.Private:
			w = append(w, fmt.Sprintf("key %s publishes its private part: the provider leaks its signing key", k.name(i)))
		}
		if k.ID == "" && len(keys) > 1 {
			w = append(w, fmt.Sprintf("key %s has no kid: with several keys, a token cannot say which one signed it", k.name(i)))
		}
		if k.ID != "" && seen[k.ID] {
			w = append(w, fmt.Sprintf("kid %q is used by more than one key", k.ID))
		}
		seen[k.ID] = true
	}
	for _, alg := range d.IDTokenSigningAlgValuesSupported {
		kty := keyTypeFor(alg)
		if kty == "" {
			continue
		}
		if !slices.ContainsFunc(keys, func(k Key) bool { return k.Type == kty && !k.Unsupported && k.Use != "enc" }) {
			w = append(w, fmt.Sprintf("id_token_signing_alg_values_supported lists %s, but the JWKS has no %s signing key for it", alg, kty))
		}
	}
	return w
}

// keyTypeFor returns the JWK key type that verifies a JWS algorithm, or ""
// for "none" and HMAC (checked with the client secret, not the JWKS).
func keyTypeFor(alg string) string {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return "RSA"
	case strings.HasPrefix(alg, "ES"):
		return "EC"
	case alg == "EdDSA", alg == "Ed25519", alg == "Ed448":
		return "OKP"
	}
	return ""
}

// jwxReason shortens a jwx error to its last, telling part.
func jwxReason(err error) string {
	msg := err.Error()
	for {
		trimmed := msg
		for _, p := range []string{"jwk.ParseKey: ", "jwk.Parse: ", "jwk.Export: ", "key validation failed: ",
			"failed to unmarshal JSON into key: ", "failed to parse key: "} {
			trimmed = strings.TrimPrefix(trimmed, p)
		}
		if trimmed == msg {
			return msg
		}
		msg = trimmed
	}
}
