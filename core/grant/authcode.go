package grant

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// AuthCodeFlow is one authorization code login (RFC 6749 §4.1) with PKCE
// S256 (RFC 7636), always, and a state and nonce of the profile's
// RandLength, made with crypto/rand from URL-safe characters.
//
// A nonce is sent when the profile's UseNonce is set or the scope has
// "openid" (an id_token will come back and is then bound to this login);
// an id_token without the same nonce is refused. The state is valid for
// the profile's RandTTL by the Client's clock.
//
// A flow is used once: its first callback with the right state (or error
// redirect without state) ends it, whatever the outcome.
type AuthCodeFlow struct {
	// URL is the authorization request to open in a browser.
	URL string
	// RedirectURI is the redirect_uri sent; the provider must accept it.
	RedirectURI string
	// State is the state sent; a callback must carry it back.
	State string
	// Expires is when the state stops being accepted.
	Expires time.Time

	c        *Client
	p        core.Profile
	d        *discovery.Document
	a        core.Account
	scopes   []string
	verifier string
	nonce    string

	mu   sync.Mutex
	used bool
}

// StartAuthCode prepares an authorization code login for an account with
// the given redirect URI (such as Callback.RedirectURI). The account's
// resources go into the authorization request and the token request.
func (c *Client) StartAuthCode(p core.Profile, d *discovery.Document, a core.Account, redirectURI string) (*AuthCodeFlow, error) {
	if d == nil || d.AuthorizationEndpoint == "" {
		return nil, fmt.Errorf("authorization_code for %s: the provider has no authorization_endpoint: %w", a.Name, ErrUnsupported)
	}
	if redirectURI == "" {
		return nil, fmt.Errorf("authorization_code for %s: no redirect URI", a.Name)
	}
	n := p.Misc.RandLength
	if n <= 0 {
		n = core.DefaultRandLength
	}
	n = max(n, 16)
	f := &AuthCodeFlow{
		RedirectURI: redirectURI,
		State:       randomString(n),
		Expires:     c.now().Add(p.Misc.StateTTL()),
		c:           c, p: p, d: d, a: a,
		scopes:   Scopes(p, a),
		verifier: oauth2.GenerateVerifier(),
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier)}
	if p.Misc.UseNonce || slices.Contains(f.scopes, "openid") {
		f.nonce = randomString(n)
		opts = append(opts, oauth2.SetAuthURLParam("nonce", f.nonce))
	}
	cfg := oauth2.Config{
		ClientID:    p.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: d.AuthorizationEndpoint},
		RedirectURL: redirectURI,
		Scopes:      f.scopes,
	}
	authURL := cfg.AuthCodeURL(f.State, opts...)
	if len(a.Resources) > 0 {
		u, err := url.Parse(authURL)
		if err != nil {
			return nil, fmt.Errorf("authorization_code for %s: authorization_endpoint: %w", a.Name, err)
		}
		q := u.Query()
		if err := addResources(q, a); err != nil {
			return nil, fmt.Errorf("authorization_code for %s: %w", a.Name, err)
		}
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	f.URL = authURL
	return f, nil
}

// Exchange handles the query of the redirect back from the provider: it
// checks the state (a wrong or missing one is ErrStateMismatch and leaves
// the flow usable), its expiry (ErrExpired), the iss parameter where the
// provider sends one (RFC 9207), turns an error=… redirect into a
// *ProviderError (access_denied matches ErrAccessDenied), and exchanges the
// code for tokens, verifying the id_token with the nonce.
func (f *AuthCodeFlow) Exchange(ctx context.Context, q url.Values) (core.TokenSet, error) {
	set, err := f.exchange(ctx, q)
	if err != nil {
		return core.TokenSet{}, fmt.Errorf("authorization_code for %s: %w", f.a.Name, err)
	}
	return set, nil
}

func (f *AuthCodeFlow) exchange(ctx context.Context, q url.Values) (core.TokenSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used {
		return core.TokenSet{}, ErrFlowUsed
	}
	state := q.Get("state")
	if q.Has("error") && state == "" {
		// Some providers leave the state out of error redirects; there
		// are no tokens to protect, so the error is worth reporting.
		f.used = true
		return core.TokenSet{}, callbackError(q)
	}
	if state == "" {
		return core.TokenSet{}, fmt.Errorf("the callback carries no state: %w", ErrStateMismatch)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		return core.TokenSet{}, fmt.Errorf("the callback's state is not the one this login sent (a stale or forged callback): %w", ErrStateMismatch)
	}
	f.used = true
	if now := f.c.now(); now.After(f.Expires) {
		return core.TokenSet{}, fmt.Errorf("%w: the login took too long; its state was valid until %s (the profile's rand TTL); start again",
			ErrExpired, f.Expires.Format(time.RFC3339))
	}
	if iss := q.Get("iss"); iss != "" && iss != f.d.Issuer {
		return core.TokenSet{}, fmt.Errorf("the callback comes from issuer %q, not %q (RFC 9207): refused", iss, f.d.Issuer)
	}
	if q.Has("error") {
		return core.TokenSet{}, callbackError(q)
	}
	code := q.Get("code")
	if code == "" {
		return core.TokenSet{}, fmt.Errorf("the callback carries neither a code nor an error")
	}
	return f.c.token(ctx, f.p, f.d, f.a, tokenRequest{
		grant: "authorization_code",
		params: url.Values{
			"code":          {code},
			"redirect_uri":  {f.RedirectURI},
			"code_verifier": {f.verifier},
		},
		scopes:  f.scopes,
		noScope: true,
		nonce:   f.nonce,
		secrets: []string{code, f.verifier},
	})
}

// Used reports whether a callback or pasted redirect has ended the flow
// (successfully or not); until then a refused one (ErrStateMismatch, a
// pasted text that is not the redirect) leaves it usable.
func (f *AuthCodeFlow) Used() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used
}

// ExchangeRedirect is Exchange for a redirect URL that a person pasted
// (the browser's address bar after the login, when the loopback callback
// could not be reached). It takes the whole URL or just its query.
func (f *AuthCodeFlow) ExchangeRedirect(ctx context.Context, pasted string) (core.TokenSet, error) {
	q, err := f.parseRedirect(pasted)
	if err != nil {
		return core.TokenSet{}, fmt.Errorf("authorization_code for %s: %w", f.a.Name, err)
	}
	return f.Exchange(ctx, q)
}

func (f *AuthCodeFlow) parseRedirect(pasted string) (url.Values, error) {
	s := strings.TrimSpace(pasted)
	if s == "" {
		return nil, fmt.Errorf("nothing was pasted")
	}
	if strings.HasPrefix(s, "?") || !strings.Contains(s, "://") {
		return url.ParseQuery(strings.TrimPrefix(s, "?"))
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("the pasted text is not a URL: %w", err)
	}
	want, err := url.Parse(f.RedirectURI)
	if err == nil && strings.TrimSuffix(u.Path, "/") != strings.TrimSuffix(want.Path, "/") {
		return nil, fmt.Errorf("the pasted URL is not the redirect (want %s?code=…&state=…)", f.RedirectURI)
	}
	return u.Query(), nil
}

// callbackError turns an error redirect into a *ProviderError.
func callbackError(q url.Values) *ProviderError {
	return &ProviderError{
		Code:        redact(q.Get("error"), nil, 64),
		Description: redact(q.Get("error_description"), nil, 300),
		URI:         redact(q.Get("error_uri"), nil, 200),
	}
}

// urlSafe are the characters of state and nonce: 64 of them, so that a
// random byte's low six bits pick one without bias.
const urlSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = urlSafe[b[i]&63]
	}
	return string(b)
}
