package core

import (
	"fmt"
	"slices"
	"time"
)

// The client authentication methods of Profile.TokenAuthMethod, named as
// in RFC 8414's token_endpoint_auth_methods_supported.
const (
	// AuthSecretBasic sends the client secret in the Authorization header
	// (RFC 6749 §2.3.1).
	AuthSecretBasic = "client_secret_basic"
	// AuthSecretPost sends the client secret in the form.
	AuthSecretPost = "client_secret_post"
	// AuthPrivateKeyJWT signs a client assertion with the profile's newest
	// ClientKey (RFC 7523 §2.2, OpenID Connect Core §9).
	AuthPrivateKeyJWT = "private_key_jwt"
	// AuthTLSClient authenticates by the profile's TLS client certificate,
	// issued by a CA the provider trusts (RFC 8705 §2.1).
	AuthTLSClient = "tls_client_auth"
	// AuthSelfSignedTLS authenticates by the profile's self-signed TLS
	// client certificate, registered at the provider (RFC 8705 §2.2).
	AuthSelfSignedTLS = "self_signed_tls_client_auth"
)

// TokenAuthMethods are the values of Profile.TokenAuthMethod; "" picks
// from the secret, keys and discovery document (see Profile.TokenAuthMethod).
var TokenAuthMethods = []string{"", AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT, AuthTLSClient, AuthSelfSignedTLS}

// The values of Profile.AssertionAudience.
const (
	// AudienceTokenEndpoint: the aud of a client assertion is the token
	// endpoint URL (OpenID Connect Core §9; Entra, Okta). The default.
	AudienceTokenEndpoint = "token_endpoint"
	// AudienceIssuer: the aud is the issuer (RFC 7523bis; ZITADEL).
	AudienceIssuer = "issuer"
)

// AssertionAudiences are the values of Profile.AssertionAudience; ""
// means AudienceTokenEndpoint.
var AssertionAudiences = []string{"", AudienceTokenEndpoint, AudienceIssuer}

// Client key algorithms that profile keygen creates.
const (
	KeyRS256 = "RS256"
	KeyES256 = "ES256"
)

// ClientKeyAlgorithms are the algorithms of a ClientKey.
var ClientKeyAlgorithms = []string{KeyRS256, KeyES256}

// ClientKey is one key pair with which a profile signs its client
// assertions (private_key_jwt). A profile keeps its keys oldest first; the
// newest signs, the older ones stay registered at the provider until they
// are retired (key rollover).
type ClientKey struct {
	// ID is the kid: the key's RFC 7638 thumbprint.
	ID string
	// Algorithm is RS256 or ES256.
	Algorithm string
	// PrivateKey is the PKCS #8 PEM of the private key. Sealed in the
	// store like every secret.
	PrivateKey Secret
	// Certificate is the PEM of a self-signed certificate of the key, ""
	// for none. With one, assertions carry its x5t#S256 (Entra needs it).
	Certificate string
	CreatedAt   time.Time
}

// SigningKey returns the key that signs: the newest.
func (p *Profile) SigningKey() (ClientKey, bool) {
	if len(p.ClientKeys) == 0 {
		return ClientKey{}, false
	}
	return p.ClientKeys[len(p.ClientKeys)-1], true
}

// AddClientKey makes k the newest (signing) key; with retireOld the older
// keys are dropped, else they are kept so that assertions of the old key
// stay valid until it is registered anew.
func (p *Profile) AddClientKey(k ClientKey, retireOld bool) {
	if retireOld {
		p.ClientKeys = nil
	}
	p.ClientKeys = append(slices.Clone(p.ClientKeys), k)
}

// RetireClientKeys drops every key but the newest; it returns how many
// were dropped.
func (p *Profile) RetireClientKeys() int {
	if len(p.ClientKeys) <= 1 {
		return 0
	}
	n := len(p.ClientKeys) - 1
	p.ClientKeys = []ClientKey{p.ClientKeys[n]}
	return n
}

// validateClientAuth adds the problems of the client authentication
// settings to v. A private_key_jwt profile may have no key yet (profile
// keygen comes after profile add); the grant says so then.
func (p *Profile) validateClientAuth(v *ValidationError) {
	if !slices.Contains(TokenAuthMethods, p.TokenAuthMethod) {
		v.add("token auth method", fmt.Sprintf("%q: want client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth, self_signed_tls_client_auth or empty (from discovery)", p.TokenAuthMethod))
	}
	if (p.TokenAuthMethod == AuthTLSClient || p.TokenAuthMethod == AuthSelfSignedTLS) && p.TLS.ClientCert == "" {
		v.add("token auth method", p.TokenAuthMethod+" needs the TLS client certificate and key (client cert, client key)")
	}
	if !slices.Contains(AssertionAudiences, p.AssertionAudience) {
		v.add("assertion audience", fmt.Sprintf("%q: want token_endpoint, issuer or empty (token_endpoint)", p.AssertionAudience))
	}
	seen := map[string]bool{}
	for i, k := range p.ClientKeys {
		switch {
		case k.ID == "":
			v.add("client key", fmt.Sprintf("key %d has no id", i+1))
		case seen[k.ID]:
			v.add("client key", fmt.Sprintf("key %s is there twice", k.ID))
		case !slices.Contains(ClientKeyAlgorithms, k.Algorithm):
			v.add("client key", fmt.Sprintf("key %s: algorithm %q is not RS256 or ES256", k.ID, k.Algorithm))
		case !k.PrivateKey.IsSet():
			v.add("client key", fmt.Sprintf("key %s has no private key", k.ID))
		}
		seen[k.ID] = true
	}
}
