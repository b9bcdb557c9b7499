package grant

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"oidcctl/core"
)

// Sentinel errors that callers test with errors.Is.
var (
	// ErrNeedsAuthorization: the account uses authorization_code, so only a
	// person logging in (oidcctl account authorize) can get its tokens.
	ErrNeedsAuthorization = errors.New("needs a person to log in")
	// ErrUnsupported: the provider does not offer what was asked, such as
	// revocation or the device flow.
	ErrUnsupported = errors.New("not supported by the provider")
	// ErrUnsupportedTokenType: the revocation endpoint does not revoke
	// tokens of that type (RFC 7009 §2.2.1 "unsupported_token_type"),
	// as providers with self-contained JWT access tokens answer for
	// those; the token stays valid until it expires. A *ProviderError
	// with that code matches it.
	ErrUnsupportedTokenType = errors.New("unsupported_token_type")
	// ErrInvalidGrant: the provider refused a grant (a refresh token,
	// code or password) with RFC 6749 "invalid_grant". A *ProviderError
	// with that code matches it.
	ErrInvalidGrant = errors.New("invalid_grant")
	// ErrAccessDenied: the person refused the login ("access_denied").
	ErrAccessDenied = errors.New("access denied")
	// ErrExpired: a device code (RFC 8628 "expired_token") or the state of
	// an authorization request expired before the login was finished.
	ErrExpired = errors.New("expired")
	// ErrStateMismatch: a callback does not belong to this authorization
	// request (wrong or missing state). The flow stays usable.
	ErrStateMismatch = errors.New("state mismatch")
	// ErrFlowUsed: an authorization flow's callback was already handled.
	ErrFlowUsed = errors.New("the authorization flow was already used")
	// ErrServeRedirect: the redirect URI is an https one that `oidcctl
	// serve` answers; the login must go through a pending login
	// (core.PendingLogin), not a loopback callback.
	ErrServeRedirect = errors.New("the redirect URI is served by oidcctl serve")
	// ErrIDToken: an id_token failed verification; nothing was returned.
	ErrIDToken = errors.New("id_token rejected")
)

// RotatedError is returned by a refresh whose answer could not be used
// (its id_token failed verification, or the keys to verify it could not
// be had) although the provider has issued a new refresh token in it,
// which may have ended the one sent. RefreshToken (and RefreshExpiry,
// when the provider said) is that new one: the caller keeps it, or the
// account is left with a spent refresh token. Err is the reason; it is
// unwrapped, so errors.Is(err, ErrIDToken) still holds.
type RotatedError struct {
	RefreshToken  core.Secret
	RefreshExpiry time.Time
	Err           error
}

func (e *RotatedError) Error() string {
	return e.Err.Error() + " (the provider issued a new refresh token with it)"
}

func (e *RotatedError) Unwrap() error { return e.Err }

// ProviderError is an error answer of the provider: an RFC 6749 §5.2 error
// from the token, device authorization or revocation endpoint, or an
// error=… redirect of the authorization endpoint (§4.1.2.1). It never holds
// the response body as such: Detail is a short, redacted excerpt, given
// only when the provider sent no error code.
type ProviderError struct {
	Code        string // RFC 6749 "error", e.g. invalid_grant; "" when the provider sent none
	Description string // "error_description", redacted
	URI         string // "error_uri"
	Status      int    // HTTP status; 0 for an error redirect
	Detail      string // for a non-OAuth error answer: content type and the start of the body, redacted
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	if e.Code == "" {
		fmt.Fprintf(&b, "the provider answered HTTP %d %s without an OAuth error", e.Status, http.StatusText(e.Status))
		if e.Detail != "" {
			b.WriteString(" (" + e.Detail + ")")
		}
		return b.String()
	}
	b.WriteString("the provider refused: " + e.Code)
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if h := hints[e.Code]; h != "" {
		b.WriteString("; " + h)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidGrant), ErrAccessDenied, ErrExpired
// and ErrUnsupportedTokenType hold for the matching error codes.
func (e *ProviderError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	case ErrAccessDenied:
		return e.Code == "access_denied"
	case ErrExpired:
		return e.Code == "expired_token"
	case ErrUnsupportedTokenType:
		return e.Code == "unsupported_token_type"
	}
	return false
}

// hints say what an administrator can do about an error code.
var hints = map[string]string{
	"invalid_client":         "check the profile's client id and its secret, key (registered at the provider?) or certificate, and the client's authentication method at the provider",
	"invalid_grant":          "the refresh token, code, device code or user credentials are invalid, expired or revoked",
	"unauthorized_client":    "the provider does not allow this client that grant type",
	"unsupported_grant_type": "the provider does not support that grant type",
	"invalid_scope":          "check the account's scopes",
	"invalid_target":         "the provider refused a resource (RFC 8707); check the account's resources",
	"access_denied":          "the login was refused (by the person, or by the provider's policy)",
	"expired_token":          "the device code expired before the login was approved; start again",
	"slow_down":              "the provider asks to poll less often",
	"unsupported_token_type": "the provider does not revoke tokens of this type; it stays valid until it expires",
	"temporarily_unavailable": "the provider is overloaded or down for maintenance; " +
		"try again later",
}

// IsInvalidGrant reports whether err is the provider refusing a grant with
// "invalid_grant": for a refresh, the refresh token is dead (or another
// process has rotated it a moment ago).
func IsInvalidGrant(err error) bool { return errors.Is(err, ErrInvalidGrant) }

// providerError turns an error of x/oauth2 into a *ProviderError, with
// every secret that was sent removed; other errors are returned as they
// are (x/oauth2's own messages carry no body).
func providerError(err error, secrets []string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	pe := &ProviderError{
		Code:        redact(re.ErrorCode, secrets, 64),
		Description: redact(re.ErrorDescription, secrets, 300),
		URI:         redact(re.ErrorURI, secrets, 200),
	}
	if re.Response != nil {
		pe.Status = re.Response.StatusCode
		if pe.Code == "" {
			pe.Detail = bodyDetail(re.Response.Header.Get("Content-Type"), re.Body, secrets)
		}
	}
	return pe
}

// bodyDetail describes a body that is not an OAuth error: its content
// type and its start, with secrets and anything token-like removed.
func bodyDetail(contentType string, body []byte, secrets []string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" {
		mt = "no content type"
	}
	if len(body) == 0 {
		return mt + ", empty body"
	}
	return fmt.Sprintf("%s; the body starts: %q", mt, redact(string(body), secrets, 120))
}

// tokenLike matches what may be a token: a JWT or a long run of base64url
// or base64 characters (40 or more: a GUID, as in Entra's trace ids,
// stays).
var tokenLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*|[A-Za-z0-9_\-+/=~.]{40,}`)

// redact removes the given secrets and anything token-like from s, makes
// it one printable line and cuts it to about n bytes.
func redact(s string, secrets []string, n int) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = tokenLike.ReplaceAllString(s, "[redacted]")
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
