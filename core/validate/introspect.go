package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/discovery"
	"oidcctl/core/tlsclient"
)

// maxIntrospectionBody bounds an introspection response.
const maxIntrospectionBody = 1 << 20

// checkOpaque checks a token that is not a JWT by introspection (RFC
// 7662): the provider says whether it is active and with which claims;
// those then go through the same checks as a JWT's (an absent iss, exp or
// aud is not held against it: the provider vouched for the token to this
// profile's client). The result is cached like a JWT's, until exp.
func (x *run) checkOpaque(token string) {
	p := x.p
	if !x.v.cfg.Introspect && !p.Introspect {
		x.fail(CheckFormat, ReasonOpaque, "not a JWT, and introspection is off",
			"The token is not a JWT (it has no dots): it is opaque, and only the provider can check it. "+
				"Enable introspection for the profile, or make the provider issue JWT access tokens for this client.")
		return
	}
	d := x.discover()
	if d == nil {
		return
	}
	switch {
	case d.IntrospectionEndpoint == "":
		x.fail(CheckIntrospection, ReasonOpaque, "the provider has no introspection endpoint",
			"The token is not a JWT (it has no dots), and the provider publishes no introspection_endpoint to check it at: "+
				"make the provider issue JWT access tokens for this client.")
		return
	case !hasClientCredentials(p):
		x.fail(CheckIntrospection, ReasonOpaque, "the profile has no client credentials",
			fmt.Sprintf("The token is not a JWT (it has no dots); checking it at the provider's introspection endpoint needs profile %q's client secret, client key or TLS client certificate, and it has none.", p.Name))
		return
	}
	claims, err := x.v.introspect(x.ctx, p, d, token)
	if err != nil {
		x.fail(CheckIntrospection, ReasonIntrospectionUnavailable, err.Error(),
			fmt.Sprintf("Cannot check the opaque token at the provider's introspection endpoint: %v", err))
		return
	}
	r := x.r
	r.Kind, r.Claims = "opaque", claims
	if active, _ := claims["active"].(bool); !active {
		x.fail(CheckIntrospection, ReasonInactive, "active: false",
			"The provider says the token is not active: it expired, was revoked, or was not issued by this provider. Get a new one.")
		return
	}
	x.pass(CheckIntrospection, "active at "+d.IntrospectionEndpoint)
	x.readClaims()
	if !x.checkIssuer(d) || !x.checkClaims() {
		return
	}
	x.userStep()
}

// hasClientCredentials reports whether a profile can authenticate its
// client at all: a secret, client keys, or a TLS client auth method.
func hasClientCredentials(p core.Profile) bool {
	return p.ClientSecret.IsSet() || len(p.ClientKeys) > 0 ||
		p.TokenAuthMethod == core.AuthTLSClient || p.TokenAuthMethod == core.AuthSelfSignedTLS
}

// introspect asks the provider about a token, authenticating the client
// as at the token endpoint (clientauth: client_secret_basic with id and
// secret form-encoded, RFC 6749 §2.3.1, client_secret_post,
// private_key_jwt or TLS client authentication).
func (v *Validator) introspect(ctx context.Context, p core.Profile, d *discovery.Document, token string) (map[string]any, error) {
	hc, err := v.httpClient(p)
	if err != nil {
		return nil, fmt.Errorf("the TLS settings of profile %q: %w", p.Name, err)
	}
	auth, err := clientauth.Resolve(p, d, v.cfg.Now())
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	for k, vs := range auth.Params {
		form[k] = vs
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, clientauth.Endpoint(p, d, d.IntrospectionEndpoint), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspection_endpoint %q: %w", d.IntrospectionEndpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "oidcctl")
	if auth.Basic != nil {
		req.SetBasicAuth(auth.Basic[0], auth.Basic[1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said below; the error must not repeat the form
		}
		return nil, fmt.Errorf("POST %s: %w", d.IntrospectionEndpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectionBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response of %s: %w", d.IntrospectionEndpoint, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%s refused profile %q's client credentials (HTTP %s): check the client id and secret, key or certificate", d.IntrospectionEndpoint, p.Name, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s answered HTTP %s", d.IntrospectionEndpoint, resp.Status)
	case len(body) > maxIntrospectionBody:
		return nil, fmt.Errorf("the response of %s is larger than 1 MiB", d.IntrospectionEndpoint)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("the response of %s is not a JSON object", d.IntrospectionEndpoint)
	}
	return claims, nil
}

// clientKey: one HTTP client per profile and TLS settings, so that
// introspection requests reuse their connections.
type clientKey struct {
	profile string
	tls     core.TLSOptions
}

// httpClient returns the HTTP client for introspection at a profile's
// provider.
func (v *Validator) httpClient(p core.Profile) (*http.Client, error) {
	if v.cfg.HTTPClient != nil {
		return v.cfg.HTTPClient(p)
	}
	k := clientKey{p.Name, p.TLS}
	v.clientsMu.Lock()
	defer v.clientsMu.Unlock()
	if hc, ok := v.clients[k]; ok {
		return hc, nil
	}
	hc, err := tlsclient.New(p.TLS, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	if v.clients == nil {
		v.clients = make(map[clientKey]*http.Client)
	}
	for old, c := range v.clients {
		if old.profile == p.Name { // the profile's TLS settings changed
			c.CloseIdleConnections()
			delete(v.clients, old)
		}
	}
	v.clients[k] = hc
	return hc, nil
}
