// Package rowform holds what the SQLite store (package db) and the
// PostgreSQL store (db/postgres) share of how core's values are stored:
// the JSON forms of the settings columns and the checks both run before
// a write. It knows no SQL.
package rowform

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"oidcctl/core"
)

// AccountSettings is the JSON kept in accounts.settings.
type AccountSettings struct {
	Scopes        []string `json:"scopes,omitempty"`
	Resources     []string `json:"resources,omitempty"`
	ResourceParam string   `json:"resource_param"`
	TokenType     string   `json:"token_type"`
	RedirectURI   string   `json:"redirect_uri,omitempty"`
	// MissingSecrets came with migration 0009 (SQLite) / 0005 (PostgreSQL).
	MissingSecrets []string `json:"missing_secrets,omitempty"`
	DPoP           bool     `json:"dpop,omitempty"`
	// DPoPKey is the sealed DPoP private key (the store seals it as the
	// password column), base64 in the JSON.
	DPoPKey []byte `json:"dpop_key,omitempty"`
}

// HeaderJSON returns the stored form of a header: a JSON object of arrays,
// "{}" when it has no fields.
func HeaderJSON(h http.Header) (string, error) {
	if len(h) == 0 {
		return "{}", nil
	}
	js, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	return string(js), nil
}

// ParseHeader turns a stored header back into an http.Header; nil when it
// has no fields.
func ParseHeader(js string) (http.Header, error) {
	var h http.Header
	if err := json.Unmarshal([]byte(js), &h); err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}

// NilIfEmpty is the stored form of a body: nil (NULL) when empty.
func NilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// ProfileSettings is the JSON kept in profiles.settings: everything of a
// profile that has no column of its own. It is ours, not core's, so that
// renaming a core field does not change the stored form. A new key needs
// a new migration (token_auth_method and introspect came with 0003).
type ProfileSettings struct {
	DiscoveryTTLNS  int64    `json:"discovery_ttl_ns"`
	Scopes          []string `json:"scopes,omitempty"`
	InsecureHTTP    bool     `json:"insecure_http,omitempty"`
	TokenAuthMethod string   `json:"token_auth_method,omitempty"`
	// AssertionAudience and ClientKeys came with step 0011 (SQLite) and
	// 0007 (PostgreSQL). ClientKeys is sealed: see SealClientKeys.
	AssertionAudience string                       `json:"assertion_audience,omitempty"`
	ClientKeys        []byte                       `json:"client_keys,omitempty"`
	Introspect        bool                         `json:"introspect,omitempty"`
	RedirectURI       string                       `json:"redirect_uri,omitempty"`
	DPoP              string                       `json:"dpop,omitempty"`
	DPoPNonce         bool                         `json:"dpop_nonce,omitempty"`
	UserinfoClaims    bool                         `json:"userinfo_claims,omitempty"`
	LogTokenClaims    bool                         `json:"log_token_claims,omitempty"`
	Flavour           string                       `json:"flavour"`
	TLS               TLSSettings                  `json:"tls"`
	Misc              MiscSettings                 `json:"misc"`
	UIDClaim          string                       `json:"uid_claim"`
	RoleMap           map[string]map[string]string `json:"role_map,omitempty"`
	UserMap           map[string]string            `json:"user_map,omitempty"`
	Restrictions      RestrictionSettings          `json:"restrictions"`
	// MissingSecrets came with migration 0009 (SQLite) / 0005 (PostgreSQL).
	MissingSecrets []string `json:"missing_secrets,omitempty"`
}

// TLSSettings are core.TLSOptions without the key password, which is a
// sealed column.
type TLSSettings struct {
	ClientCert         string `json:"client_cert,omitempty"`
	ClientKey          string `json:"client_key,omitempty"`
	CAFile             string `json:"ca_file,omitempty"`
	CADir              string `json:"ca_dir,omitempty"`
	SkipVerifyHostname bool   `json:"skip_verify_hostname,omitempty"`
	SkipVerifyPeer     bool   `json:"skip_verify_peer,omitempty"`
}

type MiscSettings struct {
	UseNonce   bool  `json:"use_nonce"`
	RandLength int   `json:"rand_length"`
	RandTTLNS  int64 `json:"rand_ttl_ns"`
	LeewayNS   int64 `json:"leeway_ns"`
}

type RestrictionSettings struct {
	UserLogin       string   `json:"user_login,omitempty"`
	Scopes          []string `json:"scopes,omitempty"`
	Audiences       []string `json:"audiences,omitempty"`
	AuthorizedParty string   `json:"authorized_party,omitempty"`
	Tenants         []string `json:"tenants,omitempty"`
}

func NewProfileSettings(p *core.Profile) ProfileSettings {
	s := ProfileSettings{
		DiscoveryTTLNS:    int64(p.DiscoveryTTL),
		Scopes:            p.Scopes,
		InsecureHTTP:      p.InsecureHTTP,
		TokenAuthMethod:   p.TokenAuthMethod,
		AssertionAudience: p.AssertionAudience,
		Introspect:        p.Introspect,
		RedirectURI:       p.RedirectURI,
		DPoP:              string(p.DPoP),
		DPoPNonce:         p.DPoPNonce,
		UserinfoClaims:    p.UserinfoClaims,
		LogTokenClaims:    p.LogTokenClaims,
		Flavour:           string(p.Flavour),
		TLS: TLSSettings{
			ClientCert:         p.TLS.ClientCert,
			ClientKey:          p.TLS.ClientKey,
			CAFile:             p.TLS.CAFile,
			CADir:              p.TLS.CADir,
			SkipVerifyHostname: p.TLS.SkipVerifyHostname,
			SkipVerifyPeer:     p.TLS.SkipVerifyPeer,
		},
		Misc: MiscSettings{
			UseNonce:   p.Misc.UseNonce,
			RandLength: p.Misc.RandLength,
			RandTTLNS:  int64(p.Misc.RandTTL),
			LeewayNS:   int64(p.Misc.Leeway),
		},
		UIDClaim:       p.UIDClaim,
		RoleMap:        p.RoleMap,
		MissingSecrets: p.MissingSecrets,
		Restrictions: RestrictionSettings{
			UserLogin:       p.Restrictions.UserLogin,
			Scopes:          p.Restrictions.Scopes,
			Audiences:       p.Restrictions.Audiences,
			AuthorizedParty: p.Restrictions.AuthorizedParty,
			Tenants:         p.Restrictions.Tenants,
		},
	}
	if len(p.UserMap) > 0 {
		s.UserMap = make(map[string]string, len(p.UserMap))
		for claim, field := range p.UserMap {
			s.UserMap[claim] = string(field)
		}
	}
	return s
}

// RenameError refuses a rename inside an Update function; field is what
// names the thing ("name", or "login" for a user).
func RenameError(kind, field, name, to string) error {
	return &core.ValidationError{Kind: kind, Name: name, Problems: []core.FieldError{{
		Field:   field,
		Problem: fmt.Sprintf("cannot be changed (to %q): create a new %s instead", to, kind),
	}}}
}

// Apply fills the settings into p.
func (s *ProfileSettings) Apply(p *core.Profile) {
	p.DiscoveryTTL = time.Duration(s.DiscoveryTTLNS)
	p.Scopes = s.Scopes
	p.InsecureHTTP = s.InsecureHTTP
	p.TokenAuthMethod = s.TokenAuthMethod
	p.AssertionAudience = s.AssertionAudience
	p.Introspect = s.Introspect
	p.RedirectURI = s.RedirectURI
	p.DPoP = core.DPoPMode(s.DPoP)
	p.DPoPNonce = s.DPoPNonce
	p.UserinfoClaims = s.UserinfoClaims
	p.LogTokenClaims = s.LogTokenClaims
	p.Flavour = core.Flavour(s.Flavour)
	p.TLS.ClientCert = s.TLS.ClientCert
	p.TLS.ClientKey = s.TLS.ClientKey
	p.TLS.CAFile = s.TLS.CAFile
	p.TLS.CADir = s.TLS.CADir
	p.TLS.SkipVerifyHostname = s.TLS.SkipVerifyHostname
	p.TLS.SkipVerifyPeer = s.TLS.SkipVerifyPeer
	p.Misc = core.Misc{
		UseNonce:   s.Misc.UseNonce,
		RandLength: s.Misc.RandLength,
		RandTTL:    time.Duration(s.Misc.RandTTLNS),
		Leeway:     time.Duration(s.Misc.LeewayNS),
	}
	p.UIDClaim = s.UIDClaim
	p.RoleMap = s.RoleMap
	p.MissingSecrets = s.MissingSecrets
	p.UserMap = nil
	if len(s.UserMap) > 0 {
		p.UserMap = make(core.UserMap, len(s.UserMap))
		for claim, field := range s.UserMap {
			p.UserMap[claim] = core.UserField(field)
		}
	}
	p.Restrictions = core.Restrictions{
		UserLogin:       s.Restrictions.UserLogin,
		Scopes:          s.Restrictions.Scopes,
		Audiences:       s.Restrictions.Audiences,
		AuthorizedParty: s.Restrictions.AuthorizedParty,
		Tenants:         s.Restrictions.Tenants,
	}
}

// ServeStatusDoc is the stored form of a core.ServeStatus.
type ServeStatusDoc struct {
	Listen             string `json:"listen,omitempty"`
	Socket             string `json:"socket,omitempty"`
	Version            string `json:"version,omitempty"`
	StartedAt          int64  `json:"started_at"`
	LastRefreshRun     int64  `json:"last_refresh_run,omitempty"`
	LastRefreshRenewed int    `json:"last_refresh_renewed,omitempty"`
	LastRefreshFailed  int    `json:"last_refresh_failed,omitempty"`
	Stopped            bool   `json:"stopped,omitempty"`
}

func MillisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// CheckUser returns what the store cannot keep: an empty login or role.
// Everything else about a user is core's to judge.
func CheckUser(u *core.User) error {
	v := &core.ValidationError{Kind: "user", Name: u.Login}
	if u.Login == "" {
		v.Problems = append(v.Problems, core.FieldError{Field: "login", Problem: "is required"})
	}
	if slices.Contains(u.Roles, "") {
		v.Problems = append(v.Problems, core.FieldError{Field: "roles", Problem: "must not contain an empty role"})
	}
	if len(v.Problems) > 0 {
		return v
	}
	return nil
}

// NormalRoles returns roles sorted and without duplicates, nil when there
// are none, as User and Users give them back.
func NormalRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(roles)))
}

// WebserviceSettings is the JSON kept in webservices.settings: everything
// of a webservice but its name, kind, profile and account.
type WebserviceSettings struct {
	Route             string        `json:"route,omitempty"`
	Methods           []string      `json:"methods,omitempty"`
	Upstream          string        `json:"upstream,omitempty"`
	PassAuthorization bool          `json:"pass_authorization,omitempty"`
	Endpoint          string        `json:"endpoint,omitempty"`
	Path              string        `json:"path,omitempty"`
	Method            string        `json:"method,omitempty"`
	Debug             DebugSettings `json:"debug"`
}

type DebugSettings struct {
	Enabled    bool  `json:"enabled"`
	MaxBody    int   `json:"max_body"`
	MaxAgeNS   int64 `json:"max_age_ns"`
	MaxEntries int   `json:"max_entries"`
}

// CheckWebservice returns what the store cannot keep: a kind other than
// provider or requester.
func CheckWebservice(w *core.Webservice) error {
	if w.Kind == core.Provider || w.Kind == core.Requester {
		return nil
	}
	return &core.ValidationError{Kind: "webservice", Name: w.Name, Problems: []core.FieldError{{
		Field:   "kind",
		Problem: fmt.Sprintf("%q: want provider or requester", w.Kind),
	}}}
}
