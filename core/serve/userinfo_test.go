package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/oidctest"
)

// userToken gets an access token of the provider's first user by the
// password grant of the web client.
func (h *harness) userToken(scope string) string {
	h.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {h.op.Username()}, "password": {oidctest.Password}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, h.op.TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oidctest.WebClientID, oidctest.WebClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		h.t.Fatalf("token response %s: %v", resp.Status, err)
	}
	return tr.AccessToken
}

// TestForwardAuthUserinfoClaims: forward-auth with a profile that takes
// claims from userinfo creates the user from the provider's userinfo
// endpoint (its access tokens carry no email), calls it once per token,
// refuses a token the endpoint answers for nobody with userinfo_refused,
// and /metrics shows the userinfo cache like the other caches.
func TestForwardAuthUserinfoClaims(t *testing.T) {
	h := startWith(t, func(h *harness) {
		p := core.NewProfile("users")
		p.DiscoveryURL, p.ClientID, p.ClientSecret = h.op.DiscoveryURL, oidctest.WebClientID, core.NewSecret(oidctest.WebClientSecret)
		p.UserinfoClaims = true
		p.RoleMap = core.RoleMap{"scope": {"email": "agent"}}
		p.UserMap = core.UserMap{"email": core.UserEmail}
		must(t, core.Registry{Store: h.store}.AddProfile(context.Background(), p))
	})
	tok := h.userToken("openid email profile")
	for range 2 {
		if r := h.do("GET", "/auth?profile=users", tok, nil); r.status != http.StatusOK {
			t.Fatalf("userinfo profile: %d %s", r.status, r.body)
		}
	}
	u, err := h.store.User(context.Background(), oidctest.UserID)
	if err != nil || !strings.HasPrefix(u.Email, "test-user@") {
		t.Fatalf("user %+v: %v", u, err)
	}
	if r := h.do("GET", "/auth?profile=users", h.userToken("email"), nil); r.status != http.StatusUnauthorized {
		t.Errorf("token without openid: %d %s", r.status, r.body)
	}
	metrics := h.do("GET", "/metrics", "", nil).body
	for _, want := range []string{
		"oidcctl_userinfo_cache_entries 2", // the response, and the failure for seconds
		"oidcctl_userinfo_cache_max_bytes 8.388608e+06",
		"oidcctl_userinfo_cache_misses_total 2",
		`reason="userinfo_refused"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
