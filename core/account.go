package core

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// GrantType is the OAuth 2.0 grant a functional account obtains tokens with.
type GrantType string

// The grant types a functional account can use.
const (
	GrantClientCredentials GrantType = "client_credentials"
	GrantPassword          GrantType = "password"
	GrantAuthorizationCode GrantType = "authorization_code"
)

// GrantTypes lists every grant type, in the order they are offered.
var GrantTypes = []GrantType{GrantClientCredentials, GrantPassword, GrantAuthorizationCode}

// TokenType is the token an account hands out to callers.
type TokenType string

// The token types an account can hand out.
const (
	TokenAccess TokenType = "access_token"
	TokenID     TokenType = "id_token"
)

// DefaultResourceParam is the RFC 8707 parameter name.
const DefaultResourceParam = "resource"

// Account is a functional account: a named identity that obtains tokens
// from one profile with one grant type.
type Account struct {
	Name      string
	Profile   string
	GrantType GrantType
	Username  string // password grant only
	Password  Secret // password grant only
	Scopes    []string
	// Resources are sent as RFC 8707 resource indicators, one parameter each.
	Resources []string
	// ResourceParam is the name of that parameter (default "resource").
	ResourceParam string
	// TokenType is the token handed out: access_token or id_token.
	TokenType TokenType
	CreatedAt time.Time
	UpdatedAt time.Time
	// RedirectURI is the loopback redirect URI of browser logins
	// (authorization_code); "" takes the profile's. See CheckRedirectURI.
	RedirectURI string
	// MissingSecrets names the secrets (SecretPassword) that the account
	// needs but does not have yet: it was imported from a file that left
	// them out. See NeedsSecret.
	MissingSecrets []string
	// DPoP makes the account obtain DPoP-bound tokens (RFC 9449): every
	// token request carries a proof of DPoPKey, and every call with the
	// token a fresh proof (package dpop).
	DPoP bool
	// DPoPKey is the account's DPoP private key (base64 PKCS #8 DER, see
	// NewDPoPKey), sealed in the database like every secret. Registry
	// makes one when DPoP is turned on and drops it when it is turned off.
	DPoPKey Secret
}

// NewAccount returns an account with the defaults filled in.
func NewAccount(name, profile string) Account {
	return Account{
		Name:          name,
		Profile:       profile,
		GrantType:     GrantClientCredentials,
		ResourceParam: DefaultResourceParam,
		TokenType:     TokenAccess,
	}
}

// ParseGrantType turns a grant type name into a GrantType.
func ParseGrantType(s string) (GrantType, error) {
	g := GrantType(strings.TrimSpace(s))
	if !slices.Contains(GrantTypes, g) {
		return "", fmt.Errorf("unknown grant type %q: want client_credentials, password or authorization_code", s)
	}
	return g, nil
}

// ParseTokenType turns a token type name into a TokenType.
func ParseTokenType(s string) (TokenType, error) {
	t := TokenType(strings.TrimSpace(s))
	if t != TokenAccess && t != TokenID {
		return "", fmt.Errorf("unknown token type %q: want access_token or id_token", s)
	}
	return t, nil
}

// Validate reports every problem with the account as a *ValidationError.
// Whether its profile exists is the store's to check.
func (a *Account) Validate() error {
	var v ValidationError
	v.Kind, v.Name = "account", a.Name
	if msg := checkName(a.Name); msg != "" {
		v.add("name", msg)
	}
	if strings.TrimSpace(a.Profile) == "" {
		v.add("profile", "is required")
	}
	v.checkNames("profile", a.Profile)
	v.checkNames("username", a.Username)
	v.checkNames("scope", a.Scopes...)
	v.checkNames("resource parameter name", a.ResourceParam)
	if !slices.Contains(GrantTypes, a.GrantType) {
		v.add("grant type", fmt.Sprintf("unknown grant type %q: want client_credentials, password or authorization_code", a.GrantType))
	}
	if a.GrantType == GrantPassword {
		if a.Username == "" {
			v.add("username", "is required for the password grant")
		}
		if !a.Password.IsSet() && !slices.Contains(a.MissingSecrets, SecretPassword) {
			v.add("password", "is required for the password grant")
		}
	} else {
		if a.Username != "" {
			v.add("username", fmt.Sprintf("is only used by the password grant, not %s", a.GrantType))
		}
		if a.Password.IsSet() {
			v.add("password", fmt.Sprintf("is only used by the password grant, not %s", a.GrantType))
		}
	}
	for _, s := range a.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			v.add("scope", fmt.Sprintf("%q is not a valid scope token", s))
		}
	}
	for _, r := range a.Resources {
		// RFC 8707 §2: an absolute URI without a fragment.
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			v.add("resource", fmt.Sprintf("%q must be an absolute URI without a fragment (RFC 8707)", r))
		}
	}
	if a.ResourceParam == "" || strings.ContainsAny(a.ResourceParam, " =&?#") {
		v.add("resource parameter name", fmt.Sprintf("%q is not a usable form parameter name", a.ResourceParam))
	}
	if a.TokenType != TokenAccess && a.TokenType != TokenID {
		v.add("token type", fmt.Sprintf("unknown token type %q: want access_token or id_token", a.TokenType))
	}
	if msg := CheckRedirectURI(a.RedirectURI); msg != "" {
		v.add("redirect URI", msg)
	}
	if a.TokenType == TokenID && !slices.Contains(a.Scopes, "openid") {
		v.add("token type", "id_token needs the openid scope")
	}
	return v.err()
}
