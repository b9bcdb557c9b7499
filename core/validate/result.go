package validate

import (
	"net/http"
	"strings"
	"time"

	"oidcctl/core"
)

// Reason says, for programs, why a token was refused. The empty Reason
// means accepted.
type Reason string

// The reasons a token is refused. Each Result also carries a sentence for
// a person (Result.Message) that says what to fix.
const (
	// The request.
	ReasonMissing  Reason = "missing"   // no token at all
	ReasonTooLarge Reason = "too_large" // longer than Validator.MaxTokenSize

	// The token's form.
	ReasonMalformed Reason = "malformed" // not three base64url parts of a JSON header and JSON object
	ReasonEncrypted Reason = "encrypted" // a JWE (five parts)
	ReasonOpaque    Reason = "opaque"    // not a JWT, and introspection is off or unavailable

	// The header.
	ReasonAlgNone         Reason = "alg_none"         // alg none: unsigned
	ReasonAlgNotAllowed   Reason = "alg_not_allowed"  // HMAC or an unknown alg
	ReasonEmbeddedKey     Reason = "embedded_key"     // jwk, jku, x5u or x5c in the header
	ReasonCritUnsupported Reason = "crit_unsupported" // a crit header
	ReasonEntraGraphToken Reason = "entra_graph_token"

	// The key and the signature.
	ReasonUnknownKID   Reason = "unknown_kid"   // the kid is not in the JWKS, even after a refetch
	ReasonKeyMismatch  Reason = "key_mismatch"  // the key cannot verify this alg (type, curve, alg, use)
	ReasonBadSignature Reason = "bad_signature" // the signature does not verify

	// The claims.
	ReasonExpired          Reason = "expired"
	ReasonNoExpiry         Reason = "no_expiry" // a JWT without exp
	ReasonNotYetValid      Reason = "not_yet_valid"
	ReasonIssuedInFuture   Reason = "issued_in_future"
	ReasonIssuerMismatch   Reason = "issuer_mismatch"
	ReasonAudienceMismatch Reason = "audience_mismatch"
	ReasonInactive         Reason = "inactive" // introspection: active false

	// The profile's restrictions.
	ReasonScopeMissing      Reason = "scope_missing"
	ReasonAZPMismatch       Reason = "azp_mismatch"
	ReasonUserLoginMismatch Reason = "user_login_mismatch"

	// The user.
	ReasonNoUID         Reason = "no_uid"          // the token lacks the profile's UID claim
	ReasonUserUnknown   Reason = "user_unknown"    // no such user and no role map to create one
	ReasonNoMappedRoles Reason = "no_mapped_roles" // no such user and the token maps to no local role
	ReasonNoEmail       Reason = "no_email"        // no such user and the user map yields no email

	// oidcctl's side: the token was not judged.
	ReasonDiscoveryUnavailable     Reason = "discovery_unavailable"
	ReasonKeysUnavailable          Reason = "keys_unavailable"
	ReasonIntrospectionUnavailable Reason = "introspection_unavailable"
	ReasonUserStoreError           Reason = "user_store_error"
)

// ErrorCode returns the RFC 6750 error code for the reason:
// "invalid_token", "insufficient_scope", or "" when there is none (an
// accepted or missing token, or a failure on oidcctl's side).
//
// insufficient_scope (403) is for tokens that are valid and meant for this
// API but do not grant enough: a missing scope, another user than the
// UserLogin restriction allows, or a user that cannot be mapped. Everything
// else wrong with the token is invalid_token (401).
func (r Reason) ErrorCode() string {
	switch r {
	case "", ReasonMissing:
		return ""
	case ReasonDiscoveryUnavailable, ReasonKeysUnavailable, ReasonIntrospectionUnavailable, ReasonUserStoreError:
		return ""
	case ReasonScopeMissing, ReasonUserLoginMismatch, ReasonNoUID, ReasonUserUnknown, ReasonNoMappedRoles, ReasonNoEmail:
		return "insufficient_scope"
	}
	return "invalid_token"
}

// Status returns the HTTP status for the reason: 200 accepted, 401
// invalid or missing token, 403 insufficient scope, 503 when the provider
// (discovery, JWKS, introspection) could not be reached, 500 when the user
// store failed.
func (r Reason) Status() int {
	switch r {
	case "":
		return http.StatusOK
	case ReasonDiscoveryUnavailable, ReasonKeysUnavailable, ReasonIntrospectionUnavailable:
		return http.StatusServiceUnavailable
	case ReasonUserStoreError:
		return http.StatusInternalServerError
	}
	if r.ErrorCode() == "insufficient_scope" {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// cacheable reports whether a refusal for this reason depends only on the
// token and the profile, so that it may be remembered for the same token.
// Refusals that time, a refetch or an administrator may cure are not.
func (r Reason) cacheable() bool {
	switch r {
	case ReasonMalformed, ReasonEncrypted, ReasonAlgNone, ReasonAlgNotAllowed, ReasonEmbeddedKey,
		ReasonCritUnsupported, ReasonEntraGraphToken, ReasonBadSignature, ReasonExpired, ReasonNoExpiry,
		ReasonIssuerMismatch, ReasonAudienceMismatch, ReasonScopeMissing, ReasonAZPMismatch,
		ReasonUserLoginMismatch, ReasonNoUID:
		return true
	}
	return false
}

// Check is one step of the validation, for `token inspect`.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Check names, in the order they run.
const (
	CheckFormat        = "format"
	CheckAlgorithm     = "algorithm"
	CheckHeader        = "header"
	CheckIssuer        = "issuer"
	CheckKey           = "key"
	CheckSignature     = "signature"
	CheckIntrospection = "introspection"
	CheckExpiry        = "expiry"
	CheckNotBefore     = "not before"
	CheckIssuedAt      = "issued at"
	CheckAudience      = "audience"
	CheckAZP           = "authorized party"
	CheckScope         = "scope"
	CheckUID           = "uid claim"
	CheckUserLogin     = "user login"
	CheckUser          = "user"
)

// UserAction says what happened to the local user.
type UserAction string

// The user actions.
const (
	UserNone        UserAction = ""             // no user step (refused earlier, or no user store)
	UserFound       UserAction = "found"        // an existing user, unchanged
	UserUpdated     UserAction = "updated"      // an existing user whose roles were brought up to date
	UserCreated     UserAction = "created"      // a new user
	UserWouldUpdate UserAction = "would_update" // dry run: UserUpdated
	UserWouldCreate UserAction = "would_create" // dry run: UserCreated
)

// Result is the verdict on one token. Results may come from the cache and
// be shared between callers: treat them as read-only.
type Result struct {
	// Reason is "" when the token is accepted.
	Reason Reason `json:"reason,omitempty"`
	// Message says in one or two sentences why the token was refused and
	// what to fix; for an accepted token, who it was accepted as.
	Message string `json:"message"`
	// Profile is the profile the token was checked against.
	Profile string `json:"profile"`

	// Kind is "jwt" or "opaque" (checked by introspection); "" when the
	// token could not be read.
	Kind string `json:"kind,omitempty"`
	// Header is the JOSE header of a JWT that could be decoded (with
	// Options.Detail only).
	Header map[string]any `json:"header,omitempty"`
	// Claims are the token's claims, or the introspection response. With
	// Options.Detail (Inspect) they are filled whenever the token could be
	// decoded, also when it was refused; Validate leaves them and Header
	// out, to keep cached results small.
	Claims map[string]any `json:"claims,omitempty"`
	// Alg and KID are from the header.
	Alg string `json:"alg,omitempty"`
	KID string `json:"kid,omitempty"`
	// Subject is the sub claim.
	Subject string `json:"subject,omitempty"`
	// IssuedAt, NotBefore and ExpiresAt are the iat, nbf and exp claims;
	// zero when absent.
	IssuedAt  time.Time `json:"issued_at,omitzero"`
	NotBefore time.Time `json:"not_before,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Microsoft is the classification of a Microsoft Entra token; nil for
	// other tokens.
	Microsoft *Microsoft `json:"microsoft,omitempty"`

	// Login is the value of the profile's UID claim.
	Login string `json:"login,omitempty"`
	// TokenRoles are the local roles the token maps to by the role map.
	TokenRoles []string `json:"token_roles,omitempty"`
	// User is the local user (as it is, or would be after a dry run); nil
	// when there is none.
	User       *core.User `json:"user,omitempty"`
	UserAction UserAction `json:"user_action,omitempty"`
	// Roles are the local roles of the request: the user's roles, or
	// TokenRoles when there is no user store.
	Roles []string `json:"roles,omitempty"`

	// Checks lists every step with its outcome (Inspect only).
	Checks []Check `json:"checks,omitempty"`

	// requiredScopes are the scopes of the profile's Scope restriction,
	// for the scope attribute of WWW-Authenticate.
	requiredScopes []string
}

// Accepted reports whether the token was accepted.
func (r *Result) Accepted() bool { return r.Reason == "" }

// Status returns the HTTP status to answer with; see Reason.Status.
func (r *Result) Status() int { return r.Reason.Status() }

// WWWAuthenticate returns the RFC 6750 WWW-Authenticate challenge for a
// refused token:
//
//	Bearer error="invalid_token", error_description="the token expired …"
//
// with scope="…" for a missing scope; just "Bearer" for a missing token
// or a failure on oidcctl's side; "" for an accepted token.
//
// RFC 6750 §3 allows only printable ASCII without '"' and '\' in
// error_description, so double quotes become single quotes, a backslash a
// slash, and anything else outside the set a question mark; the
// description is cut at 400 bytes.
func (r *Result) WWWAuthenticate() string {
	if r.Accepted() {
		return ""
	}
	code := r.Reason.ErrorCode()
	if code == "" {
		return "Bearer"
	}
	var b strings.Builder
	b.WriteString(`Bearer error="`)
	b.WriteString(code)
	b.WriteString(`", error_description="`)
	b.WriteString(headerSafe(r.Message, 400))
	b.WriteByte('"')
	if r.Reason == ReasonScopeMissing && len(r.requiredScopes) > 0 {
		b.WriteString(`, scope="`)
		b.WriteString(headerSafe(strings.Join(r.requiredScopes, " "), 400))
		b.WriteByte('"')
	}
	return b.String()
}

// headerSafe keeps only the characters RFC 6750 allows in an attribute
// value: %x20-21 / %x23-5B / %x5D-7E.
func headerSafe(s string, limit int) string {
	if len(s) > limit {
		s = s[:limit]
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c == '"':
			b[i] = '\''
		case c == '\\':
			b[i] = '/'
		case c < 0x20 || c > 0x7e:
			b[i] = '?'
		}
	}
	return string(b)
}
