package validate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"oidcctl/core"
	"oidcctl/core/memstore"
	"oidcctl/core/oidctest"
	"oidcctl/core/validate"
)

// passwordToken gets an access token of the provider's first user.
func passwordToken(t *testing.T, prov *oidctest.Provider, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {prov.Username()}, "password": {oidctest.Password}, "scope": {scope}}
	req, err := http.NewRequest(http.MethodPost, prov.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oidctest.WebClientID, oidctest.WebClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token response %s: %v", resp.Status, err)
	}
	return body.AccessToken
}

// countingTransport counts the requests to one URL.
type countingTransport struct {
	url string
	n   atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.String() == c.url {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestUserinfoClaimsAtProvider: against the in-process provider, whose
// access tokens carry no email, a profile with userinfo claims creates the
// user with the email and names from the real userinfo endpoint (and its
// role from the words of the token's scope claim), calling it once per
// token; without userinfo claims the same token is refused for want of
// an email. A token without the openid scope is refused at the endpoint:
// userinfo_refused.
func TestUserinfoClaimsAtProvider(t *testing.T) {
	prov := oidctest.Start(t)
	ctx := context.Background()
	p := core.NewProfile("zitadel")
	p.DiscoveryURL, p.ClientID = prov.DiscoveryURL, oidctest.WebClientID
	p.RoleMap = core.RoleMap{"scope": {"email": "agent"}}
	p.UserMap = core.UserMap{"email": core.UserEmail, "given_name": core.UserFirstName, "family_name": core.UserLastName}
	tok := passwordToken(t, prov, "openid email profile")

	users := memstore.New()
	off := validate.New(validate.Config{Users: users})
	if r := off.Validate(ctx, p, tok); r.Reason != validate.ReasonNoEmail {
		t.Fatalf("without userinfo claims: %q %s", r.Reason, r.Message)
	}

	p.UserinfoClaims = true
	count := &countingTransport{url: prov.UserinfoURL}
	hc := &http.Client{Transport: count}
	v := validate.New(validate.Config{Users: users, ResultTTL: -1,
		HTTPClient: func(core.Profile) (*http.Client, error) { return hc, nil }})
	for range 3 {
		r := v.Validate(ctx, p, tok)
		if !r.Accepted() {
			t.Fatalf("with userinfo claims: %q %s", r.Reason, r.Message)
		}
	}
	u, err := users.User(ctx, oidctest.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Email, "test-user@") || u.FirstName != "Test" || u.LastName == "" || len(u.Roles) != 1 || u.Roles[0] != "agent" {
		t.Errorf("created user %+v", u)
	}
	if n := count.n.Load(); n != 1 {
		t.Errorf("%d userinfo calls for three validations of one token, want 1", n)
	}
	if s := v.UserinfoCacheStats(); s.Entries != 1 || s.Hits != 2 {
		t.Errorf("cache stats %+v", s)
	}

	// The provider gives no userinfo for a token without openid.
	bare := passwordToken(t, prov, "email")
	if r := v.Validate(ctx, p, bare); r.Reason != validate.ReasonUserinfoRefused || !strings.Contains(r.Message, "openid scope") {
		t.Errorf("a token without openid: %q %s", r.Reason, r.Message)
	}
}
