// Package config turns profiles and accounts into documents and back: the
// YAML of `oidcctl config export|import`, which keeps a setup in git, and the
// JSON of `-o json`, whose field names are the same.
//
// Secrets are never written as plaintext unless asked for: without secrets a
// document says only whether each one is set.
package config

import (
	"maps"
	"slices"
	"strings"
	"time"

	"oidcctl/core"
)

// Version is the version of the document format.
const Version = 1

// Document is a whole exported setup.
type Document struct {
	Version  int       `json:"version" yaml:"version"`
	Profiles []Profile `json:"profiles" yaml:"profiles"`
	Accounts []Account `json:"accounts" yaml:"accounts"`
}

// Profile is the document form of core.Profile.
type Profile struct {
	Name         string   `json:"name" yaml:"name"`
	DiscoveryURL string   `json:"discovery_url" yaml:"discovery_url"`
	DiscoveryTTL Duration `json:"discovery_ttl" yaml:"discovery_ttl"`
	ClientID     string   `json:"client_id" yaml:"client_id"`
	ClientSecret Secret   `json:"client_secret" yaml:"client_secret,omitempty"`
	Scopes       []string `json:"scopes" yaml:"scopes,flow"`
	Flavour      string   `json:"flavour" yaml:"flavour"`
	InsecureHTTP bool     `json:"insecure_http" yaml:"insecure_http,omitempty"`
	// TokenAuthMethod is one of core.TokenAuthMethods; "" picks (see
	// core.Profile.TokenAuthMethod).
	TokenAuthMethod string `json:"token_auth_method" yaml:"token_auth_method,omitempty"`
	// AssertionAudience is the aud of private_key_jwt assertions:
	// token_endpoint (or "") or issuer. The client keys themselves are
	// never in the document (an import keeps those of the database).
	AssertionAudience string `json:"assertion_audience,omitempty" yaml:"assertion_audience,omitempty"`
	Introspect        bool   `json:"introspect" yaml:"introspect,omitempty"`
	RedirectURI       string `json:"redirect_uri,omitempty" yaml:"redirect_uri,omitempty"`
	TLS               TLS    `json:"tls" yaml:"tls"`
	Misc              Misc   `json:"misc" yaml:"misc"`
	UIDClaim          string `json:"uid_claim" yaml:"uid_claim"`
	// RoleMap is claim path → token role → local role.
	RoleMap map[string]map[string]string `json:"role_map" yaml:"role_map"`
	// UserMap is claim → Email, FirstName or LastName.
	UserMap      map[string]string `json:"user_map" yaml:"user_map"`
	Restrictions Restrictions      `json:"restrictions" yaml:"restrictions"`
	Accounts     []string          `json:"accounts,omitempty" yaml:"-"`
	CreatedAt    *time.Time        `json:"created_at,omitempty" yaml:"-"`
	UpdatedAt    *time.Time        `json:"updated_at,omitempty" yaml:"-"`
}

// TLS is the document form of core.TLSOptions.
type TLS struct {
	ClientCert         string `json:"client_cert" yaml:"client_cert,omitempty"`
	ClientKey          string `json:"client_key" yaml:"client_key,omitempty"`
	ClientKeyPassword  Secret `json:"client_key_password" yaml:"client_key_password,omitempty"`
	CAFile             string `json:"ca_file" yaml:"ca_file,omitempty"`
	CADir              string `json:"ca_dir" yaml:"ca_dir,omitempty"`
	SkipVerifyHostname bool   `json:"skip_verify_hostname" yaml:"skip_verify_hostname,omitempty"`
	SkipVerifyPeer     bool   `json:"skip_verify_peer" yaml:"skip_verify_peer,omitempty"`
}

// Misc is the document form of core.Misc.
type Misc struct {
	UseNonce   bool     `json:"use_nonce" yaml:"use_nonce"`
	RandLength int      `json:"rand_length" yaml:"rand_length"`
	RandTTL    Duration `json:"rand_ttl" yaml:"rand_ttl"`
	Leeway     Duration `json:"leeway" yaml:"leeway"`
}

// Restrictions is the document form of core.Restrictions.
type Restrictions struct {
	UserLogin       string   `json:"user_login" yaml:"user_login,omitempty"`
	Scopes          []string `json:"scopes" yaml:"scopes,flow,omitempty"`
	Audiences       []string `json:"audiences" yaml:"audiences,flow,omitempty"`
	AuthorizedParty string   `json:"authorized_party" yaml:"authorized_party,omitempty"`
}

// Account is the document form of core.Account.
type Account struct {
	Name          string     `json:"name" yaml:"name"`
	Profile       string     `json:"profile" yaml:"profile"`
	GrantType     string     `json:"grant_type" yaml:"grant_type"`
	Username      string     `json:"username,omitempty" yaml:"username,omitempty"`
	Password      Secret     `json:"password" yaml:"password,omitempty"`
	Scopes        []string   `json:"scopes" yaml:"scopes,flow"`
	Resources     []string   `json:"resources" yaml:"resources,flow,omitempty"`
	ResourceParam string     `json:"resource_param" yaml:"resource_param"`
	TokenType     string     `json:"token_type" yaml:"token_type"`
	RedirectURI   string     `json:"redirect_uri,omitempty" yaml:"redirect_uri,omitempty"`
	CreatedAt     *time.Time `json:"created_at,omitempty" yaml:"-"`
	UpdatedAt     *time.Time `json:"updated_at,omitempty" yaml:"-"`
}

// Secret is a secret in a document: its plaintext when exported with
// secrets, otherwise only whether it is set. In JSON it is {"set": false},
// {"set": true} or {"set": true, "value": "…"}; in YAML the plaintext
// string, or nothing.
type Secret struct {
	Set   bool   `json:"set" yaml:"-"`
	Value string `json:"value,omitempty" yaml:"-"`
}

// IsZero reports whether there is no plaintext to write, so that YAML
// leaves the field out.
func (s Secret) IsZero() bool { return s.Value == "" }

// MarshalYAML writes the plaintext alone.
func (s Secret) MarshalYAML() (any, error) { return s.Value, nil }

// UnmarshalYAML reads a plaintext string.
func (s *Secret) UnmarshalYAML(unmarshal func(any) error) error {
	if err := unmarshal(&s.Value); err != nil {
		return err
	}
	s.Set = s.Value != ""
	return nil
}

// Duration is a time.Duration written as "30m", "2s", "1h30m".
type Duration time.Duration

// MarshalText writes the duration without zero units ("30m", not "30m0s").
func (d Duration) MarshalText() ([]byte, error) {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return []byte(s), nil
}

// UnmarshalText reads what ParseDuration reads.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// secretDoc returns the document form of a secret, with the plaintext only
// when withSecrets.
func secretDoc(s core.Secret, withSecrets bool) Secret {
	d := Secret{Set: s.IsSet()}
	if withSecrets {
		d.Value = s.Reveal()
	}
	return d
}

// FromProfile returns the document form of p.
func FromProfile(p core.Profile, withSecrets bool) Profile {
	um := make(map[string]string, len(p.UserMap))
	for claim, f := range p.UserMap {
		um[claim] = string(f)
	}
	return Profile{
		Name:              p.Name,
		DiscoveryURL:      p.DiscoveryURL,
		DiscoveryTTL:      Duration(p.DiscoveryTTL),
		ClientID:          p.ClientID,
		ClientSecret:      secretDoc(p.ClientSecret, withSecrets),
		Scopes:            nonNil(p.Scopes),
		Flavour:           string(p.Flavour),
		InsecureHTTP:      p.InsecureHTTP,
		TokenAuthMethod:   p.TokenAuthMethod,
		AssertionAudience: p.AssertionAudience,
		Introspect:        p.Introspect,
		RedirectURI:       p.RedirectURI,
		TLS: TLS{
			ClientCert:         p.TLS.ClientCert,
			ClientKey:          p.TLS.ClientKey,
			ClientKeyPassword:  secretDoc(p.TLS.ClientKeyPassword, withSecrets),
			CAFile:             p.TLS.CAFile,
			CADir:              p.TLS.CADir,
			SkipVerifyHostname: p.TLS.SkipVerifyHostname,
			SkipVerifyPeer:     p.TLS.SkipVerifyPeer,
		},
		Misc: Misc{
			UseNonce:   p.Misc.UseNonce,
			RandLength: p.Misc.RandLength,
			RandTTL:    Duration(p.Misc.RandTTL),
			Leeway:     Duration(p.Misc.Leeway),
		},
		UIDClaim: p.UIDClaim,
		RoleMap:  nonNilMap(p.RoleMap.Clone()),
		UserMap:  um,
		Restrictions: Restrictions{
			UserLogin:       p.Restrictions.UserLogin,
			Scopes:          nonNil(p.Restrictions.Scopes),
			Audiences:       nonNil(p.Restrictions.Audiences),
			AuthorizedParty: p.Restrictions.AuthorizedParty,
		},
		CreatedAt: timePtr(p.CreatedAt),
		UpdatedAt: timePtr(p.UpdatedAt),
	}
}

// ToProfile returns the core form of d. Secrets absent from d are left
// unset; validation is the caller's.
func (d Profile) ToProfile() core.Profile {
	p := core.NewProfile(d.Name)
	p.DiscoveryURL = d.DiscoveryURL
	if d.DiscoveryTTL != 0 {
		p.DiscoveryTTL = time.Duration(d.DiscoveryTTL)
	}
	p.ClientID = d.ClientID
	p.ClientSecret = d.ClientSecret.core()
	p.Scopes = slices.Clone(d.Scopes)
	if d.Flavour != "" {
		p.Flavour = core.Flavour(d.Flavour)
	}
	p.InsecureHTTP = d.InsecureHTTP
	p.TokenAuthMethod = d.TokenAuthMethod
	p.AssertionAudience = d.AssertionAudience
	p.Introspect = d.Introspect
	p.RedirectURI = d.RedirectURI
	p.TLS = core.TLSOptions{
		ClientCert:         d.TLS.ClientCert,
		ClientKey:          d.TLS.ClientKey,
		ClientKeyPassword:  d.TLS.ClientKeyPassword.core(),
		CAFile:             d.TLS.CAFile,
		CADir:              d.TLS.CADir,
		SkipVerifyHostname: d.TLS.SkipVerifyHostname,
		SkipVerifyPeer:     d.TLS.SkipVerifyPeer,
	}
	p.Misc.UseNonce = d.Misc.UseNonce
	if d.Misc.RandLength != 0 {
		p.Misc.RandLength = d.Misc.RandLength
	}
	if d.Misc.RandTTL != 0 {
		p.Misc.RandTTL = time.Duration(d.Misc.RandTTL)
	}
	if d.Misc.Leeway != 0 {
		p.Misc.Leeway = time.Duration(d.Misc.Leeway)
	}
	if d.UIDClaim != "" {
		p.UIDClaim = d.UIDClaim
	}
	if len(d.RoleMap) > 0 {
		p.RoleMap = core.RoleMap(d.RoleMap).Clone()
	}
	if len(d.UserMap) > 0 {
		p.UserMap = core.UserMap{}
		for claim, f := range d.UserMap {
			p.UserMap[claim] = core.UserField(f)
		}
	}
	p.Restrictions = core.Restrictions{
		UserLogin:       d.Restrictions.UserLogin,
		Scopes:          slices.Clone(d.Restrictions.Scopes),
		Audiences:       slices.Clone(d.Restrictions.Audiences),
		AuthorizedParty: d.Restrictions.AuthorizedParty,
	}
	return p
}

// FromAccount returns the document form of a.
func FromAccount(a core.Account, withSecrets bool) Account {
	return Account{
		Name:          a.Name,
		Profile:       a.Profile,
		GrantType:     string(a.GrantType),
		Username:      a.Username,
		Password:      secretDoc(a.Password, withSecrets),
		Scopes:        nonNil(a.Scopes),
		Resources:     nonNil(a.Resources),
		ResourceParam: a.ResourceParam,
		TokenType:     string(a.TokenType),
		RedirectURI:   a.RedirectURI,
		CreatedAt:     timePtr(a.CreatedAt),
		UpdatedAt:     timePtr(a.UpdatedAt),
	}
}

// ToAccount returns the core form of d.
func (d Account) ToAccount() core.Account {
	a := core.NewAccount(d.Name, d.Profile)
	if d.GrantType != "" {
		a.GrantType = core.GrantType(d.GrantType)
	}
	a.Username = d.Username
	a.Password = d.Password.core()
	a.Scopes = slices.Clone(d.Scopes)
	a.Resources = slices.Clone(d.Resources)
	if d.ResourceParam != "" {
		a.ResourceParam = d.ResourceParam
	}
	if d.TokenType != "" {
		a.TokenType = core.TokenType(d.TokenType)
	}
	a.RedirectURI = d.RedirectURI
	return a
}

func (s Secret) core() core.Secret { return core.NewSecret(s.Value) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func nonNilMap[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return maps.Clone(m)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
