package grant_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithAccessTokenLifetime(90*time.Second))
	now, _ := fixedClock()
	e.c.Now = now
	a := account("billing", core.GrantClientCredentials, "api:read")

	set, err := e.c.Obtain(ctxT(t), e.service(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse([]byte(set.AccessToken.Reveal()), jwt.WithKey(jwa.RS256(), e.op.PublicKey()))
	if err != nil {
		t.Fatalf("access token is not a JWT signed by the provider: %v", err)
	}
	if sub, _ := tok.Subject(); sub != oidctest.ServiceClientID {
		t.Errorf("sub = %q, want %q", sub, oidctest.ServiceClientID)
	}
	if set.ObtainedAt != now() {
		t.Errorf("ObtainedAt = %v, want the clock's %v", set.ObtainedAt, now())
	}
	// expires_in is the lifetime left when the provider answered: 89 or 90
	// seconds, counted from our clock.
	if life := set.Expiry.Sub(now()); life < 88*time.Second || life > 90*time.Second {
		t.Errorf("Expiry = now + %s, want about 90s from expires_in", life)
	}
	if set.TokenType != "Bearer" || set.RefreshToken.IsSet() || set.IDToken.IsSet() {
		t.Errorf("TokenType %q, refresh token %v, id token %v: want Bearer and neither", set.TokenType, set.RefreshToken, set.IDToken)
	}
	if set.Scope != "api:read" {
		t.Errorf("Scope = %q, want the requested api:read", set.Scope)
	}
	reqs := e.op.TokenRequests()
	if len(reqs) != 1 || reqs[0].Get("grant_type") != "client_credentials" || reqs[0].Get("scope") != "api:read" {
		t.Fatalf("token requests = %v", reqs)
	}
	if reqs[0].Has("client_secret") {
		t.Error("client_secret sent in the form, want HTTP Basic (listed first by the provider)")
	}
	assertNoSecrets(t, "log", e.log.String(), oidctest.ServiceClientSecret, set.AccessToken.Reveal())
}

func TestPassword(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.passwordAccount("openid", "offline_access")
	set, err := e.c.Obtain(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	if !set.AccessToken.IsSet() || !set.RefreshToken.IsSet() || !set.IDToken.IsSet() {
		t.Fatalf("want access, refresh and id token: %+v", set)
	}
	if set.Expiry.IsZero() {
		t.Error("no Expiry")
	}
	if !slices.Contains(strings.Fields(set.Scope), "offline_access") {
		t.Errorf("Scope = %q", set.Scope)
	}
	req := e.op.TokenRequests()[0]
	if req.Get("grant_type") != "password" || req.Get("username") != e.op.Username() || req.Get("scope") != "openid offline_access" {
		t.Errorf("token request = %v", req)
	}
	assertNoSecrets(t, "log", e.log.String(), oidctest.Password, set.RefreshToken.Reveal(), set.AccessToken.Reveal())

	a.Password = core.NewSecret("wrong-password-123")
	_, err = e.c.Obtain(ctxT(t), e.web(), e.doc, a)
	if !grant.IsInvalidGrant(err) {
		t.Fatalf("wrong password: err = %v, want invalid_grant", err)
	}
	if !strings.Contains(err.Error(), "password for robot") {
		t.Errorf("error %q does not say which grant and account", err)
	}
	assertNoSecrets(t, "error", err.Error(), "wrong-password-123")
}

func TestDefaultScopes(t *testing.T) {
	p := core.NewProfile("x")
	p.Scopes = []string{"email", "openid", "profile"}
	for _, tc := range []struct {
		a    core.Account
		want []string
	}{
		{account("a", core.GrantClientCredentials), nil},
		{account("a", core.GrantPassword), []string{"openid", "email", "profile"}},
		{account("a", core.GrantAuthorizationCode), []string{"openid", "email", "profile"}},
		{account("a", core.GrantPassword, "api"), []string{"api"}},
	} {
		if got := grant.Scopes(p, tc.a); !slices.Equal(got, tc.want) {
			t.Errorf("Scopes(%s, %v) = %v, want %v", tc.a.GrantType, tc.a.Scopes, got, tc.want)
		}
	}
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.passwordAccount("openid", "offline_access")
	first, err := e.c.Obtain(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.c.Refresh(ctxT(t), e.web(), e.doc, a, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if !second.RefreshToken.IsSet() || second.RefreshToken.Reveal() == first.RefreshToken.Reveal() {
		t.Fatal("the refresh token did not rotate")
	}
	if second.AccessToken.Reveal() == first.AccessToken.Reveal() || !second.IDToken.IsSet() {
		t.Error("no new access token or id token")
	}
	req := e.op.TokenRequests()[1]
	if req.Get("grant_type") != "refresh_token" || req.Has("scope") {
		t.Errorf("refresh request = %v, want grant_type=refresh_token and no scope", req)
	}

	_, err = e.c.Refresh(ctxT(t), e.web(), e.doc, a, first.RefreshToken)
	if !grant.IsInvalidGrant(err) {
		t.Fatalf("reusing the old refresh token: err = %v, want invalid_grant", err)
	}
	var pe *grant.ProviderError
	if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest {
		t.Errorf("err = %#v, want a *ProviderError with status 400", err)
	}
	assertNoSecrets(t, "error", err.Error(), first.RefreshToken.Reveal(), second.RefreshToken.Reveal())

	// A provider that sends no new refresh token: the old one is kept.
	rewriteTokenResponse(e.op, func(m map[string]any) { delete(m, "refresh_token") })
	third, err := e.c.Refresh(ctxT(t), e.web(), e.doc, a, second.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if third.RefreshToken.Reveal() != second.RefreshToken.Reveal() {
		t.Error("the refresh token sent was not kept when the answer had none")
	}
}

func TestResources(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resources := []string{"https://api.example/", "https://billing.example/"}
	for _, tc := range []struct {
		param, wantParam string
	}{
		{"", "resource"},
		{"resource", "resource"},
		{"audience", "audience"},
	} {
		for _, a := range []core.Account{
			account("cc", core.GrantClientCredentials),
			e.passwordAccount("openid"),
		} {
			a.Resources, a.ResourceParam = resources, tc.param
			p := e.web()
			if a.GrantType == core.GrantClientCredentials {
				p = e.service()
			}
			e.op.ResetTokenRequests()
			if _, err := e.c.Obtain(ctxT(t), p, e.doc, a); err != nil {
				t.Fatalf("%s with %q: %v", a.GrantType, tc.param, err)
			}
			req := e.op.TokenRequests()[0]
			if got := req[tc.wantParam]; !slices.Equal(got, resources) {
				t.Errorf("%s with param %q: the provider got %s=%v, want %v", a.GrantType, tc.param, tc.wantParam, got, resources)
			}
			if tc.wantParam != "resource" && req.Has("resource") {
				t.Errorf("%s with param %q: resource sent too", a.GrantType, tc.param)
			}
		}
	}

	a := account("cc", core.GrantClientCredentials)
	a.Resources, a.ResourceParam = resources, "grant_type"
	if _, err := e.c.Obtain(ctxT(t), e.service(), e.doc, a); err == nil || !strings.Contains(err.Error(), "resource parameter name") {
		t.Errorf("resource parameter grant_type: err = %v", err)
	}
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	e := setup(t)
	type seen struct {
		basicUser, basicPass string
		formSecret, formID   string
	}
	var got seen
	capture := func() {
		e.op.SetTokenMiddleware(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = seen{}
				got.basicUser, got.basicPass, _ = r.BasicAuth()
				_ = r.ParseForm()
				got.formSecret, got.formID = r.PostForm.Get("client_secret"), r.PostForm.Get("client_id")
				next.ServeHTTP(w, r)
			})
		})
	}
	for _, tc := range []struct {
		name    string
		methods []string
		public  bool
		profile string // the profile's TokenAuthMethod
		want    seen
		wantErr string
	}{
		{"absent list: basic (RFC 8414 default)", nil, false, "", seen{basicUser: "web", basicPass: "secret"}, ""},
		{"both listed: basic", []string{"client_secret_post", "client_secret_basic"}, false, "", seen{basicUser: "web", basicPass: "secret"}, ""},
		{"post only", []string{"client_secret_post"}, false, "", seen{formSecret: "secret", formID: "web"}, ""},
		{"neither", []string{"private_key_jwt"}, false, "", seen{}, "accepts only private_key_jwt"},
		{"public client", []string{"none"}, true, "", seen{formID: "native"}, ""},
		{"profile says post", []string{"client_secret_basic", "client_secret_post"}, false, "client_secret_post", seen{formSecret: "secret", formID: "web"}, ""},
		{"profile says basic", []string{"private_key_jwt"}, false, "client_secret_basic", seen{basicUser: "web", basicPass: "secret"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := *e.doc
			d.TokenEndpointAuthMethodsSupported = tc.methods
			p := e.web()
			if tc.public {
				p = e.native()
			}
			p.TokenAuthMethod = tc.profile
			capture()
			_, err := e.c.Obtain(ctxT(t), p, &d, e.passwordAccount("openid"))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("the provider saw %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLifetimes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	now, _ := fixedClock()
	e.c.Now = now
	ctx := ctxT(t)

	t.Run("opaque access token with expires_in", func(t *testing.T) {
		rewriteTokenResponse(e.op, func(m map[string]any) {
			m["access_token"] = "opaque-0123456789"
			m["expires_in"] = 120
		})
		set, err := e.c.Obtain(ctx, e.service(), e.doc, account("cc", core.GrantClientCredentials))
		if err != nil {
			t.Fatal(err)
		}
		if set.AccessToken.Reveal() != "opaque-0123456789" || !set.Expiry.Equal(now().Add(120*time.Second)) {
			t.Errorf("Expiry = %v, want now+120s = %v", set.Expiry, now().Add(120*time.Second))
		}
	})
	t.Run("JWT exp when expires_in is absent", func(t *testing.T) {
		rewriteTokenResponse(e.op, func(m map[string]any) { delete(m, "expires_in") })
		set, err := e.c.Obtain(ctx, e.service(), e.doc, account("cc", core.GrantClientCredentials))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.ParseInsecure([]byte(set.AccessToken.Reveal()))
		if err != nil {
			t.Fatal(err)
		}
		exp, _ := tok.Expiration()
		if exp.IsZero() || !set.Expiry.Equal(exp) {
			t.Errorf("Expiry = %v, want the JWT's exp %v", set.Expiry, exp)
		}
	})
	t.Run("expires_in wins over the JWT's exp", func(t *testing.T) {
		rewriteTokenResponse(e.op, func(m map[string]any) { m["expires_in"] = 30 })
		set, err := e.c.Obtain(ctx, e.service(), e.doc, account("cc", core.GrantClientCredentials))
		if err != nil {
			t.Fatal(err)
		}
		if !set.Expiry.Equal(now().Add(30 * time.Second)) {
			t.Errorf("Expiry = %v, want now+30s", set.Expiry)
		}
	})
	t.Run("opaque without expires_in: unknown", func(t *testing.T) {
		rewriteTokenResponse(e.op, func(m map[string]any) {
			m["access_token"] = "opaque"
			delete(m, "expires_in")
		})
		set, err := e.c.Obtain(ctx, e.service(), e.doc, account("cc", core.GrantClientCredentials))
		if err != nil {
			t.Fatal(err)
		}
		if !set.Expiry.IsZero() {
			t.Errorf("Expiry = %v, want zero (unknown)", set.Expiry)
		}
	})
	t.Run("refresh_expires_in and granted scope", func(t *testing.T) {
		rewriteTokenResponse(e.op, func(m map[string]any) {
			m["refresh_expires_in"] = "1800" // as a string, as some providers send
			m["scope"] = "openid  offline_access extra"
		})
		set, err := e.c.Obtain(ctx, e.web(), e.doc, e.passwordAccount("openid", "offline_access"))
		if err != nil {
			t.Fatal(err)
		}
		if !set.RefreshExpiry.Equal(now().Add(1800 * time.Second)) {
			t.Errorf("RefreshExpiry = %v, want now+1800s", set.RefreshExpiry)
		}
		if set.Scope != "openid offline_access extra" {
			t.Errorf("Scope = %q, want the answer's", set.Scope)
		}
	})
	t.Run("no scope in the answer: the requested ones", func(t *testing.T) {
		rewriteTokenResponse(e.op, func(m map[string]any) { delete(m, "scope") })
		set, err := e.c.Obtain(ctx, e.web(), e.doc, e.passwordAccount("openid", "offline_access"))
		if err != nil {
			t.Fatal(err)
		}
		if set.Scope != "openid offline_access" || !set.RefreshExpiry.IsZero() {
			t.Errorf("Scope = %q, RefreshExpiry = %v", set.Scope, set.RefreshExpiry)
		}
	})
}

func TestProviderFailures(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.passwordAccount("openid", "offline_access")
	good, err := e.c.Obtain(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{oidctest.Password, oidctest.ServiceClientSecret, good.RefreshToken.Reveal(), good.AccessToken.Reveal()}
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	for _, tc := range []struct {
		name  string
		setup func()
		check func(t *testing.T, err error)
	}{
		{"500", func() { e.op.FailTokenRequests(http.StatusInternalServerError) }, func(t *testing.T, err error) {
			var pe *grant.ProviderError
			if !errors.As(err, &pe) || pe.Code != "server_error" || pe.Status != 500 {
				t.Errorf("err = %v, want server_error with status 500", err)
			}
		}},
		{"503 HTML page", func() { answer(e.op, 503, "text/html", "<html><body>Service Unavailable</body></html>") }, func(t *testing.T, err error) {
			var pe *grant.ProviderError
			if !errors.As(err, &pe) || pe.Status != 503 || !strings.Contains(err.Error(), "Service Unavailable") {
				t.Errorf("err = %v, want status 503 with the start of the page", err)
			}
		}},
		{"invalid JSON", func() { answer(e.op, 200, "application/json", `{"access_token": "abc`) }, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "json") {
				t.Errorf("err = %v, want a JSON error", err)
			}
		}},
		{"no access token", func() { answer(e.op, 200, "application/json", `{"token_type": "Bearer"}`) }, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "access_token") {
				t.Errorf("err = %v", err)
			}
		}},
		{"provider echoes the request", func() {
			e.op.SetTokenMiddleware(func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_ = r.ParseForm()
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusBadGateway)
					_, _ = w.Write([]byte("bad gateway for " + r.PostForm.Encode() + " token " + good.AccessToken.Reveal()))
				})
			})
		}, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "bad gateway") {
				t.Errorf("err = %v", err)
			}
		}},
		{"error description echoes the token", func() {
			e.op.SetTokenMiddleware(func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_ = r.ParseForm()
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"token ` + r.PostForm.Get("refresh_token") + r.PostForm.Get("password") + ` is bad"}`))
				})
			})
		}, func(t *testing.T, err error) {
			if !grant.IsInvalidGrant(err) {
				t.Errorf("err = %v, want invalid_grant", err)
			}
		}},
		{"slow: context deadline", func() { e.op.SetTokenMiddleware(slow) }, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want a deadline", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			defer e.op.SetTokenMiddleware(nil)
			for _, call := range []struct {
				name string
				do   func(ctx context.Context) error
			}{
				{"password", func(ctx context.Context) error {
					_, err := e.c.Obtain(ctx, e.web(), e.doc, a)
					return err
				}},
				{"refresh", func(ctx context.Context) error {
					_, err := e.c.Refresh(ctx, e.web(), e.doc, a, good.RefreshToken)
					return err
				}},
				{"client_credentials", func(ctx context.Context) error {
					_, err := e.c.Obtain(ctx, e.service(), e.doc, account("cc", core.GrantClientCredentials))
					return err
				}},
			} {
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				err := call.do(ctx)
				cancel()
				if err == nil {
					t.Fatalf("%s: no error", call.name)
				}
				t.Logf("%s: %v", call.name, err)
				tc.check(t, err)
				assertNoSecrets(t, call.name+" error", err.Error(), secrets...)
				assertNoSecrets(t, call.name+" error", err.Error(), "eyJ") // no JWT at all
			}
		})
	}
	assertNoSecrets(t, "log", e.log.String(), secrets...)
}

func TestObtainAuthorizationCodeNeedsAPerson(t *testing.T) {
	e := setup(t)
	_, err := e.c.Obtain(ctxT(t), e.web(), e.doc, account("support-bot", core.GrantAuthorizationCode))
	if !errors.Is(err, grant.ErrNeedsAuthorization) || !strings.Contains(err.Error(), "oidcctl account authorize support-bot") {
		t.Fatalf("err = %v", err)
	}
	if n := len(e.op.TokenRequests()); n != 0 {
		t.Errorf("%d token requests sent", n)
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.passwordAccount("openid", "offline_access")
	set, err := e.c.Obtain(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Revoke(ctxT(t), e.web(), e.doc, set.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Refresh(ctxT(t), e.web(), e.doc, a, set.RefreshToken)
	if !grant.IsInvalidGrant(err) {
		t.Fatalf("refresh with a revoked token: err = %v, want invalid_grant", err)
	}

	// Wrong client credentials: the provider's refusal, without secrets.
	p := e.web()
	p.ClientSecret = core.NewSecret("not-the-secret-42")
	err = e.c.Revoke(ctxT(t), p, e.doc, set.AccessToken, "access_token")
	var pe *grant.ProviderError
	if !errors.As(err, &pe) || pe.Code != "invalid_client" {
		t.Errorf("wrong secret: err = %v, want invalid_client", err)
	}
	assertNoSecrets(t, "error", err.Error(), "not-the-secret-42", set.AccessToken.Reveal())

	d := *e.doc
	d.RevocationEndpoint = ""
	if err := e.c.Revoke(ctxT(t), e.web(), &d, set.AccessToken, ""); !errors.Is(err, grant.ErrUnsupported) {
		t.Errorf("no revocation_endpoint: err = %v, want ErrUnsupported", err)
	}
}
