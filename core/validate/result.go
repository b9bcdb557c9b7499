package validate

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	ReasonScopeMissing Reason = "scope_missing"
	ReasonAZPMismatch  Reason = "azp_mismatch"
	// ReasonTenantNotAllowed: the profile's Tenants restriction does not
	// list the token's Entra tenant (tid).
	ReasonTenantNotAllowed Reason = "tenant_not_allowed"
	// ReasonUserinfoRefused: the profile takes claims from userinfo, and
	// the provider refused the token there (401, 403) or answered for
	// another sub.
	ReasonUserinfoRefused   Reason = "userinfo_refused"
	ReasonUserLoginMismatch Reason = "user_login_mismatch"

	// The user.
	ReasonNoUID         Reason = "no_uid"          // the token lacks the profile's UID claim
	ReasonUserUnknown   Reason = "user_unknown"    // no such user and no role map to create one
	ReasonNoMappedRoles Reason = "no_mapped_roles" // no such user and the token maps to no local role
	ReasonNoEmail       Reason = "no_email"        // no such user and the user map yields no email
	// ReasonControlCharacters: a claim that names the user (sub, the UID
	// claim, a role at a role map path, a field of the user map) holds a
	// control character or is not UTF-8. Such a value would reach the
	// upstream's headers and the administrator's terminal (escape
	// sequences), so the token is refused (401) rather than cleaned up.
	ReasonControlCharacters Reason = "control_characters"

	// oidcctl's side: the token was not judged.
	ReasonDiscoveryUnavailable     Reason = "discovery_unavailable"
	ReasonKeysUnavailable          Reason = "keys_unavailable"
	ReasonIntrospectionUnavailable Reason = "introspection_unavailable"
	ReasonUserStoreError           Reason = "user_store_error"
	// ReasonUserinfoUnavailable: the profile takes claims from userinfo,
	// and the endpoint is missing, unreachable or answered an error.
	ReasonUserinfoUnavailable Reason = "userinfo_unavailable"
)

// allReasons is every reason above, in their order; TestReasonsListsEvery
// keeps it whole.
var allReasons = []Reason{
	ReasonMissing, ReasonTooLarge, ReasonMalformed, ReasonEncrypted, ReasonOpaque,
	ReasonAlgNone, ReasonAlgNotAllowed, ReasonEmbeddedKey, ReasonCritUnsupported,
	ReasonEntraGraphToken, ReasonUnknownKID, ReasonKeyMismatch, ReasonBadSignature,
	ReasonExpired, ReasonNoExpiry, ReasonNotYetValid, ReasonIssuedInFuture,
	ReasonIssuerMismatch, ReasonAudienceMismatch, ReasonInactive, ReasonScopeMissing,
	ReasonAZPMismatch, ReasonTenantNotAllowed, ReasonUserLoginMismatch, ReasonNoUID, ReasonUserUnknown,
	ReasonNoMappedRoles, ReasonNoEmail, ReasonControlCharacters, ReasonDiscoveryUnavailable,
	ReasonKeysUnavailable, ReasonIntrospectionUnavailable, ReasonUserStoreError,
	ReasonUserinfoRefused, ReasonUserinfoUnavailable,
}

// Reasons returns every reason a token can be refused for (or not judged
// for): a bounded set, for metric labels.
func Reasons() []Reason { return slices.Clone(allReasons) }

// Answer is what a reason means over HTTP: its row of the one table
// (reasonAnswers) that Status, ErrorCode, Description and serve's answers
// all read.
type Answer struct {
	// Status is 200 accepted, 401 invalid or missing token, 403
	// insufficient scope, 503 when the provider (discovery, JWKS,
	// introspection) could not be reached, 500 when the user store failed.
	Status int
	// Code is the RFC 6750 error code of the WWW-Authenticate challenge,
	// invalid_token or insufficient_scope; "" for an accepted or missing
	// token and for a failure on oidcctl's side.
	Code string
	// Error is the error code of a JSON answer: Code, or invalid_request
	// (no token), temporarily_unavailable (503), server_error (500).
	Error string
	// Description is the short, generic sentence a caller of serve is
	// told: the same for every reason in one row. Result.Message (the
	// detail) names the profile, the key set, the restrictions and the
	// upstream; it is for the administrator, in the debugger and the log,
	// never for an unauthenticated caller, who could otherwise learn the
	// configuration or probe for profile names.
	Description string
}

// Judged reports whether the token was judged (accepted or refused), as
// opposed to a failure on oidcctl's side (5xx).
func (a Answer) Judged() bool { return a.Status < http.StatusInternalServerError }

// The rows of the table.
var (
	answerAccepted = Answer{Status: http.StatusOK}
	answerMissing  = Answer{Status: http.StatusUnauthorized, Error: "invalid_request",
		Description: "No bearer token: send the access token as Authorization: Bearer <token>."}
	// answerInvalid is for everything wrong with the token itself.
	answerInvalid = Answer{Status: http.StatusUnauthorized, Code: "invalid_token", Error: "invalid_token",
		Description: "The access token is not valid."}
	// answerScope is for tokens that are valid and meant for this API but
	// do not grant enough: a missing scope, another user than the
	// UserLogin restriction allows, or a user that cannot be mapped.
	answerScope = Answer{Status: http.StatusForbidden, Code: "insufficient_scope", Error: "insufficient_scope",
		Description: "The access token does not grant access to this resource."}
	answerUnavailable = Answer{Status: http.StatusServiceUnavailable, Error: "temporarily_unavailable",
		Description: "The token cannot be checked right now; try again later."}
	answerServerError = Answer{Status: http.StatusInternalServerError, Error: "server_error",
		Description: "The token cannot be checked because of a server error."}
)

// reasonAnswers is the HTTP meaning of every reason; a reason not in it
// is answerInvalid.
var reasonAnswers = map[Reason]Answer{
	"":                             answerAccepted,
	ReasonMissing:                  answerMissing,
	ReasonScopeMissing:             answerScope,
	ReasonUserLoginMismatch:        answerScope,
	ReasonNoUID:                    answerScope,
	ReasonUserUnknown:              answerScope,
	ReasonNoMappedRoles:            answerScope,
	ReasonNoEmail:                  answerScope,
	ReasonDiscoveryUnavailable:     answerUnavailable,
	ReasonKeysUnavailable:          answerUnavailable,
	ReasonIntrospectionUnavailable: answerUnavailable,
	ReasonUserinfoUnavailable:      answerUnavailable,
	ReasonUserStoreError:           answerServerError,
}

// HTTP returns what the reason means over HTTP.
func (r Reason) HTTP() Answer {
	if a, ok := reasonAnswers[r]; ok {
		return a
	}
	return answerInvalid
}

// ErrorCode returns the RFC 6750 error code for the reason:
// "invalid_token", "insufficient_scope", or "" when there is none (an
// accepted or missing token, or a failure on oidcctl's side). See Answer.
func (r Reason) ErrorCode() string { return r.HTTP().Code }

// Description returns the short, generic sentence that a caller of serve
// is told about a refusal; see Answer.
func (r Reason) Description() string { return r.HTTP().Description }

// Status returns the HTTP status for the reason; see Answer.
func (r Reason) Status() int { return r.HTTP().Status }

// cacheable reports whether a refusal for this reason depends only on the
// token and the profile, so that it may be remembered for the same token.
// Refusals that time, a refetch or an administrator may cure are not.
func (r Reason) cacheable() bool {
	switch r {
	case ReasonMalformed, ReasonEncrypted, ReasonAlgNone, ReasonAlgNotAllowed, ReasonEmbeddedKey,
		ReasonCritUnsupported, ReasonEntraGraphToken, ReasonBadSignature, ReasonExpired, ReasonNoExpiry,
		ReasonIssuerMismatch, ReasonAudienceMismatch, ReasonScopeMissing, ReasonAZPMismatch, ReasonTenantNotAllowed,
		ReasonUserLoginMismatch, ReasonNoUID, ReasonControlCharacters:
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
	CheckTenant        = "tenant"
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
	// JKT is the cnf.jkt claim: the RFC 7638 thumbprint of the DPoP key the
	// token is bound to (RFC 9449 section 6.1); "" for a bearer token.
	JKT string `json:"jkt,omitempty"`
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
	// Userinfo is the userinfo response whose claims were merged over the
	// token's (Inspect only; see userinfo.go).
	Userinfo map[string]any `json:"userinfo,omitempty"`

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
//	Bearer error="invalid_token", error_description="The access token is not valid."
//
// with scope="…" (the profile's Scope restriction, as RFC 6750 §3 intends)
// for a missing scope; just "Bearer" for a missing token or a failure on
// oidcctl's side; "" for an accepted token. The description is the
// generic Reason.Description, never Message.
func (r *Result) WWWAuthenticate() string {
	if r.Accepted() {
		return ""
	}
	if r.Reason != ReasonScopeMissing || len(r.requiredScopes) == 0 {
		if c, ok := challenges[r.Reason]; ok {
			return c
		}
	}
	return r.challenge()
}

// challenges are the WWW-Authenticate values of the reasons (those of
// ReasonScopeMissing without its scope attribute), made once: a flood of
// refused tokens need not build them again.
var challenges = func() map[Reason]string {
	m := make(map[Reason]string, len(allReasons))
	for _, reason := range allReasons {
		m[reason] = (&Result{Reason: reason}).challenge()
	}
	return m
}()

// challenge builds WWWAuthenticate's value.
func (r *Result) challenge() string {
	code := r.Reason.ErrorCode()
	if code == "" {
		return "Bearer"
	}
	var b strings.Builder
	b.WriteString(`Bearer error="`)
	b.WriteString(code)
	b.WriteString(`", error_description="`)
	b.WriteString(HeaderSafe(r.Reason.Description(), 400))
	b.WriteByte('"')
	if r.Reason == ReasonScopeMissing && len(r.requiredScopes) > 0 {
		b.WriteString(`, scope="`)
		b.WriteString(HeaderSafe(strings.Join(r.requiredScopes, " "), 400))
		b.WriteByte('"')
	}
	return b.String()
}

// HeaderSafe makes s fit an RFC 6750 attribute value (error_description,
// scope), which allows only %x20-21 / %x23-5B / %x5D-7E: every byte
// outside that set, and '%' itself, is percent-encoded ("Jürgen" becomes
// "J%C3%BCrgen", a double quote %22), so that nothing is lost and the
// value can be decoded again. The result is at most limit bytes, cut
// before an escape or a character, never inside one.
func HeaderSafe(s string, limit int) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, min(len(s), limit))
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '%' {
			if len(b)+1 > limit {
				break
			}
			b = append(b, c)
			i++
			continue
		}
		// A whole UTF-8 sequence or nothing of it.
		n := 1
		if c >= 0x80 {
			_, n = utf8.DecodeRuneInString(s[i:])
		}
		if len(b)+3*n > limit {
			break
		}
		for _, c := range []byte(s[i : i+n]) {
			b = append(b, '%', hex[c>>4], hex[c&0xf])
		}
		i += n
	}
	return string(b)
}
