// Package core holds oidcctl's domain: OIDC provider profiles, functional
// accounts, their validation and the store interfaces that the rest of core
// needs. It knows nothing of terminals or SQL.
package core

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Flavour names the kind of OpenID provider a profile talks to. It selects
// provider-specific behaviour such as Microsoft Entra's v1 and v2 issuers.
type Flavour string

// The provider flavours oidcctl knows.
const (
	FlavourGeneric  Flavour = "generic"
	FlavourKeycloak Flavour = "keycloak"
	FlavourEntra    Flavour = "entra"
	FlavourGoogle   Flavour = "google"
)

// DPoPMode is a profile's DPoP setting for incoming tokens.
type DPoPMode string

// The DPoP modes; "" is DPoPOff.
const (
	DPoPOff     DPoPMode = "off"
	DPoPAllow   DPoPMode = "allow"
	DPoPRequire DPoPMode = "require"
)

// DPoPModes lists the modes, in the order they are offered.
var DPoPModes = []DPoPMode{DPoPOff, DPoPAllow, DPoPRequire}

// Accepts reports whether tokens may come with a DPoP proof.
func (m DPoPMode) Accepts() bool { return m == DPoPAllow || m == DPoPRequire }

// Flavours lists every known flavour, in the order they are offered.
var Flavours = []Flavour{FlavourGeneric, FlavourKeycloak, FlavourEntra, FlavourGoogle}

// Defaults of a new profile, as in the manual's AuthModule::OpenIDConnect.
const (
	DefaultDiscoveryTTL = 30 * time.Minute
	DefaultRandLength   = 22
	DefaultRandTTL      = 300 * time.Second
	DefaultLeeway       = 2 * time.Second
	DefaultUIDClaim     = "sub"
)

// Profile is one OpenID provider plus one client registration at it.
type Profile struct {
	Name         string
	DiscoveryURL string
	// DiscoveryTTL is how long a fetched discovery document is trusted.
	DiscoveryTTL time.Duration
	ClientID     string
	ClientSecret Secret
	// Scopes are requested in addition to "openid".
	Scopes []string
	// InsecureHTTP allows a plain-http discovery URL on a non-loopback host.
	InsecureHTTP bool
	// TokenAuthMethod is how the client authenticates at the token,
	// revocation, introspection and device authorization endpoints: one
	// of TokenAuthMethods. "" picks: with a client secret,
	// client_secret_basic when the discovery document lists it or lists
	// nothing, else client_secret_post; without a secret but with client
	// keys, private_key_jwt; with neither, a public client (client_id
	// only).
	TokenAuthMethod string
	// ClientKeys sign the client assertions of private_key_jwt, oldest
	// first; the newest signs (see SigningKey).
	ClientKeys []ClientKey
	// AssertionAudience is the aud of a client assertion: "" or
	// AudienceTokenEndpoint for the token endpoint URL, AudienceIssuer for
	// the issuer.
	AssertionAudience string
	// Introspect checks opaque (non-JWT) incoming tokens at the provider's
	// introspection endpoint (RFC 7662); without it they are refused.
	Introspect bool
	Flavour    Flavour
	TLS        TLSOptions
	Misc       Misc
	// UIDClaim is the claim that names the local user (default "sub").
	UIDClaim     string
	RoleMap      RoleMap
	UserMap      UserMap
	Restrictions Restrictions
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// DPoP says whether serve accepts DPoP-bound incoming tokens (RFC
	// 9449): off (""), allow (Bearer or DPoP) or require (DPoP only). See
	// package dpop and serve's doc.
	DPoP DPoPMode
	// DPoPNonce makes serve demand a server nonce in every DPoP proof for
	// this profile (RFC 9449 section 9), answering use_dpop_nonce with a
	// fresh DPoP-Nonce header until the client sends it.
	DPoPNonce bool
	// UserinfoClaims makes the UID claim, the user map and the role map
	// read the provider's userinfo endpoint too, called with the incoming
	// token: for providers that leave email, names or groups out of access
	// tokens. See package validate (userinfo.go) for the precedence.
	UserinfoClaims bool
	// LogTokenClaims records the header and claims (never the signature)
	// of the tokens serve accepts and refuses for this profile in the
	// debugger: the manual's LogIDToken, to build role maps from real
	// traffic.
	LogTokenClaims bool
	// RedirectURI is the default loopback redirect URI of its accounts'
	// browser logins; "" means http://127.0.0.1:<free port>/callback.
	// See CheckRedirectURI.
	RedirectURI string
	// MissingSecrets names the secrets (SecretClientSecret,
	// SecretClientKeyPassword) that the profile needs but does not have
	// yet: it was imported from a file that left them out. See
	// NeedsSecret.
	MissingSecrets []string
}

// TLSOptions are the TLS settings used for every call to a profile's
// provider.
type TLSOptions struct {
	ClientCert        string // PEM file of the client certificate
	ClientKey         string // PEM file of its key
	ClientKeyPassword Secret // password of an encrypted ClientKey
	CAFile            string // PEM bundle trusted in addition to the system roots
	CADir             string // directory of PEM files trusted in addition
	// SkipVerifyHostname accepts a certificate issued for another host name.
	SkipVerifyHostname bool
	// SkipVerifyPeer accepts any certificate at all. For tests only.
	SkipVerifyPeer bool
}

// Misc are the manual's Misc settings of the authorization request.
type Misc struct {
	UseNonce   bool
	RandLength int           // length of state and nonce
	RandTTL    time.Duration // how long state and nonce stay valid
	Leeway     time.Duration // allowed clock skew when checking times
}

// StateTTL is how long the state and nonce of an authorization request
// stay valid, and so how long a login may take: RandTTL, or DefaultRandTTL
// when that is not set.
func (m Misc) StateTTL() time.Duration {
	if m.RandTTL <= 0 {
		return DefaultRandTTL
	}
	return m.RandTTL
}

// Restrictions narrow which valid incoming tokens are accepted. Empty fields
// do not restrict.
type Restrictions struct {
	UserLogin       string
	Scopes          []string // every one must be granted
	Audiences       []string // every one must be in aud
	AuthorizedParty string   // must equal azp
	// Tenants, when set, are the Microsoft Entra tenant ids whose tokens
	// are accepted: the token's tid claim (or, without one, the tenant of
	// its Entra issuer) must be one of them. A multi-tenant discovery URL
	// ({tenantid}) accepts every tenant's issuer; this narrows it.
	Tenants []string
}

// NewProfile returns a profile with the manual's defaults filled in.
func NewProfile(name string) Profile {
	return Profile{
		Name:         name,
		DiscoveryTTL: DefaultDiscoveryTTL,
		Flavour:      FlavourGeneric,
		Misc: Misc{
			RandLength: DefaultRandLength,
			RandTTL:    DefaultRandTTL,
			Leeway:     DefaultLeeway,
		},
		UIDClaim: DefaultUIDClaim,
	}
}

// PrefillFrom copies the settings of another profile that usually hold for a
// second client at the same provider, as the manual prefills from the login
// provider. Name, client id and the secrets are never copied.
func (p *Profile) PrefillFrom(src Profile) {
	name, clientID := p.Name, p.ClientID
	*p = src
	p.Name, p.ClientID = name, clientID
	p.ClientSecret = Secret{}
	p.TLS.ClientKeyPassword = Secret{}
	p.ClientKeys = nil
	p.Scopes = slices.Clone(src.Scopes)
	p.RoleMap = src.RoleMap.Clone()
	p.UserMap = src.UserMap.Clone()
	p.Restrictions.Scopes = slices.Clone(src.Restrictions.Scopes)
	p.Restrictions.Audiences = slices.Clone(src.Restrictions.Audiences)
	p.Restrictions.Tenants = slices.Clone(src.Restrictions.Tenants)
	p.CreatedAt, p.UpdatedAt = time.Time{}, time.Time{}
}

// Validate reports every problem with the profile, in words a person
// understands, as a *ValidationError.
func (p *Profile) Validate() error {
	var v ValidationError
	v.Kind, v.Name = "profile", p.Name
	if err := checkName(p.Name); err != "" {
		v.add("name", err)
	}
	if p.DiscoveryURL == "" {
		v.add("discovery URL", "is required")
	} else if msg := checkDiscoveryURL(p.DiscoveryURL, p.InsecureHTTP); msg != "" {
		v.add("discovery URL", msg)
	}
	if p.DiscoveryTTL < 0 {
		v.add("discovery TTL", "must not be negative")
	}
	if strings.TrimSpace(p.ClientID) == "" {
		v.add("client id", "is required")
	}
	if !slices.Contains(Flavours, p.Flavour) {
		v.add("flavour", fmt.Sprintf("%q is not one of %s", p.Flavour, joinFlavours()))
	}
	p.validateClientAuth(&v)
	if p.DPoP != "" && !slices.Contains(DPoPModes, p.DPoP) {
		v.add("DPoP", fmt.Sprintf("%q: want off, allow or require", p.DPoP))
	}
	if p.DPoPNonce && !p.DPoP.Accepts() {
		v.add("DPoP nonce", "needs DPoP allow or require")
	}
	if msg := CheckRedirectURI(p.RedirectURI); msg != "" {
		v.add("redirect URI", msg)
	}
	if (p.TLS.ClientCert == "") != (p.TLS.ClientKey == "") {
		v.add("client certificate", "needs both a certificate and a key file")
	}
	if p.TLS.ClientKeyPassword.IsSet() && p.TLS.ClientKey == "" {
		v.add("client key password", "is set but there is no client key")
	}
	if p.Misc.RandLength < 16 || p.Misc.RandLength > 128 {
		v.add("rand length", fmt.Sprintf("%d is outside 16..128 (state and nonce need at least 16 characters)", p.Misc.RandLength))
	}
	if p.Misc.RandTTL < 10*time.Second {
		v.add("rand TTL", fmt.Sprintf("%s is shorter than 10s, too short to log in", p.Misc.RandTTL))
	}
	if p.Misc.Leeway < 0 || p.Misc.Leeway > 10*time.Minute {
		v.add("leeway", fmt.Sprintf("%s is outside 0..10m", p.Misc.Leeway))
	}
	if strings.TrimSpace(p.UIDClaim) == "" {
		v.add("UID claim", "is required (usually sub)")
	}
	for _, s := range p.Scopes {
		if strings.ContainsAny(s, " \t\"\\") || s == "" {
			v.add("scope", fmt.Sprintf("%q is not a valid scope token", s))
		}
	}
	if err := p.RoleMap.validate(); err != "" {
		v.add("role map", err)
	}
	v.checkNames("client id", p.ClientID)
	v.checkNames("UID claim", p.UIDClaim)
	v.checkNames("scope", p.Scopes...)
	for _, path := range slices.Sorted(maps.Keys(p.RoleMap)) {
		v.checkNames("role map claim", path)
		for _, tokenRole := range slices.Sorted(maps.Keys(p.RoleMap[path])) {
			v.checkNames("role map role", tokenRole, p.RoleMap[path][tokenRole])
		}
	}
	for _, claim := range slices.Sorted(maps.Keys(p.UserMap)) {
		v.checkNames("user map claim", claim)
	}
	v.checkNames("restrict user login", p.Restrictions.UserLogin)
	v.checkNames("restrict scope", p.Restrictions.Scopes...)
	v.checkNames("restrict audience", p.Restrictions.Audiences...)
	v.checkNames("restrict azp", p.Restrictions.AuthorizedParty)
	v.checkNames("restrict tenant", p.Restrictions.Tenants...)
	for _, t := range p.Restrictions.Tenants {
		if t == "" || strings.ContainsAny(t, " \t/") {
			v.add("restrict tenant", fmt.Sprintf("%q is not a tenant id", t))
		}
	}
	if err := p.UserMap.validate(); err != "" {
		v.add("user map", err)
	}
	return v.err()
}

// checkDiscoveryURL returns what is wrong with a discovery URL, or "".
func checkDiscoveryURL(raw string, insecureHTTP bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("%q is not a URL: %v", raw, err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecureHTTP && !isLoopback(u.Hostname()) {
			return fmt.Sprintf("%q uses plain http on a host that is not loopback; use https (or --insecure-http for a test setup)", raw)
		}
	default:
		return fmt.Sprintf("%q must be an http(s) URL", raw)
	}
	if u.Host == "" {
		return fmt.Sprintf("%q has no host", raw)
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	if u.Fragment != "" {
		return "must not have a #fragment"
	}
	return ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func joinFlavours() string {
	names := make([]string, len(Flavours))
	for i, f := range Flavours {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// ParseFlavour turns a flavour name into a Flavour.
func ParseFlavour(s string) (Flavour, error) {
	f := Flavour(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Flavours, f) {
		return "", fmt.Errorf("unknown flavour %q: want one of %s", s, joinFlavours())
	}
	return f, nil
}
