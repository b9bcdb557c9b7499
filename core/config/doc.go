// Package config turns a setup (settings, profiles, accounts, webservices,
// users) into documents and back: the YAML of `oidcctl config
// export|import`, which keeps a setup in git, and the JSON of `-o json`,
// whose field names are the same. Durations are numbers of seconds in
// fields whose names end in _seconds; times are RFC 3339.
//
// Secrets are never written as plaintext unless asked for: without secrets a
// document says only whether each one is set.
package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"oidcctl/core"
)

// Version is the version of the document format that Export writes.
// Version 1 (durations as "30m", no webservices, users or settings) is
// still read; see Parse.
const Version = 2

// Document is a whole exported setup.
type Document struct {
	Version int `json:"version" yaml:"version"`
	// Settings are the shared settings that are set (refresh.schedule,
	// refresh.interval); a setting left out has its default.
	Settings    map[string]string `json:"settings,omitempty" yaml:"settings,omitempty"`
	Profiles    []Profile         `json:"profiles" yaml:"profiles"`
	Accounts    []Account         `json:"accounts" yaml:"accounts"`
	Webservices []Webservice      `json:"webservices,omitempty" yaml:"webservices,omitempty"`
	Users       []User            `json:"users,omitempty" yaml:"users,omitempty"`
}

// Profile is the document form of core.Profile.
type Profile struct {
	Name         string `json:"name" yaml:"name"`
	DiscoveryURL string `json:"discovery_url" yaml:"discovery_url"`
	// DiscoveryTTL is version 1's discovery_ttl ("30m"): read, never
	// written.
	DiscoveryTTL        Duration `json:"-" yaml:"discovery_ttl,omitempty"`
	DiscoveryTTLSeconds Seconds  `json:"discovery_ttl_seconds" yaml:"discovery_ttl_seconds"`
	ClientID            string   `json:"client_id" yaml:"client_id"`
	ClientSecret        Secret   `json:"client_secret" yaml:"client_secret,omitempty"`
	Scopes              []string `json:"scopes" yaml:"scopes,flow"`
	Flavour             string   `json:"flavour" yaml:"flavour"`
	InsecureHTTP        bool     `json:"insecure_http" yaml:"insecure_http,omitempty"`
	// TokenAuthMethod is one of core.TokenAuthMethods; "" picks (see
	// core.Profile.TokenAuthMethod).
	TokenAuthMethod string `json:"token_auth_method" yaml:"token_auth_method,omitempty"`
	// AssertionAudience is the aud of private_key_jwt assertions:
	// token_endpoint (or "") or issuer. The client keys themselves are
	// never in the document (an import keeps those of the database).
	AssertionAudience string `json:"assertion_audience,omitempty" yaml:"assertion_audience,omitempty"`
	Introspect        bool   `json:"introspect" yaml:"introspect,omitempty"`
	RedirectURI       string `json:"redirect_uri,omitempty" yaml:"redirect_uri,omitempty"`
	// DPoP is off, allow or require (incoming DPoP-bound tokens).
	DPoP      string `json:"dpop,omitempty" yaml:"dpop,omitempty"`
	DPoPNonce bool   `json:"dpop_nonce,omitempty" yaml:"dpop_nonce,omitempty"`
	// UserinfoClaims and LogTokenClaims: see core.Profile.
	UserinfoClaims bool   `json:"userinfo_claims,omitempty" yaml:"userinfo_claims,omitempty"`
	LogTokenClaims bool   `json:"log_token_claims,omitempty" yaml:"log_token_claims,omitempty"`
	TLS            TLS    `json:"tls" yaml:"tls"`
	Misc           Misc   `json:"misc" yaml:"misc"`
	UIDClaim       string `json:"uid_claim" yaml:"uid_claim"`
	// RoleMap is claim path → token role → local role.
	RoleMap map[string]map[string]string `json:"role_map" yaml:"role_map"`
	// UserMap is claim → Email, FirstName or LastName.
	UserMap      map[string]string `json:"user_map" yaml:"user_map"`
	Restrictions Restrictions      `json:"restrictions" yaml:"restrictions"`
	// State is "needs secret" when a secret the profile needs is missing,
	// else "ok"; -o json only.
	State     string     `json:"state,omitempty" yaml:"-"`
	Accounts  []string   `json:"accounts,omitempty" yaml:"-"`
	CreatedAt *time.Time `json:"created_at,omitempty" yaml:"-"`
	UpdatedAt *time.Time `json:"updated_at,omitempty" yaml:"-"`
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
	UseNonce   bool `json:"use_nonce" yaml:"use_nonce"`
	RandLength int  `json:"rand_length" yaml:"rand_length"`
	// RandTTL and Leeway are version 1's rand_ttl and leeway: read,
	// never written.
	RandTTL        Duration `json:"-" yaml:"rand_ttl,omitempty"`
	Leeway         Duration `json:"-" yaml:"leeway,omitempty"`
	RandTTLSeconds Seconds  `json:"rand_ttl_seconds" yaml:"rand_ttl_seconds"`
	LeewaySeconds  Seconds  `json:"leeway_seconds" yaml:"leeway_seconds"`
}

// Restrictions is the document form of core.Restrictions.
type Restrictions struct {
	UserLogin       string   `json:"user_login" yaml:"user_login,omitempty"`
	Scopes          []string `json:"scopes" yaml:"scopes,flow,omitempty"`
	Audiences       []string `json:"audiences" yaml:"audiences,flow,omitempty"`
	AuthorizedParty string   `json:"authorized_party" yaml:"authorized_party,omitempty"`
	// Tenants are the Entra tenant ids whose tokens are accepted.
	Tenants []string `json:"tenants,omitempty" yaml:"tenants,flow,omitempty"`
}

// Account is the document form of core.Account.
type Account struct {
	Name          string   `json:"name" yaml:"name"`
	Profile       string   `json:"profile" yaml:"profile"`
	GrantType     string   `json:"grant_type" yaml:"grant_type"`
	Username      string   `json:"username,omitempty" yaml:"username,omitempty"`
	Password      Secret   `json:"password" yaml:"password,omitempty"`
	Scopes        []string `json:"scopes" yaml:"scopes,flow"`
	Resources     []string `json:"resources" yaml:"resources,flow,omitempty"`
	ResourceParam string   `json:"resource_param" yaml:"resource_param"`
	TokenType     string   `json:"token_type" yaml:"token_type"`
	RedirectURI   string   `json:"redirect_uri,omitempty" yaml:"redirect_uri,omitempty"`
	// State is "needs secret" when a secret the account needs is missing,
	// else "ok"; -o json only.
	State string `json:"state,omitempty" yaml:"-"`
	// DPoP: the account obtains DPoP-bound tokens. Its key is not
	// exported; an import makes a new one.
	DPoP      bool       `json:"dpop,omitempty" yaml:"dpop,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty" yaml:"-"`
	UpdatedAt *time.Time `json:"updated_at,omitempty" yaml:"-"`
}

// Webservice is the document form of core.Webservice.
type Webservice struct {
	Name              string   `json:"name" yaml:"name"`
	Kind              string   `json:"kind" yaml:"kind"`
	Profile           string   `json:"profile,omitempty" yaml:"profile,omitempty"`
	Route             string   `json:"route,omitempty" yaml:"route,omitempty"`
	Methods           []string `json:"methods,omitempty" yaml:"methods,flow,omitempty"`
	Upstream          string   `json:"upstream,omitempty" yaml:"upstream,omitempty"`
	PassAuthorization bool     `json:"pass_authorization,omitempty" yaml:"pass_authorization,omitempty"`
	Account           string   `json:"account,omitempty" yaml:"account,omitempty"`
	Endpoint          string   `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	Path              string   `json:"path,omitempty" yaml:"path,omitempty"`
	Method            string   `json:"method,omitempty" yaml:"method,omitempty"`
	Debug             Debug    `json:"debug" yaml:"debug"`
}

// Debug is the document form of core.DebugSettings.
type Debug struct {
	Enabled      bool    `json:"enabled" yaml:"enabled"`
	MaxBodyBytes int     `json:"max_body_bytes" yaml:"max_body_bytes"`
	MaxAgeSecond Seconds `json:"max_age_seconds" yaml:"max_age_seconds"`
	MaxEntries   int     `json:"max_entries" yaml:"max_entries"`
}

// User is the document form of core.User.
type User struct {
	Login     string   `json:"login" yaml:"login"`
	Email     string   `json:"email,omitempty" yaml:"email,omitempty"`
	FirstName string   `json:"first_name,omitempty" yaml:"first_name,omitempty"`
	LastName  string   `json:"last_name,omitempty" yaml:"last_name,omitempty"`
	Roles     []string `json:"roles" yaml:"roles,flow"`
	// Profile names the profile whose token created the user; "" for a
	// user made by hand.
	Profile string `json:"profile,omitempty" yaml:"profile,omitempty"`
}

// Secret is a secret in a document.
//
// In YAML it is one of: the plaintext string (export --with-secrets);
// {required: true}, a secret the thing has (or needs) but that the file
// leaves out: import keeps a stored one, or imports the thing marked
// "needs secret"; or a reference resolved at import, {file: PATH},
// {env: NAME} or {credential: NAME} (a file in systemd's
// $CREDENTIALS_DIRECTORY). Left out entirely, a stored secret is kept.
//
// In JSON it is {"set": false}, {"set": false, "missing": true} (needed
// but not given yet), {"set": true} or {"set": true, "value": "…"}; import
// reads those too.
type Secret struct {
	Set   bool   `json:"set" yaml:"-"`
	Value string `json:"value,omitempty" yaml:"-"`
	// Missing: the thing needs the secret and does not have it.
	Missing bool `json:"missing,omitempty" yaml:"-"`
	// Ref is where import reads the secret from; never written.
	Ref Ref `json:"-" yaml:"-"`
}

// Ref is a reference to a secret kept outside the file.
type Ref struct {
	File       string `yaml:"file,omitempty"`
	Env        string `yaml:"env,omitempty"`
	Credential string `yaml:"credential,omitempty"`
}

// IsZero reports whether the reference names nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

// required reports whether the secret is named without its value: set in
// the store but left out of the file, or needed and missing.
func (s Secret) required() bool { return s.Value == "" && (s.Set || s.Missing) }

// IsZero reports whether there is nothing to write, so that YAML leaves
// the field out.
func (s Secret) IsZero() bool { return s.Value == "" && !s.required() && s.Ref.IsZero() }

// secretYAML is the mapping form of a secret in YAML (and the JSON form,
// which YAML also reads).
type secretYAML struct {
	Required   bool   `yaml:"required,omitempty"`
	File       string `yaml:"file,omitempty"`
	Env        string `yaml:"env,omitempty"`
	Credential string `yaml:"credential,omitempty"`
	Set        bool   `yaml:"set,omitempty"`
	Value      string `yaml:"value,omitempty"`
	Missing    bool   `yaml:"missing,omitempty"`
}

// MarshalYAML writes the plaintext alone, or {required: true}.
func (s Secret) MarshalYAML() (any, error) {
	if s.Value == "" && s.required() {
		return secretYAML{Required: true}, nil
	}
	return s.Value, nil
}

// UnmarshalYAML reads a plaintext string or one of the mappings.
func (s *Secret) UnmarshalYAML(node *yaml.Node) error {
	*s = Secret{}
	if node.Kind == yaml.ScalarNode {
		if err := node.Decode(&s.Value); err != nil {
			return err
		}
		s.Set = s.Value != ""
		return nil
	}
	var m secretYAML
	dec := node.Decode
	if err := dec(&m); err != nil {
		return err
	}
	refs := 0
	for _, v := range []string{m.File, m.Env, m.Credential} {
		if v != "" {
			refs++
		}
	}
	switch {
	case refs > 1 || (refs == 1 && (m.Required || m.Value != "")):
		return fmt.Errorf("line %d: a secret is one of a string, {required: true}, {file: PATH}, {env: NAME} or {credential: NAME}", node.Line)
	case refs == 1:
		s.Ref = Ref{File: m.File, Env: m.Env, Credential: m.Credential}
	case m.Value != "":
		s.Value, s.Set = m.Value, true
	case m.Required || m.Set:
		s.Set = true
	case m.Missing:
		s.Missing = true
	}
	return nil
}

// Duration is a time.Duration written as "30m", "2s", "1h30m": the
// durations of version 1 documents.
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

// Seconds is a time.Duration written as a number of seconds, whole where
// it is (1800, 0.25): the durations of version 2 documents and of every
// -o json output, whose names end in _seconds.
type Seconds time.Duration

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

func (s Seconds) number() any {
	d := time.Duration(s)
	if d%time.Second == 0 {
		return int64(d / time.Second)
	}
	return d.Seconds()
}

// MarshalJSON writes the number of seconds.
func (s Seconds) MarshalJSON() ([]byte, error) { return json.Marshal(s.number()) }

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("want a number of seconds: %w", err)
	}
	return s.set(f)
}

// MarshalYAML writes the number of seconds.
func (s Seconds) MarshalYAML() (any, error) { return s.number(), nil }

// UnmarshalYAML reads a number of seconds.
func (s *Seconds) UnmarshalYAML(node *yaml.Node) error {
	var f float64
	if err := node.Decode(&f); err != nil {
		return fmt.Errorf("line %d: want a number of seconds, not %q", node.Line, node.Value)
	}
	return s.set(f)
}

func (s *Seconds) set(f float64) error {
	if f < 0 || f > float64(math.MaxInt64/int64(time.Second)) || math.IsNaN(f) {
		return fmt.Errorf("%v: want a number of seconds from 0", f)
	}
	*s = Seconds(math.Round(f * float64(time.Second)))
	return nil
}

// secretDoc returns the document form of a secret, with the plaintext only
// when withSecrets; missing says whether the thing needs it and lacks it.
func secretDoc(s core.Secret, withSecrets, missing bool) Secret {
	d := Secret{Set: s.IsSet(), Missing: missing && !s.IsSet()}
	if withSecrets {
		d.Value = s.Reveal()
	}
	return d
}

// state is the State of a document: core.StateNeedsSecret or "ok".
func state(needsSecret bool) string {
	if needsSecret {
		return core.StateNeedsSecret
	}
	return "ok"
}

// FromProfile returns the document form of p.
func FromProfile(p core.Profile, withSecrets bool) Profile {
	um := make(map[string]string, len(p.UserMap))
	for claim, f := range p.UserMap {
		um[claim] = string(f)
	}
	return Profile{
		Name:                p.Name,
		DiscoveryURL:        p.DiscoveryURL,
		DiscoveryTTLSeconds: Seconds(p.DiscoveryTTL),
		ClientID:            p.ClientID,
		ClientSecret:        secretDoc(p.ClientSecret, withSecrets, slices.Contains(p.MissingSecrets, core.SecretClientSecret)),
		Scopes:              nonNil(p.Scopes),
		Flavour:             string(p.Flavour),
		InsecureHTTP:        p.InsecureHTTP,
		TokenAuthMethod:     p.TokenAuthMethod,
		AssertionAudience:   p.AssertionAudience,
		Introspect:          p.Introspect,
		RedirectURI:         p.RedirectURI,
		DPoP:                dpopDoc(p.DPoP),
		DPoPNonce:           p.DPoPNonce,
		UserinfoClaims:      p.UserinfoClaims,
		LogTokenClaims:      p.LogTokenClaims,
		TLS: TLS{
			ClientCert:         p.TLS.ClientCert,
			ClientKey:          p.TLS.ClientKey,
			ClientKeyPassword:  secretDoc(p.TLS.ClientKeyPassword, withSecrets, slices.Contains(p.MissingSecrets, core.SecretClientKeyPassword)),
			CAFile:             p.TLS.CAFile,
			CADir:              p.TLS.CADir,
			SkipVerifyHostname: p.TLS.SkipVerifyHostname,
			SkipVerifyPeer:     p.TLS.SkipVerifyPeer,
		},
		Misc: Misc{
			UseNonce:       p.Misc.UseNonce,
			RandLength:     p.Misc.RandLength,
			RandTTLSeconds: Seconds(p.Misc.RandTTL),
			LeewaySeconds:  Seconds(p.Misc.Leeway),
		},
		UIDClaim: p.UIDClaim,
		RoleMap:  nonNilMap(p.RoleMap.Clone()),
		UserMap:  um,
		Restrictions: Restrictions{
			UserLogin:       p.Restrictions.UserLogin,
			Scopes:          nonNil(p.Restrictions.Scopes),
			Audiences:       nonNil(p.Restrictions.Audiences),
			AuthorizedParty: p.Restrictions.AuthorizedParty,
			Tenants:         slices.Clone(p.Restrictions.Tenants),
		},
		State:     state(p.NeedsSecret()),
		CreatedAt: timePtr(p.CreatedAt),
		UpdatedAt: timePtr(p.UpdatedAt),
	}
}

// ToProfile returns the core form of d. Secrets absent from d are left
// unset; validation is the caller's.
func (d Profile) ToProfile() core.Profile {
	p := core.NewProfile(d.Name)
	p.DiscoveryURL = d.DiscoveryURL
	if d.DiscoveryTTLSeconds != 0 {
		p.DiscoveryTTL = d.DiscoveryTTLSeconds.Duration()
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
	if d.DPoP != string(core.DPoPOff) {
		p.DPoP = core.DPoPMode(d.DPoP)
	}
	p.DPoPNonce = d.DPoPNonce
	p.UserinfoClaims = d.UserinfoClaims
	p.LogTokenClaims = d.LogTokenClaims
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
	if d.Misc.RandTTLSeconds != 0 {
		p.Misc.RandTTL = d.Misc.RandTTLSeconds.Duration()
	}
	if d.Misc.LeewaySeconds != 0 {
		p.Misc.Leeway = d.Misc.LeewaySeconds.Duration()
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
		Tenants:         slices.Clone(d.Restrictions.Tenants),
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
		Password:      secretDoc(a.Password, withSecrets, slices.Contains(a.MissingSecrets, core.SecretPassword)),
		Scopes:        nonNil(a.Scopes),
		Resources:     nonNil(a.Resources),
		ResourceParam: a.ResourceParam,
		TokenType:     string(a.TokenType),
		RedirectURI:   a.RedirectURI,
		State:         state(a.NeedsSecret()),
		DPoP:          a.DPoP,
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
	a.DPoP = d.DPoP
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

// FromWebservice returns the document form of w.
func FromWebservice(w core.Webservice) Webservice {
	return Webservice{
		Name:              w.Name,
		Kind:              string(w.Kind),
		Profile:           w.Profile,
		Route:             w.Route,
		Methods:           clone(w.Methods),
		Upstream:          w.Upstream,
		PassAuthorization: w.PassAuthorization,
		Account:           w.Account,
		Endpoint:          w.Endpoint,
		Path:              w.Path,
		Method:            w.Method,
		Debug: Debug{
			Enabled:      w.Debug.Enabled,
			MaxBodyBytes: w.Debug.MaxBody,
			MaxAgeSecond: Seconds(w.Debug.MaxAge),
			MaxEntries:   w.Debug.MaxEntries,
		},
	}
}

// ToWebservice returns the core form of d; validation is the caller's.
func (d Webservice) ToWebservice() core.Webservice {
	w := core.NewWebservice(d.Name, core.WebserviceKind(d.Kind))
	w.Profile, w.Route, w.Methods, w.Upstream = d.Profile, d.Route, clone(d.Methods), d.Upstream
	w.PassAuthorization = d.PassAuthorization
	w.Account, w.Endpoint, w.Path, w.Method = d.Account, d.Endpoint, d.Path, d.Method
	w.Debug = core.DebugSettings{
		Enabled:    d.Debug.Enabled,
		MaxBody:    d.Debug.MaxBodyBytes,
		MaxAge:     d.Debug.MaxAgeSecond.Duration(),
		MaxEntries: d.Debug.MaxEntries,
	}
	return w
}

// FromUser returns the document form of u.
func FromUser(u core.User) User {
	return User{
		Login:     u.Login,
		Email:     u.Email,
		FirstName: u.FirstName,
		LastName:  u.LastName,
		Roles:     nonNil(u.Roles),
		Profile:   u.Profile,
	}
}

// ToUser returns the core form of d, its roles sorted and unique.
func (d User) ToUser() core.User {
	roles := clone(d.Roles)
	slices.Sort(roles)
	return core.User{
		Login:     d.Login,
		Email:     d.Email,
		FirstName: d.FirstName,
		LastName:  d.LastName,
		Roles:     slices.Compact(roles),
		Profile:   d.Profile,
	}
}

// clone copies a slice; an empty one comes back nil, as the store gives it.
func clone(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// dpopDoc is the document form of a DPoP mode: "" for off, so that a
// file of profiles without DPoP stays as it was.
func dpopDoc(m core.DPoPMode) string {
	if m == core.DPoPOff {
		return ""
	}
	return string(m)
}
