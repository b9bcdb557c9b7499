package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/discovery"
	"oidcctl/core/tlsclient"
)

// DefaultTimeout bounds each request of the default HTTP client, and a
// token request whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// maxBody bounds the bodies this package reads itself.
const maxBody = 1 << 20

// Client obtains, refreshes and revokes the tokens of functional accounts.
// The zero value works: tlsclient for HTTP, the JWKS fetched for every
// id_token, the real clock and slog's default logger. A Client is safe for
// concurrent use.
type Client struct {
	// HTTPClient returns the HTTP client for a profile's provider; nil
	// means tlsclient.New(p.TLS, DefaultTimeout), a new one per call,
	// and for token requests one without any timeout of its own (see
	// tokenHTTPClient). A client given here applies its timeouts to
	// token requests too.
	HTTPClient func(core.Profile) (*http.Client, error)
	// Keys returns the JWKS that id_tokens are verified against; nil means
	// fetching d.JWKSURI with the profile's HTTP client on every
	// verification.
	Keys func(ctx context.Context, p core.Profile, d *discovery.Document) (jwk.Set, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets a debug line per token obtained and warnings (a stray
	// callback); never a token or secret. Nil means slog.Default().
	Logger *slog.Logger
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// httpClient returns the profile's HTTP client and a function to call when
// done with it.
func (c *Client) httpClient(p core.Profile) (*http.Client, func(), error) {
	if c.HTTPClient != nil {
		hc, err := c.HTTPClient(p)
		return hc, func() {}, err
	}
	hc, err := tlsclient.New(p.TLS, DefaultTimeout)
	if err != nil {
		return nil, nil, err
	}
	return hc, hc.CloseIdleConnections, nil
}

// tokenHTTPClient returns the HTTP client for a token request and a
// function to call when done with it. The default one has neither an
// overall timeout nor a response header timeout: the context alone bounds
// a token request, because one cut short by a client timeout may still
// have made the provider rotate the refresh token, and its answer is the
// only place the new one is ever seen.
func (c *Client) tokenHTTPClient(p core.Profile) (*http.Client, func(), error) {
	if c.HTTPClient != nil {
		return c.httpClient(p)
	}
	hc, err := tlsclient.New(p.TLS, 0)
	if err != nil {
		return nil, nil, err
	}
	if t, ok := hc.Transport.(*http.Transport); ok {
		t.ResponseHeaderTimeout = 0
	}
	return hc, hc.CloseIdleConnections, nil
}

// Obtain gets new tokens for an account whose grant needs no person:
// client_credentials or password. For authorization_code it returns an
// error wrapping ErrNeedsAuthorization.
func (c *Client) Obtain(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account) (core.TokenSet, error) {
	req := tokenRequest{grant: string(a.GrantType), params: url.Values{}, scopes: Scopes(p, a)}
	switch a.GrantType {
	case core.GrantClientCredentials:
	case core.GrantPassword:
		req.params.Set("username", a.Username)
		req.params.Set("password", a.Password.Reveal())
		req.secrets = []string{a.Password.Reveal()}
	case core.GrantAuthorizationCode:
		return core.TokenSet{}, fmt.Errorf("%w: account %s uses authorization_code; run `oidcctl account authorize %s`",
			ErrNeedsAuthorization, a.Name, a.Name)
	default:
		return core.TokenSet{}, fmt.Errorf("account %s: unknown grant type %q", a.Name, a.GrantType)
	}
	set, err := c.token(ctx, p, d, a, req)
	if err != nil {
		return core.TokenSet{}, fmt.Errorf("%s for %s: %w", a.GrantType, a.Name, err)
	}
	return set, nil
}

// Refresh uses a refresh token (RFC 6749 §6). The result keeps
// refreshToken when the provider sends no new one. No scope is sent, so
// the provider grants the scope of the original grant; the account's
// resources are sent. ctx bounds the request (DefaultTimeout when it has
// no deadline): a caller that must not lose a rotated refresh token gives
// it a long deadline and does not cancel it (as tokens.Manager does). When
// the answer brings a new refresh token but cannot be used otherwise, the
// error is a *RotatedError carrying that refresh token.
func (c *Client) Refresh(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account, refreshToken core.Secret) (core.TokenSet, error) {
	if !refreshToken.IsSet() {
		return core.TokenSet{}, fmt.Errorf("refresh for %s: no refresh token", a.Name)
	}
	req := tokenRequest{
		grant:   "refresh_token",
		params:  url.Values{"refresh_token": {refreshToken.Reveal()}},
		scopes:  Scopes(p, a),
		secrets: []string{refreshToken.Reveal()},
		noScope: true,
	}
	set, err := c.token(ctx, p, d, a, req)
	if err != nil {
		return core.TokenSet{}, fmt.Errorf("refresh for %s: %w", a.Name, err)
	}
	if !set.RefreshToken.IsSet() {
		set.RefreshToken = refreshToken
	}
	return set, nil
}

// Scopes returns the scopes requested for an account: its own scopes; when
// it has none, nothing for client_credentials (the provider's default) and
// "openid" plus the profile's additional scopes for the grants where a
// person logs in (password, authorization_code, device).
func Scopes(p core.Profile, a core.Account) []string {
	if len(a.Scopes) > 0 {
		return slices.Clone(a.Scopes)
	}
	if a.GrantType == core.GrantClientCredentials {
		return nil
	}
	out := []string{"openid"}
	for _, s := range p.Scopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// tokenRequest is one request to the token endpoint.
type tokenRequest struct {
	grant   string     // grant_type
	params  url.Values // grant parameters, without client authentication
	scopes  []string   // requested scopes: sent unless noScope, and the Scope when the answer has none
	noScope bool
	nonce   string   // the nonce the id_token must carry; "" for none
	secrets []string // values sent that must never show in an error
}

// reserved are parameters that a resource parameter name must not replace.
var reserved = []string{
	"grant_type", "client_id", "client_secret", "scope", "code", "code_verifier", "redirect_uri",
	"refresh_token", "username", "password", "device_code", "state", "nonce", "response_type",
	"client_assertion", "client_assertion_type",
}

// addResources adds the account's resources (RFC 8707), one parameter
// each, named by its resource parameter.
func addResources(v url.Values, a core.Account) error {
	if len(a.Resources) == 0 {
		return nil
	}
	name := a.ResourceParam
	if name == "" {
		name = core.DefaultResourceParam
	}
	if slices.Contains(reserved, name) {
		return fmt.Errorf("the resource parameter name %q is an OAuth parameter of its own; use resource or audience", name)
	}
	for _, r := range a.Resources {
		v.Add(name, r)
	}
	return nil
}

// token sends a token request through x/oauth2's clientcredentials.Config,
// whose EndpointParams carry any grant (grant_type may be overridden) and
// repeated parameters, which RFC 8707 resources need and oauth2.Config's
// AuthCodeOptions cannot express.
func (c *Client) token(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account, req tokenRequest) (core.TokenSet, error) {
	if d == nil || d.TokenEndpoint == "" {
		return core.TokenSet{}, fmt.Errorf("the discovery document has no token_endpoint")
	}
	auth, err := clientauth.Resolve(p, d, c.now())
	if err != nil {
		return core.TokenSet{}, err
	}
	params := url.Values{"grant_type": {req.grant}}
	for k, vs := range req.params {
		params[k] = vs
	}
	// client_secret_basic goes through x/oauth2's header; every other
	// method is form parameters (client_id at least).
	style, secret := oauth2.AuthStyleInParams, ""
	if auth.Basic != nil {
		style, secret = oauth2.AuthStyleInHeader, p.ClientSecret.Reveal()
	}
	for k, vs := range auth.Params {
		params[k] = vs
	}
	if err := addResources(params, a); err != nil {
		return core.TokenSet{}, err
	}
	cfg := clientcredentials.Config{
		ClientID:       p.ClientID,
		ClientSecret:   secret,
		TokenURL:       clientauth.Endpoint(p, d, d.TokenEndpoint),
		EndpointParams: params,
		AuthStyle:      style,
	}
	if !req.noScope {
		cfg.Scopes = req.scopes
	}
	hc, done, err := c.tokenHTTPClient(p)
	if err != nil {
		return core.TokenSet{}, err
	}
	defer done()
	if hc, err = dpopClient(hc, a, c.now); err != nil {
		return core.TokenSet{}, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)

	now := c.now()
	tok, err := cfg.Token(ctx)
	if err != nil {
		var ue *url.Error
		if err = providerError(err, slices.Concat(req.secrets, auth.Secrets, []string{p.ClientSecret.Reveal()})); !errors.As(err, new(*ProviderError)) && !errors.As(err, &ue) {
			// x/oauth2's own: no JSON, no access_token.
			err = fmt.Errorf("unusable answer from the token endpoint: %w", err)
		}
		return core.TokenSet{}, discovery.ForProfile(p.Name, discovery.Explain(err))
	}
	set := tokenSet(tok, now, req.scopes)
	if a.DPoP && !strings.EqualFold(set.TokenType, "DPoP") {
		// RFC 9449 section 5: the provider ignored the proof.
		c.logger().Warn("grant: DPoP asked for, but the provider issued a bearer token", "profile", p.Name, "account", a.Name, "token_type", set.TokenType)
	}
	if set.IDToken.IsSet() {
		if err := c.verifyIDToken(ctx, p, d, set.IDToken.Reveal(), req.nonce); err != nil {
			if req.grant == "refresh_token" && set.RefreshToken.IsSet() && set.RefreshToken.Reveal() != req.params.Get("refresh_token") {
				return core.TokenSet{}, &RotatedError{RefreshToken: set.RefreshToken, RefreshExpiry: set.RefreshExpiry, Err: err}
			}
			return core.TokenSet{}, err
		}
	}
	c.logger().Debug("grant: tokens obtained", "profile", p.Name, "account", a.Name, "grant", req.grant,
		"expiry", set.Expiry, "refresh_token", set.RefreshToken.IsSet(), "id_token", set.IDToken.IsSet(), "scope", set.Scope)
	return set, nil
}

// tokenSet turns a token response received at now into a TokenSet.
// Lifetimes are counted from now (the injected clock), not from x/oauth2's
// time.Now: Expiry from expires_in, or from the access token's exp claim
// when expires_in is absent and the token is a JWT; RefreshExpiry from
// Keycloak's refresh_expires_in (0 there means "no expiry", kept as
// unknown).
func tokenSet(tok *oauth2.Token, now time.Time, requested []string) core.TokenSet {
	set := core.TokenSet{
		AccessToken:  core.NewSecret(tok.AccessToken),
		TokenType:    tok.TokenType,
		RefreshToken: core.NewSecret(tok.RefreshToken),
		ObtainedAt:   now,
	}
	if s, ok := tok.Extra("id_token").(string); ok {
		set.IDToken = core.NewSecret(s)
	}
	if secs, ok := seconds(tok.Extra("expires_in")); ok && secs > 0 {
		set.Expiry = now.Add(time.Duration(secs) * time.Second)
	} else if exp, ok := jwtExpiry(tok.AccessToken); ok {
		set.Expiry = exp
	}
	if secs, ok := seconds(tok.Extra("refresh_expires_in")); ok && secs > 0 && set.RefreshToken.IsSet() {
		set.RefreshExpiry = now.Add(time.Duration(secs) * time.Second)
	}
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		set.Scope = strings.Join(strings.Fields(s), " ")
	} else {
		set.Scope = strings.Join(requested, " ")
	}
	return set
}

// seconds reads a lifetime in seconds from a JSON number, a numeric string
// (PayPal, form-encoded answers) or a json.Number.
func seconds(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// jwtExpiry returns the exp claim of a JWT, unverified: it only estimates
// when the provider will stop accepting its own token.
func jwtExpiry(token string) (time.Time, bool) {
	if strings.Count(token, ".") != 2 {
		return time.Time{}, false
	}
	t, err := jwt.ParseInsecure([]byte(token))
	if err != nil {
		return time.Time{}, false
	}
	return t.Expiration()
}
