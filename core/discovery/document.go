package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	"oidcctl/core"
)

// Document is an OpenID Provider's metadata (OpenID Connect Discovery 1.0
// §3, RFC 8414 §2): the fields oidcctl uses.
type Document struct {
	Issuer                      string `json:"issuer"`
	AuthorizationEndpoint       string `json:"authorization_endpoint,omitempty"`
	TokenEndpoint               string `json:"token_endpoint,omitempty"`
	UserinfoEndpoint            string `json:"userinfo_endpoint,omitempty"`
	JWKSURI                     string `json:"jwks_uri,omitempty"`
	RevocationEndpoint          string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint       string `json:"introspection_endpoint,omitempty"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	EndSessionEndpoint          string `json:"end_session_endpoint,omitempty"`

	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	ClaimsSupported                   []string `json:"claims_supported,omitempty"`

	// MTLSEndpointAliases are the endpoints a client that authenticates
	// by TLS client certificate uses instead (RFC 8705 §5); nil for none.
	MTLSEndpointAliases *EndpointAliases `json:"mtls_endpoint_aliases,omitempty"`

	// URL is where the document was fetched from.
	URL string `json:"-"`
	// FetchedAt is when it was fetched (by the Client's clock); a document
	// from Client.Get may be older than the profile's TTL when the
	// provider could not be reached (see Client.MaxStale).
	FetchedAt time.Time `json:"-"`
	// Raw is the body exactly as served.
	Raw []byte `json:"-"`
}

// EndpointAliases are the mtls_endpoint_aliases of RFC 8705 §5 that
// oidcctl uses.
type EndpointAliases struct {
	TokenEndpoint               string `json:"token_endpoint,omitempty"`
	RevocationEndpoint          string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint       string `json:"introspection_endpoint,omitempty"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
}

// TenantIDPlaceholder is the part of Microsoft Entra's multi-tenant issuer
// ("https://login.microsoftonline.com/{tenantid}/v2.0") that stands for the
// tenant of each token.
const TenantIDPlaceholder = "{tenantid}"

// SupportsGrant reports whether the provider supports a grant type. When
// grant_types_supported is absent, RFC 8414 §2 says it is
// ["authorization_code", "implicit"].
func (d *Document) SupportsGrant(grant string) bool {
	if d.GrantTypesSupported == nil {
		return grant == "authorization_code" || grant == "implicit"
	}
	return slices.Contains(d.GrantTypesSupported, grant)
}

// SupportsAuthMethod reports whether the token endpoint accepts a client
// authentication method. When token_endpoint_auth_methods_supported is
// absent, RFC 8414 §2 says it is ["client_secret_basic"].
func (d *Document) SupportsAuthMethod(method string) bool {
	if d.TokenEndpointAuthMethodsSupported == nil {
		return method == "client_secret_basic"
	}
	return slices.Contains(d.TokenEndpointAuthMethodsSupported, method)
}

// SupportsCodeChallenge reports whether the provider advertises a PKCE
// code challenge method ("S256", "plain"). Absent means not advertised,
// which many providers that do support PKCE leave out.
func (d *Document) SupportsCodeChallenge(method string) bool {
	return slices.Contains(d.CodeChallengeMethodsSupported, method)
}

// IssuerFor returns the issuer that a token of tenant tid carries: the
// issuer itself, or, for Microsoft Entra's multi-tenant issuer, the issuer
// with TenantIDPlaceholder replaced by tid.
func (d *Document) IssuerFor(tid string) string {
	if tid == "" || !strings.Contains(d.Issuer, TenantIDPlaceholder) {
		return d.Issuer
	}
	return strings.Replace(d.Issuer, TenantIDPlaceholder, tid, 1)
}

// parse decodes a fetched body into a Document.
func parse(rawURL string, body []byte, contentType string) (*Document, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if !json.Valid(body) {
		ct := contentType
		if ct == "" {
			ct = "none"
		}
		return nil, &Error{URL: rawURL, Stage: StageJSON, Err: fmt.Errorf(
			"not JSON (content-type %s); the body starts: %q — is the URL the provider's discovery URL?", ct, snippet(body, 200))}
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &Error{URL: rawURL, Stage: StageJSON, Err: fmt.Errorf(
			"is JSON but not an object: %q", snippet(body, 200))}
	}
	var d Document
	if err := json.Unmarshal(body, &d); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &Error{URL: rawURL, Stage: StageDocument, Err: explain(err,
				"field %s is a JSON %s, want %s", te.Field, te.Value, jsonKind(te.Type.String()))}
		}
		return nil, &Error{URL: rawURL, Stage: StageJSON, Err: err}
	}
	d.URL = rawURL
	d.Raw = body
	return &d, nil
}

func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "[]string":
		return "an array of strings"
	}
	return goType
}

// isJSONContentType reports whether a Content-Type names JSON.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// check validates a document against the profile it was fetched for: the
// issuer (OpenID Connect Discovery 1.0 §4.3, with the Entra exceptions of
// entraIssuerOK) and the endpoints oidcctl cannot work without.
func check(d *Document, p core.Profile) error {
	fail := func(stage, format string, args ...any) error {
		return &Error{URL: d.URL, Stage: stage, Err: fmt.Errorf(format, args...)}
	}
	if d.Issuer == "" {
		return fail(StageIssuer, "the document has no issuer")
	}
	if want, ok := expectedIssuer(d.URL); ok && d.Issuer != want {
		if p.Flavour != core.FlavourEntra || !entraIssuerOK(d.URL, d.Issuer) {
			return fail(StageIssuer, "issuer mismatch: the document says %q, expected %q "+
				"(the discovery URL without /.well-known/openid-configuration, per OpenID Connect Discovery 1.0 §4.3)%s",
				d.Issuer, want, issuerHint(d.Issuer, want, p.Flavour))
		}
	}
	for _, f := range []struct{ name, value string }{
		{"token_endpoint", d.TokenEndpoint},
		{"jwks_uri", d.JWKSURI},
	} {
		if f.value == "" {
			return fail(StageDocument, "the document has no %s", f.name)
		}
		if msg := checkURL(f.value); msg != "" {
			return fail(StageDocument, "%s %q %s", f.name, f.value, msg)
		}
	}
	return nil
}

func issuerHint(got, want string, flavour core.Flavour) string {
	switch {
	case strings.TrimSuffix(got, "/") == strings.TrimSuffix(want, "/"):
		return "; they differ only in the trailing slash, so fix the discovery URL to match the issuer exactly"
	case strings.Contains(got, "login.microsoftonline.com") || strings.Contains(got, "sts.windows.net"):
		if flavour != core.FlavourEntra {
			return "; this is Microsoft Entra: set the profile's flavour to entra"
		}
	}
	return ""
}

// checkURL returns what is wrong with an endpoint URL, or "".
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "https" && u.Scheme != "http":
		return "is not an absolute http(s) URL"
	case u.Host == "":
		return "has no host"
	}
	return ""
}

// expectedIssuer returns the issuer that a discovery URL implies, and false
// when the URL is not a well-known metadata URL (so nothing is implied).
// The query, as in Entra's "?appid=…", is ignored.
//
//	https://h/p/.well-known/openid-configuration         → https://h/p (OpenID Discovery §4)
//	https://h/.well-known/oauth-authorization-server/p   → https://h/p (RFC 8414 §3.1)
//	https://h/.well-known/openid-configuration/p         → https://h/p (RFC 8414 §5)
func expectedIssuer(discoveryURL string) (string, bool) {
	base, _, _ := strings.Cut(discoveryURL, "#")
	base, _, _ = strings.Cut(base, "?")
	scheme, rest, ok := strings.Cut(base, "://")
	if !ok {
		return "", false
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	origin := scheme + "://" + host
	const oidc = "/.well-known/openid-configuration"
	if strings.HasSuffix(path, oidc) {
		return origin + strings.TrimSuffix(path, oidc), true
	}
	for _, wk := range []string{"/.well-known/oauth-authorization-server", oidc} {
		if path == wk {
			return origin, true
		}
		if strings.HasPrefix(path, wk+"/") {
			return origin + path[len(wk):], true
		}
	}
	return "", false
}

// Microsoft Entra.
//
// Entra's discovery documents do not follow §4.3 for some tenants. With
// the flavour entra, check accepts, besides an exact match, exactly these
// issuers, and only for a discovery URL of the form
// https://<login host>/<tenant>[/v2.0]/.well-known/openid-configuration[?…]:
//
//   - v2.0 (the path has /v2.0), on any login host in entraLoginHosts:
//     "https://<same login host>/<T>/v2.0";
//   - v1 (no /v2.0), on login.microsoftonline.com only:
//     "https://sts.windows.net/<T>/";
//
// where <T> depends on the tenant segment of the URL:
//
//   - "common" or "organizations": the literal "{tenantid}" (tokens then
//     carry their own tenant's issuer; see Document.IssuerFor);
//   - "consumers": 9188040d-6c67-4c5b-b112-36a304b66dad, the tenant of
//     personal Microsoft accounts;
//   - a tenant GUID: that GUID (any letter case);
//   - anything else, i.e. a domain name such as contoso.onmicrosoft.com:
//     any GUID, since the domain's tenant id cannot be known here.
//
// Entra External ID (*.ciamlogin.com) and B2C (*.b2clogin.com) are not
// covered: their issuers must match exactly.
var entraLoginHosts = []string{
	"login.microsoftonline.com",
	"login.microsoftonline.us",
	"login.partner.microsoftonline.cn",
	"login.chinacloudapi.cn",
}

const entraConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// entraIssuerOK reports whether issuer is acceptable for an Entra
// discovery URL under the rules above.
func entraIssuerOK(discoveryURL, issuer string) bool {
	u, err := url.Parse(discoveryURL)
	if err != nil || u.Scheme != "https" || u.Port() != "" || !slices.Contains(entraLoginHosts, strings.ToLower(u.Host)) {
		return false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	var tenant string
	var v2 bool
	switch {
	case len(segs) == 4 && segs[1] == "v2.0" && segs[2] == ".well-known" && segs[3] == "openid-configuration":
		tenant, v2 = segs[0], true
	case len(segs) == 3 && segs[1] == ".well-known" && segs[2] == "openid-configuration":
		tenant = segs[0]
	default:
		return false
	}
	prefix, suffix := "https://"+strings.ToLower(u.Host)+"/", "/v2.0"
	if !v2 {
		if !strings.EqualFold(u.Host, "login.microsoftonline.com") {
			return false
		}
		prefix, suffix = "https://sts.windows.net/", "/"
	}
	if len(issuer) < len(prefix)+len(suffix) || !strings.HasPrefix(issuer, prefix) || !strings.HasSuffix(issuer, suffix) {
		return false
	}
	t := issuer[len(prefix) : len(issuer)-len(suffix)]
	switch lt := strings.ToLower(tenant); {
	case lt == "common" || lt == "organizations":
		return t == TenantIDPlaceholder
	case lt == "consumers":
		return t == entraConsumersTenant
	case isGUID(tenant):
		return strings.EqualFold(t, tenant)
	default:
		return isGUID(t)
	}
}

// isGUID reports whether s looks like 8-4-4-4-12 hexadecimal digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
