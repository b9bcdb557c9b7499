package oidctest_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"oidcctl/core/oidctest"
)

// tokenResponse is an RFC 6749 token or error response.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`

	status int
}

// post sends a form to url, with HTTP Basic credentials when user != "".
func post(t *testing.T, endpoint string, form url.Values, user, secret string) tokenResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("POST %s: status %d, body not JSON: %q", endpoint, resp.StatusCode, body)
	}
	tr.status = resp.StatusCode
	return tr
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func fetchJWKS(t *testing.T, p *oidctest.Provider) jwk.Set {
	t.Helper()
	resp, err := http.Get(p.JWKSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		t.Fatalf("parse JWKS %s: %v", body, err)
	}
	return set
}

// verify checks token's signature against the provider's JWKS and the kid
// and alg of its header, and returns its claims.
func verify(t *testing.T, p *oidctest.Provider, token string) map[string]any {
	t.Helper()
	set := fetchJWKS(t, p)
	msg, err := jws.Parse([]byte(token))
	if err != nil {
		t.Fatalf("not a JWS: %v: %q", err, token)
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	kid, _ := hdr.KeyID()
	if _, ok := set.LookupKeyID(kid); !ok || kid != p.KeyID() {
		t.Fatalf("kid %q not in JWKS (provider key %q)", kid, p.KeyID())
	}
	if alg, _ := hdr.Algorithm(); alg.String() != "RS256" {
		t.Fatalf("alg = %v, want RS256", alg)
	}
	payload, err := jws.Verify([]byte(token), jws.WithKeySet(set))
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != p.Issuer {
		t.Fatalf("iss = %v, want %s", claims["iss"], p.Issuer)
	}
	exp, _ := claims["exp"].(float64)
	if time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Fatalf("token already expired: exp %v", claims["exp"])
	}
	return claims
}

func hasAudience(claims map[string]any, aud string) bool {
	switch a := claims["aud"].(type) {
	case string:
		return a == aud
	case []any:
		return slices.Contains(a, any(aud))
	}
	return false
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	if !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") || strings.HasSuffix(p.Issuer, "/") {
		t.Fatalf("issuer %q", p.Issuer)
	}
	if p.DiscoveryURL != p.Issuer+"/.well-known/openid-configuration" {
		t.Fatalf("discovery URL %q", p.DiscoveryURL)
	}
	var doc struct {
		Issuer        string   `json:"issuer"`
		TokenEndpoint string   `json:"token_endpoint"`
		JWKSURI       string   `json:"jwks_uri"`
		DeviceAuth    string   `json:"device_authorization_endpoint"`
		Grants        []string `json:"grant_types_supported"`
	}
	getJSON(t, p.DiscoveryURL, &doc)
	if doc.Issuer != p.Issuer {
		t.Errorf("issuer = %q, want %q", doc.Issuer, p.Issuer)
	}
	if doc.TokenEndpoint != p.TokenURL || doc.JWKSURI != p.JWKSURL || doc.DeviceAuth != p.DeviceAuthorizationURL {
		t.Errorf("endpoints %+v, provider %+v", doc, p)
	}
	for _, g := range []string{"authorization_code", "refresh_token", "client_credentials", "password",
		"urn:ietf:params:oauth:grant-type:device_code"} {
		if !slices.Contains(doc.Grants, g) {
			t.Errorf("grant_types_supported %v lacks %s", doc.Grants, g)
		}
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	set := fetchJWKS(t, p)
	if set.Len() == 0 {
		t.Fatal("JWKS has no key")
	}
	key, ok := set.LookupKeyID(p.KeyID())
	if !ok {
		t.Fatalf("JWKS lacks kid %q", p.KeyID())
	}
	if alg, _ := key.Algorithm(); alg.String() != "RS256" {
		t.Errorf("alg = %v", alg)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	tr := post(t, p.TokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read api:write"}},
		oidctest.ServiceClientID, oidctest.ServiceClientSecret)
	if tr.status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("client_credentials: %d %+v", tr.status, tr)
	}
	if !strings.EqualFold(tr.TokenType, "bearer") || tr.ExpiresIn < 250 || tr.ExpiresIn > 300 {
		t.Errorf("token_type %q expires_in %d", tr.TokenType, tr.ExpiresIn)
	}
	claims := verify(t, p, tr.AccessToken)
	if claims["sub"] != oidctest.ServiceClientID || claims["client_id"] != oidctest.ServiceClientID ||
		!hasAudience(claims, oidctest.ServiceClientID) {
		t.Errorf("claims %v", claims)
	}
	if claims["scope"] != "api:read api:write" {
		t.Errorf("scope claim %v", claims["scope"])
	}

	// Form-post client authentication works too; a wrong secret does not.
	tr = post(t, p.TokenURL, url.Values{"grant_type": {"client_credentials"},
		"client_id": {oidctest.ServiceClientID}, "client_secret": {oidctest.ServiceClientSecret}}, "", "")
	if tr.status != http.StatusOK {
		t.Errorf("client_secret_post: %d %+v", tr.status, tr)
	}
	tr = post(t, p.TokenURL, url.Values{"grant_type": {"client_credentials"}}, oidctest.ServiceClientID, "wrong")
	if tr.status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("wrong secret: %d %+v", tr.status, tr)
	}
}

func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	if p.Username() != "test-user@127.0.0.1" {
		t.Errorf("Username() = %q", p.Username())
	}
	form := url.Values{"grant_type": {"password"}, "username": {p.Username()}, "password": {oidctest.Password},
		"scope": {"openid profile offline_access"}}
	tr := post(t, p.TokenURL, form, oidctest.WebClientID, oidctest.WebClientSecret)
	if tr.status != http.StatusOK {
		t.Fatalf("password grant: %d %+v", tr.status, tr)
	}
	if !strings.EqualFold(tr.TokenType, "bearer") || tr.ExpiresIn < 250 || tr.Scope != "openid profile offline_access" ||
		tr.IDToken == "" || tr.RefreshToken == "" {
		t.Errorf("response %+v", tr)
	}
	claims := verify(t, p, tr.AccessToken)
	if claims["sub"] != oidctest.UserID || !hasAudience(claims, oidctest.WebClientID) || claims["client_id"] != oidctest.WebClientID {
		t.Errorf("access token claims %v", claims)
	}
	id := verify(t, p, tr.IDToken)
	// As in the code flow, profile claims go to userinfo, not the ID token.
	if id["sub"] != oidctest.UserID || id["at_hash"] == nil || !hasAudience(id, oidctest.WebClientID) {
		t.Errorf("id token claims %v", id)
	}

	// The refresh token works at the real provider, and rotates.
	rt := post(t, p.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}},
		oidctest.WebClientID, oidctest.WebClientSecret)
	if rt.status != http.StatusOK || rt.AccessToken == "" || rt.RefreshToken == "" || rt.RefreshToken == tr.RefreshToken {
		t.Fatalf("refresh: %d %+v", rt.status, rt)
	}
	if c := verify(t, p, rt.AccessToken); c["sub"] != oidctest.UserID {
		t.Errorf("refreshed claims %v", c)
	}
	again := post(t, p.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}},
		oidctest.WebClientID, oidctest.WebClientSecret)
	if again.status == http.StatusOK {
		t.Errorf("a used refresh token was accepted again")
	}

	// Public client, form post, second user, no openid: no ID token, no refresh token.
	tr = post(t, p.TokenURL, url.Values{"grant_type": {"password"}, "client_id": {oidctest.NativeClientID},
		"username": {oidctest.Username2}, "password": {oidctest.Password}, "scope": {"api"}}, "", "")
	if tr.status != http.StatusOK || tr.IDToken != "" || tr.RefreshToken != "" {
		t.Fatalf("native password grant: %d %+v", tr.status, tr)
	}
	if c := verify(t, p, tr.AccessToken); c["sub"] != oidctest.User2ID || c["scope"] != "api" {
		t.Errorf("claims %v", c)
	}

	for name, tc := range map[string]struct {
		form         url.Values
		user, secret string
		status       int
		code         string
	}{
		"wrong password": {url.Values{"username": {oidctest.Username2}, "password": {"nope"}},
			oidctest.WebClientID, oidctest.WebClientSecret, http.StatusBadRequest, "invalid_grant"},
		"unknown user": {url.Values{"username": {"nobody"}, "password": {oidctest.Password}},
			oidctest.WebClientID, oidctest.WebClientSecret, http.StatusBadRequest, "invalid_grant"},
		"wrong client secret": {url.Values{"username": {oidctest.Username2}, "password": {oidctest.Password}},
			oidctest.WebClientID, "nope", http.StatusUnauthorized, "invalid_client"},
		"no client secret": {url.Values{"username": {oidctest.Username2}, "password": {oidctest.Password},
			"client_id": {oidctest.WebClientID}}, "", "", http.StatusUnauthorized, "invalid_client"},
		"service client": {url.Values{"username": {oidctest.Username2}, "password": {oidctest.Password}},
			oidctest.ServiceClientID, oidctest.ServiceClientSecret, http.StatusBadRequest, "unauthorized_client"},
		"missing password": {url.Values{"username": {oidctest.Username2}},
			oidctest.WebClientID, oidctest.WebClientSecret, http.StatusBadRequest, "invalid_request"},
	} {
		tc.form.Set("grant_type", "password")
		tr := post(t, p.TokenURL, tc.form, tc.user, tc.secret)
		if tr.status != tc.status || tr.Error != tc.code || tr.AccessToken != "" {
			t.Errorf("%s: %d %+v, want %d %s", name, tr.status, tr, tc.status, tc.code)
		}
	}
}

func TestTokenRequestsRecordsRepeatedParams(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	form := url.Values{
		"grant_type": {"client_credentials"},
		"resource":   {"https://api.example/one", "https://api.example/two"},
		"audience":   {"x"},
	}
	// The real provider must still get the body: it needs grant_type.
	if tr := post(t, p.TokenURL+"?q=1", form, oidctest.ServiceClientID, oidctest.ServiceClientSecret); tr.status != http.StatusOK {
		t.Fatalf("token request: %d %+v", tr.status, tr)
	}
	if tr := post(t, p.TokenURL, url.Values{"grant_type": {"password"}, "username": {"x"}, "password": {"y"}},
		oidctest.WebClientID, oidctest.WebClientSecret); tr.Error != "invalid_grant" {
		t.Fatalf("password: %+v", tr)
	}
	reqs := p.TokenRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests recorded: %v", len(reqs), reqs)
	}
	if got := reqs[0]["resource"]; !slices.Equal(got, form["resource"]) {
		t.Errorf("resource = %q, want %q", got, form["resource"])
	}
	if reqs[0].Get("grant_type") != "client_credentials" || reqs[0].Get("q") != "1" || reqs[0].Get("audience") != "x" {
		t.Errorf("first request %v", reqs[0])
	}
	if reqs[1].Get("grant_type") != "password" || reqs[1].Get("username") != "x" {
		t.Errorf("second request %v", reqs[1])
	}
	// The caller owns the copy.
	reqs[0].Set("grant_type", "changed")
	if p.TokenRequests()[0].Get("grant_type") != "client_credentials" {
		t.Error("TokenRequests returned shared values")
	}
	p.ResetTokenRequests()
	if n := len(p.TokenRequests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
}

func TestParallelProviders(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := oidctest.Start(t)
			for range 5 {
				tr := post(t, p.TokenURL, url.Values{"grant_type": {"client_credentials"}}, oidctest.ServiceClientID, oidctest.ServiceClientSecret)
				if tr.status != http.StatusOK {
					t.Fatalf("client_credentials: %+v", tr)
				}
				verify(t, p, tr.AccessToken)
				tr = post(t, p.TokenURL, url.Values{"grant_type": {"password"}, "username": {p.Username()}, "password": {oidctest.Password}},
					oidctest.WebClientID, oidctest.WebClientSecret)
				if tr.status != http.StatusOK {
					t.Fatalf("password: %+v", tr)
				}
				verify(t, p, tr.AccessToken)
			}
		})
	}
	// Two providers side by side do not share state.
	t.Run("independent", func(t *testing.T) {
		a, b := oidctest.Start(t), oidctest.Start(t)
		if a.Issuer == b.Issuer || a.KeyID() == b.KeyID() {
			t.Fatalf("providers share issuer or key: %s %s", a.Issuer, a.KeyID())
		}
		tr := post(t, a.TokenURL, url.Values{"grant_type": {"client_credentials"}}, oidctest.ServiceClientID, oidctest.ServiceClientSecret)
		if _, err := jws.Verify([]byte(tr.AccessToken), jws.WithKeySet(fetchJWKS(t, b))); err == nil {
			t.Fatal("a token of one provider verifies with the other's keys")
		}
		a.Close()
		if tr := post(t, b.TokenURL, url.Values{"grant_type": {"client_credentials"}}, oidctest.ServiceClientID, oidctest.ServiceClientSecret); tr.status != http.StatusOK {
			t.Fatalf("b after a closed: %+v", tr)
		}
		if _, err := http.Get(a.DiscoveryURL); err == nil {
			t.Fatal("closed provider still answers")
		}
	})
}

func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func authURL(p *oidctest.Provider, clientID, redirect, scope, state, challenge string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {state}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return p.AuthURL + "?" + q.Encode()
}

func TestAuthorizationCode(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	ctx := context.Background()

	t.Run("native with PKCE on any loopback port", func(t *testing.T) {
		verifier, challenge := pkce()
		redirect := "http://127.0.0.1:49152/callback"
		loc, err := p.Authorize(ctx, authURL(p, oidctest.NativeClientID, redirect, "openid offline_access", "st1", challenge),
			oidctest.Username2, oidctest.Password)
		if err != nil {
			t.Fatal(err)
		}
		if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect || loc.Query().Get("state") != "st1" || loc.Query().Get("code") == "" {
			t.Fatalf("redirect %s", loc)
		}
		tr := post(t, p.TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
			"redirect_uri": {redirect}, "client_id": {oidctest.NativeClientID}, "code_verifier": {verifier}}, "", "")
		if tr.status != http.StatusOK || tr.RefreshToken == "" || tr.IDToken == "" {
			t.Fatalf("code exchange: %d %+v", tr.status, tr)
		}
		if c := verify(t, p, tr.AccessToken); c["sub"] != oidctest.User2ID || !hasAudience(c, oidctest.NativeClientID) {
			t.Errorf("claims %v", c)
		}
		rt := post(t, p.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
			"client_id": {oidctest.NativeClientID}}, "", "")
		if rt.status != http.StatusOK || rt.RefreshToken == "" {
			t.Fatalf("refresh: %d %+v", rt.status, rt)
		}
	})

	t.Run("web client through BrowserFunc to a callback server", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		codes := make(chan url.Values, 1)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			codes <- r.URL.Query()
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		redirect := "http://" + ln.Addr().String() + "/oidc/callback"

		if err := p.BrowserFunc(p.Username(), oidctest.Password)(authURL(p, oidctest.WebClientID, redirect, "openid email", "st2", "")); err != nil {
			t.Fatal(err)
		}
		q := <-codes
		if q.Get("state") != "st2" || q.Get("code") == "" {
			t.Fatalf("callback query %v", q)
		}
		tr := post(t, p.TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {redirect}}, oidctest.WebClientID, oidctest.WebClientSecret)
		if tr.status != http.StatusOK || tr.RefreshToken != "" {
			t.Fatalf("code exchange: %d %+v", tr.status, tr)
		}
		if c := verify(t, p, tr.AccessToken); c["sub"] != oidctest.UserID {
			t.Errorf("claims %v", c)
		}
		// The token also works at the userinfo endpoint.
		req, _ := http.NewRequest(http.MethodGet, p.UserinfoURL, nil)
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&ui)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || ui["sub"] != oidctest.UserID || ui["email"] != "test-user@zitadel.ch" {
			t.Errorf("userinfo %s %v", resp.Status, ui)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := p.Authorize(ctx, authURL(p, oidctest.WebClientID, "http://127.0.0.1:1/callback", "openid", "s", ""),
			p.Username(), "wrong")
		if !errors.Is(err, oidctest.ErrLoginRejected) {
			t.Errorf("wrong password: %v", err)
		}
		if _, err := p.Authorize(ctx, authURL(p, oidctest.WebClientID, "https://evil.example/cb", "openid", "s", ""),
			p.Username(), oidctest.Password); err == nil {
			t.Error("unregistered redirect_uri accepted")
		}
		// Registered redirect, bad request: the error goes to the client.
		loc, err := p.Authorize(ctx, authURL(p, oidctest.WebClientID, "http://127.0.0.1:1/callback", "openid", "s", "")+
			"&prompt=none", p.Username(), oidctest.Password)
		if err != nil || loc.Query().Get("error") != "login_required" {
			t.Errorf("prompt=none: %v %v", loc, err)
		}
	})
}

func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t, oidctest.WithDevicePollInterval(time.Second))

	start := func(t *testing.T) (deviceCode, userCode, verification string) {
		t.Helper()
		var d struct {
			DeviceCode      string `json:"device_code"`
			UserCode        string `json:"user_code"`
			VerificationURI string `json:"verification_uri"`
			Interval        int    `json:"interval"`
		}
		req, _ := http.NewRequest(http.MethodPost, p.DeviceAuthorizationURL,
			strings.NewReader(url.Values{"scope": {"openid offline_access"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(oidctest.WebClientID, oidctest.WebClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("device authorization: %s %v", resp.Status, err)
		}
		if d.Interval != 1 || d.DeviceCode == "" || d.UserCode == "" || d.VerificationURI != p.Issuer+"/device" {
			t.Fatalf("device authorization response %+v", d)
		}
		return d.DeviceCode, d.UserCode, d.VerificationURI
	}
	poll := func(deviceCode string) tokenResponse {
		return post(t, p.TokenURL, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code": {deviceCode}}, oidctest.WebClientID, oidctest.WebClientSecret)
	}
	check := func(t *testing.T, tr tokenResponse, sub string) {
		t.Helper()
		if tr.status != http.StatusOK || tr.IDToken == "" || tr.RefreshToken == "" {
			t.Fatalf("device token: %d %+v", tr.status, tr)
		}
		if c := verify(t, p, tr.AccessToken); c["sub"] != sub {
			t.Errorf("claims %v", c)
		}
		rt := post(t, p.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}},
			oidctest.WebClientID, oidctest.WebClientSecret)
		if rt.status != http.StatusOK {
			t.Fatalf("refresh of a device-flow token: %d %+v", rt.status, rt)
		}
	}

	t.Run("ApproveDevice", func(t *testing.T) {
		deviceCode, userCode, _ := start(t)
		if tr := poll(deviceCode); tr.Error != "authorization_pending" {
			t.Fatalf("before approval: %+v", tr)
		}
		if err := p.ApproveDevice(userCode, oidctest.Username2); err != nil {
			t.Fatal(err)
		}
		check(t, poll(deviceCode), oidctest.User2ID)
	})

	t.Run("verification page", func(t *testing.T) {
		deviceCode, userCode, verification := start(t)
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar}
		resp, err := hc.PostForm(verification+"/login", url.Values{"user_code": {userCode},
			"username": {p.Username()}, "password": {oidctest.Password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = hc.PostForm(verification+"/confirm", url.Values{"action": {"allowed"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "Device authorization allowed") {
			t.Fatalf("confirm page: %s", body)
		}
		check(t, poll(deviceCode), oidctest.UserID)
	})

	t.Run("DenyDevice", func(t *testing.T) {
		deviceCode, userCode, _ := start(t)
		if err := p.DenyDevice(userCode); err != nil {
			t.Fatal(err)
		}
		if tr := poll(deviceCode); tr.Error != "access_denied" {
			t.Fatalf("after denial: %+v", tr)
		}
		if err := p.DenyDevice("NO-SUCH-CODE"); err == nil {
			t.Error("unknown user code denied")
		}
	})
}

func TestFailTokenRequests(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	cc := url.Values{"grant_type": {"client_credentials"}}

	p.FailTokenRequests(http.StatusInternalServerError)
	if tr := post(t, p.TokenURL, cc, oidctest.ServiceClientID, oidctest.ServiceClientSecret); tr.status != 500 || tr.Error != "server_error" {
		t.Fatalf("injected 500: %d %+v", tr.status, tr)
	}
	p.FailTokenRequests(http.StatusServiceUnavailable)
	if tr := post(t, p.TokenURL, cc, oidctest.ServiceClientID, oidctest.ServiceClientSecret); tr.status != 503 || tr.Error != "temporarily_unavailable" {
		t.Fatalf("injected 503: %d %+v", tr.status, tr)
	}
	p.FailTokenRequests(0)
	if tr := post(t, p.TokenURL, cc, oidctest.ServiceClientID, oidctest.ServiceClientSecret); tr.status != 200 {
		t.Fatalf("after reset: %d %+v", tr.status, tr)
	}

	// Garbage, through the general middleware.
	p.SetTokenMiddleware(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "{not json")
		})
	})
	resp, err := http.PostForm(p.TokenURL, cc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "{not json" {
		t.Errorf("garbage middleware: %q", body)
	}
	// Slow, then the real handler.
	p.SetTokenMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(200 * time.Millisecond)
			next.ServeHTTP(w, r)
		})
	})
	began := time.Now()
	if tr := post(t, p.TokenURL, cc, oidctest.ServiceClientID, oidctest.ServiceClientSecret); tr.status != 200 || time.Since(began) < 200*time.Millisecond {
		t.Errorf("slow middleware: %d after %v", tr.status, time.Since(began))
	}
	p.SetTokenMiddleware(nil)
	if n := len(p.TokenRequests()); n != 5 {
		t.Errorf("%d token requests recorded, want 5", n)
	}
}

func TestAccessTokenLifetime(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t, oidctest.WithAccessTokenLifetime(90*time.Second))
	tr := post(t, p.TokenURL, url.Values{"grant_type": {"password"}, "username": {oidctest.Username2},
		"password": {oidctest.Password}}, oidctest.WebClientID, oidctest.WebClientSecret)
	if tr.status != 200 || tr.ExpiresIn < 85 || tr.ExpiresIn > 90 {
		t.Fatalf("password: %d %+v", tr.status, tr)
	}
	c := verify(t, p, tr.AccessToken)
	exp, _ := c["exp"].(float64)
	if d := time.Until(time.Unix(int64(exp), 0)); d < 80*time.Second || d > 91*time.Second {
		t.Errorf("exp in %v", d)
	}
	tr = post(t, p.TokenURL, url.Values{"grant_type": {"client_credentials"}}, oidctest.ServiceClientID, oidctest.ServiceClientSecret)
	if tr.ExpiresIn < 85 || tr.ExpiresIn > 90 {
		t.Errorf("client_credentials expires_in %d", tr.ExpiresIn)
	}
}

func TestSignJWT(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	tok, err := p.SignJWT(map[string]any{"iss": p.Issuer, "sub": "x", "exp": time.Now().Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if c := verify(t, p, tok); c["sub"] != "x" {
		t.Errorf("claims %v", c)
	}
	if p.PublicKey().N.BitLen() != 2048 {
		t.Errorf("key size %d", p.PublicKey().N.BitLen())
	}
}

// call POSTs form to u with Basic credentials or a bearer token and returns
// the status and the JSON object answered, if any.
func call(t *testing.T, u string, form url.Values, user, secret, bearer string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, secret)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestIntrospectionUserinfoRevocation(t *testing.T) {
	t.Parallel()
	p := oidctest.Start(t)
	tr := post(t, p.TokenURL, url.Values{"grant_type": {"password"}, "username": {oidctest.Username2},
		"password": {oidctest.Password}, "scope": {"openid profile"}}, oidctest.WebClientID, oidctest.WebClientSecret)
	if tr.status != http.StatusOK {
		t.Fatalf("password: %+v", tr)
	}
	status, v := call(t, p.IntrospectionURL, url.Values{"token": {tr.AccessToken}}, oidctest.WebClientID, oidctest.WebClientSecret, "")
	if status != http.StatusOK || v["active"] != true || v["sub"] != oidctest.User2ID || v["client_id"] != oidctest.WebClientID {
		t.Errorf("introspection: %d %v", status, v)
	}
	status, v = call(t, p.UserinfoURL, nil, "", "", tr.AccessToken)
	if status != http.StatusOK || v["sub"] != oidctest.User2ID || v["preferred_username"] != oidctest.Username2 {
		t.Errorf("userinfo: %d %v", status, v)
	}
	if status, v = call(t, p.RevocationURL, url.Values{"token": {tr.AccessToken}}, oidctest.WebClientID, oidctest.WebClientSecret, ""); status != http.StatusOK {
		t.Errorf("revocation: %d %v", status, v)
	}
	if status, v = call(t, p.UserinfoURL, nil, "", "", tr.AccessToken); status == http.StatusOK {
		t.Errorf("userinfo after revocation: %d %v", status, v)
	}
	status, v = call(t, p.IntrospectionURL, url.Values{"token": {tr.AccessToken}}, oidctest.WebClientID, oidctest.WebClientSecret, "")
	if status != http.StatusOK || v["active"] != false {
		t.Errorf("introspection after revocation: %d %v", status, v)
	}

	// A client_credentials token can be revoked by its client.
	cc := post(t, p.TokenURL, url.Values{"grant_type": {"client_credentials"}}, oidctest.ServiceClientID, oidctest.ServiceClientSecret)
	if status, v = call(t, p.RevocationURL, url.Values{"token": {cc.AccessToken}}, oidctest.ServiceClientID, oidctest.ServiceClientSecret, ""); status != http.StatusOK {
		t.Errorf("revocation of a client_credentials token: %d %v", status, v)
	}
}
