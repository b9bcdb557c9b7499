package oidctest

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Fixture clients and users.
const (
	// ServiceClientID is the client_credentials client of the example storage.
	ServiceClientID = "sid1"
	// ServiceClientSecret is ServiceClientID's secret.
	ServiceClientSecret = "verysecret"

	// WebClientID is a confidential client for authorization_code,
	// refresh_token, device_code, password and token exchange.
	WebClientID = "web"
	// WebClientSecret is WebClientID's secret.
	WebClientSecret = "secret"

	// NativeClientID is a public client (PKCE, no secret) for
	// authorization_code, refresh_token, device_code and password.
	NativeClientID = "native"

	// UserID is the subject of the user named by [Provider.Username].
	UserID = "id1"
	// Username2 is the second user's name.
	Username2 = "test-user2"
	// User2ID is the subject of [Username2].
	User2ID = "id2"
	// Password is the password of both users.
	Password = "verysecure"
)

// cryptoKey is the key exampleop gives the provider for opaque tokens.
var cryptoKey = sha256.Sum256([]byte("test"))

// Option configures a [Provider].
type Option func(*config)

type config struct {
	accessTTL    time.Duration
	pollInterval time.Duration
	redirectURIs []string
	// refuseAccessRevocation: the revocation endpoint answers
	// unsupported_token_type for access tokens.
	refuseAccessRevocation bool
	dpop, dpopNonce        bool
}

// WithAccessTokenLifetime sets the lifetime of access tokens (the exp claim
// and expires_in) instead of the example storage's 5 minutes. Userinfo and
// introspection still consider a token dead after 5 minutes.
func WithAccessTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.accessTTL = d }
}

// WithDevicePollInterval makes the device authorization endpoint advertise
// this polling interval (rounded up to whole seconds, at least 1) instead of
// 5 seconds, so device-flow tests run fast. The provider does not enforce
// any interval.
func WithDevicePollInterval(d time.Duration) Option {
	return func(c *config) { c.pollInterval = d }
}

// WithRedirectURIs registers more redirect URIs for the web and native
// clients, on top of any loopback URI.
func WithRedirectURIs(uris ...string) Option {
	return func(c *config) { c.redirectURIs = append(c.redirectURIs, uris...) }
}

// WithAccessTokenRevocationUnsupported makes the revocation endpoint
// refuse to revoke access tokens with the RFC 7009 (section 2.2.1) error
// unsupported_token_type, as providers that issue self-contained JWT
// access tokens do; refresh tokens are still revoked. An access token is
// recognised by its JWT form, whatever token_type_hint says.
func WithAccessTokenRevocationUnsupported() Option {
	return func(c *config) { c.refuseAccessRevocation = true }
}

// Provider is a running in-process OpenID provider.
type Provider struct {
	// Issuer is the issuer URL, e.g. "http://127.0.0.1:41234" (no trailing
	// slash); it is the iss claim of every token.
	Issuer string
	// DiscoveryURL is Issuer + "/.well-known/openid-configuration".
	DiscoveryURL string

	// Endpoints, as published in the discovery document.
	AuthURL                string
	TokenURL               string
	DeviceAuthorizationURL string
	JWKSURL                string
	UserinfoURL            string
	IntrospectionURL       string
	RevocationURL          string

	// Storage is the example storage behind the provider.
	Storage *storage.Storage

	store        *store
	router       http.Handler
	server       *http.Server
	served       chan struct{}
	closeOnce    sync.Once
	tokenPath    string
	devicePath   string
	revokePath   string
	pollInterval time.Duration

	mu                      sync.Mutex
	tokenRequests           []url.Values
	revokeRequests          []url.Values
	tokenMW                 func(http.Handler) http.Handler
	accessRevocationRefusal revocationRefusal
	dpop                    *dpopEndpoint // WithDPoP
}

// Start starts a provider on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Provider {
	t.Helper()
	p, err := New(opts...)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// New starts a provider on 127.0.0.1. The caller must Close it; tests
// normally use [Start] instead.
func New(opts ...Option) (*Provider, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	issuer := "http://" + ln.Addr().String()

	users := storage.NewUserStore(issuer)
	redirects := append([]string{"http://127.0.0.1/callback", "http://localhost/callback"}, cfg.redirectURIs...)
	web := storage.WebClient(WebClientID, WebClientSecret, redirects...)
	native := storage.NativeClient(NativeClientID, redirects...)
	// A storage of our own clients, not storage.RegisterClients: that
	// fills a package-global map that every provider in the process shares.
	// The example storage knows sid1 only as a client_credentials "service
	// user"; registering it as a client too lets it authenticate at the
	// revocation and introspection endpoints.
	service := storage.WebClient(ServiceClientID, ServiceClientSecret)
	keyed := storage.WebClient(KeyClientID, "", redirects...)
	inner := storage.NewStorageWithClients(users, map[string]*storage.Client{
		WebClientID:     web,
		NativeClientID:  native,
		ServiceClientID: service,
		KeyClientID:     keyed,
	})
	st := &store{
		Storage:   inner,
		users:     users,
		accessTTL: cfg.accessTTL,
		clients: map[string]*client{
			WebClientID: {Client: web, globs: loopbackRedirectGlobs, grantTypes: []oidc.GrantType{
				oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode,
				grantTypePassword, oidc.GrantTypeTokenExchange,
			}},
			NativeClientID: {Client: native, globs: loopbackRedirectGlobs, grantTypes: []oidc.GrantType{
				oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode,
				grantTypePassword,
			}},
			ServiceClientID: {Client: service, grantTypes: []oidc.GrantType{oidc.GrantTypeClientCredentials}},
			KeyClientID: {Client: keyed, globs: loopbackRedirectGlobs, authMethod: oidc.AuthMethodPrivateKeyJWT, grantTypes: []oidc.GrantType{
				oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode, oidc.GrantTypeClientCredentials,
			}},
		},
	}

	// exampleop installs its logger process-wide (slog.SetDefault); a
	// discarding one keeps its per-request logging out of test output.
	router := exampleop.SetupServer(issuer, st, slog.New(slog.DiscardHandler), false)

	p := &Provider{
		Issuer:       issuer,
		DiscoveryURL: issuer + oidc.DiscoveryEndpoint,
		Storage:      inner,
		store:        st,
		router:       router,
		served:       make(chan struct{}),
		pollInterval: cfg.pollInterval,
	}
	if cfg.refuseAccessRevocation {
		p.accessRevocationRefusal = revocationRefusal{http.StatusBadRequest, "unsupported_token_type"}
	}
	if cfg.dpop {
		var err error
		if p.dpop, err = newDPoPEndpoint(cfg.dpopNonce); err != nil {
			ln.Close()
			return nil, err
		}
	}
	if err := p.readDiscovery(); err != nil {
		ln.Close()
		return nil, err
	}

	p.server = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.served)
		_ = p.server.Serve(ln)
	}()
	return p, nil
}

// readDiscovery asks the provider, in-process, for its endpoints.
func (p *Provider) readDiscovery() error {
	rec := httptest.NewRecorder()
	p.router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.DiscoveryURL, nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("discovery: status %d", rec.Code)
	}
	var d oidc.DiscoveryConfiguration
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	p.AuthURL = d.AuthorizationEndpoint
	p.TokenURL = d.TokenEndpoint
	p.DeviceAuthorizationURL = d.DeviceAuthorizationEndpoint
	p.JWKSURL = d.JwksURI
	p.UserinfoURL = d.UserinfoEndpoint
	p.IntrospectionURL = d.IntrospectionEndpoint
	p.RevocationURL = d.RevocationEndpoint
	for _, e := range []struct {
		url  string
		path *string
	}{{d.TokenEndpoint, &p.tokenPath}, {d.DeviceAuthorizationEndpoint, &p.devicePath}, {d.RevocationEndpoint, &p.revokePath}} {
		u, err := url.Parse(e.url)
		if err != nil || u.Path == "" {
			return fmt.Errorf("discovery: bad endpoint %q", e.url)
		}
		*e.path = u.Path
	}
	return nil
}

// Close stops the provider and waits for it to finish. It is safe to call
// more than once.
func (p *Provider) Close() {
	p.closeOnce.Do(func() {
		_ = p.server.Close()
		<-p.served
	})
}

// Username returns the first user's name, "test-user@<issuer host>".
func (p *Provider) Username() string {
	return p.store.users.GetUserByID(UserID).Username
}

// ServeHTTP serves the provider: the token endpoint through the request
// recorder, the token middleware and the password grant; the discovery
// document with "password" added to grant_types_supported; the device
// authorization response with the interval of [WithDevicePollInterval];
// everything else straight from the example provider.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case p.tokenPath:
		p.serveToken(w, r)
	case p.revokePath:
		p.serveRevoke(w, r)
	case oidc.DiscoveryEndpoint:
		p.rewriteJSON(w, r, func(doc map[string]any) {
			grants, _ := doc["grant_types_supported"].([]any)
			for _, g := range grants {
				if g == string(grantTypePassword) {
					return
				}
			}
			doc["grant_types_supported"] = append(grants, string(grantTypePassword))
		})
	case p.devicePath:
		if p.pollInterval <= 0 {
			p.router.ServeHTTP(w, r)
			return
		}
		secs := max(1, int((p.pollInterval+time.Second-1)/time.Second))
		p.rewriteJSON(w, r, func(doc map[string]any) { doc["interval"] = secs })
	default:
		p.router.ServeHTTP(w, r)
	}
}

// rewriteJSON serves r from the example provider and lets edit change a
// successful JSON object answer.
func (p *Provider) rewriteJSON(w http.ResponseWriter, r *http.Request, edit func(map[string]any)) {
	rec := httptest.NewRecorder()
	p.router.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil {
			edit(doc)
			if b, err := json.Marshal(doc); err == nil {
				body = b
			}
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// TokenRequests returns the form values (query and body, repeated
// parameters kept) of every request the token endpoint received so far, in
// order, including those answered by the password grant or failed by
// [Provider.FailTokenRequests]. The caller owns the returned values.
func (p *Provider) TokenRequests() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]url.Values, len(p.tokenRequests))
	for i, v := range p.tokenRequests {
		out[i] = cloneValues(v)
	}
	return out
}

// ResetTokenRequests forgets the recorded token requests.
func (p *Provider) ResetTokenRequests() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenRequests = nil
}

// SetTokenMiddleware wraps the token endpoint, password grant included, in
// mw until it is called again; nil removes it. Requests are recorded before
// mw sees them. A slow endpoint, for instance:
//
//	p.SetTokenMiddleware(func(next http.Handler) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			select {
//			case <-time.After(2 * time.Second):
//			case <-r.Context().Done():
//				return
//			}
//			next.ServeHTTP(w, r)
//		})
//	})
func (p *Provider) SetTokenMiddleware(mw func(http.Handler) http.Handler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenMW = mw
}

// DelayAnswers returns a token middleware for a slow provider: it handles
// each request at once (so that a refresh token is rotated then), calls
// meanwhile when it is not nil, and holds the answer back for d, even
// when the client has given up meanwhile. A client that gives up early
// thus never sees the refresh token the provider rotated to.
func DelayAnswers(d time.Duration, meanwhile func()) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
			if meanwhile != nil {
				meanwhile()
			}
			time.Sleep(d)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
}

// SlowTokenResponses makes the token endpoint answer d late, as
// [DelayAnswers] does, until it is called with 0. It replaces any token
// middleware.
func (p *Provider) SlowTokenResponses(d time.Duration) {
	if d <= 0 {
		p.SetTokenMiddleware(nil)
		return
	}
	p.SetTokenMiddleware(DelayAnswers(d, nil))
}

// FailTokenRequests makes the token endpoint answer every request with
// status and an RFC 6749 error body (error "server_error", or
// "temporarily_unavailable" for 503, "invalid_client" for 401,
// "invalid_request" for other 4xx) until it is called with 0.
func (p *Provider) FailTokenRequests(status int) {
	if status == 0 {
		p.SetTokenMiddleware(nil)
		return
	}
	code := "server_error"
	switch {
	case status == http.StatusServiceUnavailable:
		code = "temporarily_unavailable"
	case status == http.StatusUnauthorized:
		code = "invalid_client"
	case status >= 400 && status < 500:
		code = "invalid_request"
	}
	p.SetTokenMiddleware(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeOAuthError(w, status, code, "failure injected by oidctest")
		})
	})
}

// RevocationRequests returns the form values of every request the
// revocation endpoint received so far, in order, including those refused
// by [WithAccessTokenRevocationUnsupported]. The caller owns the returned
// values.
func (p *Provider) RevocationRequests() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]url.Values, len(p.revokeRequests))
	for i, v := range p.revokeRequests {
		out[i] = cloneValues(v)
	}
	return out
}

// revocationRefusal is how the revocation endpoint answers for access
// tokens; the zero value lets the example provider answer.
type revocationRefusal struct {
	status int
	code   string
}

// RefuseAccessTokenRevocation makes the revocation endpoint answer every
// request for an access token (a JWT) with status and the RFC 6749 error
// code, until it is called with status 0; refresh tokens are still
// revoked. [WithAccessTokenRevocationUnsupported] is this with 400 and
// unsupported_token_type from the start.
func (p *Provider) RefuseAccessTokenRevocation(status int, code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accessRevocationRefusal = revocationRefusal{status, code}
}

// KeyID returns the kid of the provider's signing key, as served in the JWKS.
func (p *Provider) KeyID() string {
	k, _ := p.Storage.SigningKey(context.Background())
	return k.ID()
}

// PublicKey returns the public half of the provider's signing key.
func (p *Provider) PublicKey() *rsa.PublicKey {
	k, _ := p.Storage.SigningKey(context.Background())
	return &k.Key().(*rsa.PrivateKey).PublicKey
}

// SignJWT signs claims (anything encoding/json turns into an object) as an
// RS256 JWT with the provider's own key and kid, header typ "JWT", as the
// provider signs its tokens. Tests use it for tokens the provider would not
// issue: expired, other audience, other issuer.
func (p *Provider) SignJWT(claims any) (string, error) {
	k, err := p.Storage.SigningKey(context.Background())
	if err != nil {
		return "", err
	}
	signer, err := op.SignerFromKey(k)
	if err != nil {
		return "", err
	}
	return crypto.Sign(claims, signer)
}

// ApproveDevice approves a pending device authorization, as the user named
// username would on the verification page.
func (p *Provider) ApproveDevice(userCode, username string) error {
	u := p.store.users.GetUserByUsername(username)
	if u == nil {
		return fmt.Errorf("oidctest: no user %q", username)
	}
	return p.store.CompleteDeviceAuthorization(context.Background(), userCode, u.ID)
}

// DenyDevice denies a pending device authorization.
func (p *Provider) DenyDevice(userCode string) error {
	return p.store.DenyDeviceAuthorization(context.Background(), userCode)
}

// ErrLoginRejected is returned by [Provider.Authorize] when the login form
// refuses the user name or password.
var ErrLoginRejected = errors.New("oidctest: login rejected")

// Authorize plays the user's browser for an authorization request: it
// opens authURL, submits the login form as username with password, and
// returns the URL the provider finally redirects to (the client's
// redirect_uri with code and state, or with an error) without visiting it.
// It returns an error when the provider answers with a page instead (an
// invalid client or redirect_uri) and [ErrLoginRejected] for wrong
// credentials.
func (p *Provider) Authorize(ctx context.Context, authURL, username, password string) (*url.URL, error) {
	hc := &http.Client{
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme+"://"+req.URL.Host != p.Issuer {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	do := func(req *http.Request) (*http.Response, string, error) {
		resp, err := hc.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, io.LimitReader(resp.Body, 64<<10))
		return resp, b.String(), nil
	}
	// The final redirect away from the provider, if resp is one.
	away := func(resp *http.Response) (*url.URL, bool) {
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			return nil, false
		}
		loc, err := resp.Location()
		return loc, err == nil
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, body, err := do(req)
	if err != nil {
		return nil, err
	}
	if loc, ok := away(resp); ok {
		return loc, nil
	}
	authReqID := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != http.StatusOK || authReqID == "" {
		return nil, fmt.Errorf("oidctest: authorization request not accepted: %s: %s", resp.Status, strings.TrimSpace(body))
	}

	login := *resp.Request.URL
	login.RawQuery = ""
	form := url.Values{"id": {authReqID}, "username": {username}, "password": {password}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, login.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err = do(req)
	if err != nil {
		return nil, err
	}
	if loc, ok := away(resp); ok {
		return loc, nil
	}
	if resp.StatusCode == http.StatusOK && resp.Request.URL.Path == login.Path {
		return nil, fmt.Errorf("%w for %q", ErrLoginRejected, username)
	}
	return nil, fmt.Errorf("oidctest: login did not redirect: %s: %s", resp.Status, strings.TrimSpace(body))
}

// BrowserFunc returns a function that plays the user's browser: it runs
// [Provider.Authorize] as username and then delivers the final redirect to
// the client's redirect_uri with a GET, as a browser would. It fits code
// that "opens a browser" through a func(url string) error hook.
func (p *Provider) BrowserFunc(username, password string) func(authURL string) error {
	return func(authURL string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		loc, err := p.Authorize(ctx, authURL, username, password)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("oidctest: delivering redirect: %w", err)
		}
		resp.Body.Close()
		return nil
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
