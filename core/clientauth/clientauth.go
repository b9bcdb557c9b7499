// Package clientauth authenticates oidcctl as a client of a profile's
// provider wherever the client has to prove who it is: the token endpoint
// (every grant and refresh), revocation, introspection and device
// authorization. It picks the method (Resolve), signs the client
// assertions of private_key_jwt (RFC 7523 §2.2) with jwx, and creates the
// key pairs of profile keygen (Generate, PublicJWKS).
//
// # Decisions
//
//   - A client assertion has iss = sub = client_id, aud = the token
//     endpoint (or the issuer, Profile.AssertionAudience), a random jti,
//     iat = now and exp = now + AssertionLifetime (60 s), kid = the key's
//     RFC 7638 thumbprint, and x5t#S256 when the key has a certificate
//     (Entra refuses assertions without it). The newest key signs.
//   - tls_client_auth and self_signed_tls_client_auth (RFC 8705) send only
//     client_id: the proof is the profile's TLS client certificate, which
//     tlsclient presents on every connection. Requests go to the
//     provider's mtls_endpoint_aliases where it has them (Endpoint).
//   - A key or certificate method a profile names is checked against the
//     discovery document's token_endpoint_auth_methods_supported when the
//     provider lists any; the error names what the provider supports. A
//     named client_secret_basic or client_secret_post is used as it is
//     (the way round a provider whose list is incomplete).
package clientauth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// AssertionType is the client_assertion_type of RFC 7523 §2.2.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionLifetime is how long a client assertion is valid: one request.
const AssertionLifetime = 60 * time.Second

// ErrNoKey is wrapped by the error for a private_key_jwt profile without a
// client key.
var ErrNoKey = errors.New("no client key")

// Auth is how one request authenticates the client.
type Auth struct {
	// Method is the resolved method: one of core's Auth* constants, or
	// "none" for a public client.
	Method string
	// Params go into the request's form: client_id, and client_secret,
	// client_assertion_type and client_assertion as the method needs.
	Params url.Values
	// Basic is set for client_secret_basic: the Authorization header's
	// user and password, already form-encoded (RFC 6749 §2.3.1).
	Basic *[2]string
	// Secrets are the values sent that must never show in an error or log.
	Secrets []string
}

// Method returns the method a profile uses with a provider: the one it
// names (private_key_jwt and the TLS methods checked against the discovery
// document; a named secret method is used as it is); or, when it names none,
// client_secret_basic or client_secret_post for a profile with a secret
// (basic when the provider lists it or lists nothing, RFC 8414's default),
// private_key_jwt for one with client keys, "none" for a public client.
func Method(p core.Profile, d *discovery.Document) (string, error) {
	var methods []string
	if d != nil {
		methods = d.TokenEndpointAuthMethodsSupported
	}
	if m := p.TokenAuthMethod; m != "" {
		if m == core.AuthSecretBasic || m == core.AuthSecretPost {
			// Named, a secret method is used whatever the provider
			// lists: the way round a provider whose list is wrong.
			if !p.ClientSecret.IsSet() {
				return "none", nil // a public client
			}
			return m, nil
		}
		if len(methods) > 0 && !slices.Contains(methods, m) {
			return "", fmt.Errorf("profile %s authenticates its client by %s, but the provider's token endpoint supports only %s (token_endpoint_auth_methods_supported); choose one of those with `oidcctl profile edit %s --token-auth-method METHOD`",
				p.Name, m, strings.Join(methods, ", "), p.Name)
		}
		return m, nil
	}
	switch {
	case p.ClientSecret.IsSet():
		switch {
		case len(methods) == 0 || slices.Contains(methods, core.AuthSecretBasic):
			return core.AuthSecretBasic, nil
		case slices.Contains(methods, core.AuthSecretPost):
			return core.AuthSecretPost, nil
		}
		return "", fmt.Errorf("the provider's token endpoint accepts only %s; profile %s has a client secret, which is sent by client_secret_basic or client_secret_post: name another method with --token-auth-method",
			strings.Join(methods, ", "), p.Name)
	case len(p.ClientKeys) > 0:
		if len(methods) > 0 && !slices.Contains(methods, core.AuthPrivateKeyJWT) {
			return "", fmt.Errorf("profile %s has client keys for private_key_jwt, but the provider's token endpoint supports only %s (token_endpoint_auth_methods_supported)",
				p.Name, strings.Join(methods, ", "))
		}
		return core.AuthPrivateKeyJWT, nil
	}
	return "none", nil
}

// Resolve returns the client authentication of one request to the
// provider; now is the clock of the assertion's iat and exp.
func Resolve(p core.Profile, d *discovery.Document, now time.Time) (Auth, error) {
	m, err := Method(p, d)
	if err != nil {
		return Auth{}, err
	}
	a := Auth{Method: m, Params: url.Values{"client_id": {p.ClientID}}}
	switch m {
	case core.AuthSecretBasic:
		a.Params = url.Values{}
		a.Basic = &[2]string{url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret.Reveal())}
		a.Secrets = []string{p.ClientSecret.Reveal()}
	case core.AuthSecretPost:
		a.Params.Set("client_secret", p.ClientSecret.Reveal())
		a.Secrets = []string{p.ClientSecret.Reveal()}
	case core.AuthPrivateKeyJWT:
		aud, err := Audience(p, d)
		if err != nil {
			return Auth{}, err
		}
		jwt, err := Assertion(p, aud, now)
		if err != nil {
			return Auth{}, err
		}
		a.Params.Set("client_assertion_type", AssertionType)
		a.Params.Set("client_assertion", jwt)
		a.Secrets = []string{jwt}
	case core.AuthTLSClient, core.AuthSelfSignedTLS:
		if p.TLS.ClientCert == "" {
			return Auth{}, fmt.Errorf("profile %s authenticates by %s but has no TLS client certificate: set --client-cert and --client-key", p.Name, m)
		}
	}
	return a, nil
}

// Endpoint returns where a request meant for endpoint, one of d's
// endpoint URLs, goes: its mtls_endpoint_aliases entry when the profile
// authenticates by TLS client certificate and the provider publishes one
// (RFC 8705 §5), else endpoint itself.
func Endpoint(p core.Profile, d *discovery.Document, endpoint string) string {
	if d == nil || d.MTLSEndpointAliases == nil || (p.TokenAuthMethod != core.AuthTLSClient && p.TokenAuthMethod != core.AuthSelfSignedTLS) {
		return endpoint
	}
	a := d.MTLSEndpointAliases
	for _, e := range [][2]string{
		{d.TokenEndpoint, a.TokenEndpoint},
		{d.RevocationEndpoint, a.RevocationEndpoint},
		{d.IntrospectionEndpoint, a.IntrospectionEndpoint},
		{d.DeviceAuthorizationEndpoint, a.DeviceAuthorizationEndpoint},
	} {
		if e[0] == endpoint && e[1] != "" {
			return e[1]
		}
	}
	return endpoint
}

// Audience returns the aud of a profile's client assertions.
func Audience(p core.Profile, d *discovery.Document) (string, error) {
	if d == nil {
		return "", errors.New("no discovery document for the client assertion's audience")
	}
	if p.AssertionAudience == core.AudienceIssuer {
		if d.Issuer == "" {
			return "", errors.New("the discovery document has no issuer for the client assertion's audience")
		}
		return d.Issuer, nil
	}
	if d.TokenEndpoint == "" {
		return "", errors.New("the discovery document has no token_endpoint for the client assertion's audience")
	}
	return d.TokenEndpoint, nil
}

// newJTI returns a random jti.
func newJTI() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
