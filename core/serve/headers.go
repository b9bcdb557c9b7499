package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// What reaches an upstream of a provider webservice.
//
// CGI, PSGI, WSGI and Rack turn a header into HTTP_NAME: upper case, '-'
// to '_'. So "X-Auth_User", "x_auth_user" and "X-Auth-User" all become
// HTTP_X_AUTH_USER, and one of them, whichever the framework takes last,
// is the user the API believes. The upstream therefore gets no header of
// the caller's whose name folds (case ignored, '_' and '-' alike) to one
// that oidcctl sets or vouches for:
//
//   - the user headers (HeaderNames) and X-Request-Id, which oidcctl sets;
//   - X-Real-IP, Forwarded and every X-Forwarded-* header: an upstream
//     that trusts them (for logs, rate limits, allow lists, redirects)
//     would trust whatever the caller wrote. oidcctl sets X-Forwarded-For
//     to the address of the peer it sees, X-Forwarded-Host to the Host
//     and X-Forwarded-Proto to http or https, and nothing else; serve
//     trusts no forwarding header, so behind another proxy the upstream
//     sees that proxy's address.

// foldHeader folds a header name as CGI does: case ignored, '_' as '-'.
func foldHeader(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// dropCallerHeaders deletes from h every header that names the user or
// says where the request came from, in any spelling (see above).
func (s *Server) dropCallerHeaders(h http.Header) {
	own := [...]string{foldHeader(s.headers.User), foldHeader(s.headers.Roles), foldHeader(s.headers.Subject), "x-request-id", "x-real-ip", "forwarded"}
	for name := range h {
		f := foldHeader(name)
		drop := strings.HasPrefix(f, "x-forwarded-")
		for _, o := range own {
			drop = drop || f == o
		}
		if drop {
			delete(h, name)
		}
	}
}

// errTwoAuthorizations: the request has more than one Authorization
// header. Which one counts would depend on who reads it (a front proxy
// may look at the other), so the request is refused (RFC 6750 §3.1
// invalid_request).
var errTwoAuthorizations = errors.New("more than one Authorization header")

// bearerToken returns the token of an "Authorization: Bearer" header, or
// "" when there is none; errTwoAuthorizations when there are several
// Authorization headers.
func bearerToken(r *http.Request) (string, error) {
	vs := r.Header[headerAuthorization]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", errTwoAuthorizations
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(vs[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", nil
	}
	return strings.TrimSpace(token), nil
}

// twoAuthorizations is the answer to a request with several
// Authorization headers: 400 invalid_request with the RFC 6750 challenge.
func twoAuthorizations() *callError {
	const description = "The request is malformed: send exactly one Authorization header."
	detail := "invalid_request: " + errTwoAuthorizations.Error() + "; the request is refused rather than one of them picked"
	e := &callError{status: http.StatusBadRequest, code: "invalid_request", description: description, detail: detail,
		outcome: outcomeBadRequest, verdict: verdictRefused,
		logMsg: "request refused", logLevel: slog.LevelInfo, logAttrs: []any{"reason", detail}}
	return e.with("WWW-Authenticate", `Bearer error="invalid_request", error_description="`+description+`"`)
}

// reservedHeaders are headers that serve itself reads from callers or that
// HTTP gives a meaning of its own: none of them may carry the user, roles
// or subject of an accepted token, or a caller could set what serve trusts
// (or serve would overwrite the caller's credentials). Keys are canonical.
var reservedHeaders = map[string]string{
	"Authorization":          "carries the bearer token serve checks",
	"Proxy-Authorization":    "carries credentials",
	"Cookie":                 "carries the caller's cookies",
	"Set-Cookie":             "sets cookies",
	"Www-Authenticate":       "carries serve's RFC 6750 answer",
	"Host":                   "names the host called",
	"Forwarded":              "is set by proxies (RFC 7239)",
	"X-Real-Ip":              "is set by proxies",
	"X-Request-Id":           "is read by serve to tie a call to its log",
	"X-Api-Key":              "carries credentials",
	"X-Auth-Profile":         "names a profile",
	"Accept":                 "is read by serve",
	"Content-Type":           "describes the body",
	"Content-Length":         "frames the body",
	"Transfer-Encoding":      "frames the body",
	"Te":                     "is a hop-by-hop header",
	"Trailer":                "is a hop-by-hop header",
	"Connection":             "is a hop-by-hop header",
	"Keep-Alive":             "is a hop-by-hop header",
	"Proxy-Connection":       "is a hop-by-hop header",
	"Upgrade":                "is a hop-by-hop header",
	"Proxy-Authenticate":     "is a hop-by-hop header",
	"Content-Encoding":       "describes the body",
	"X-Http-Method":          "overrides the method",
	"X-Method-Override":      "overrides the method",
	"X-Http-Method-Override": "overrides the method",
}

// reservedPrefixes are families of headers that proxies set for serve to
// read (X-Forwarded-Uri, X-Original-Method, ...) and oidcctl's own
// (X-Oidcctl-Credential).
var reservedPrefixes = map[string]string{
	"X-Forwarded-": "is set by proxies and read by serve",
	"X-Original-":  "is set by proxies and read by serve",
	"X-Oidcctl-":   "is oidcctl's own",
}

// CheckHeaderNames reports why h cannot be used: a name that serve reads
// from callers for itself, that HTTP reserves, or that two of them share.
// field names the flag or setting of each name for the message.
func CheckHeaderNames(h HeaderNames, field func(which string) string) error {
	seen := map[string]string{}
	for _, n := range []struct{ which, name string }{{"user", h.User}, {"roles", h.Roles}, {"subject", h.Subject}} {
		// Folded as CGI does: X_Forwarded_For is X-Forwarded-For to an upstream.
		canon := http.CanonicalHeaderKey(foldHeader(strings.TrimSpace(n.name)))
		if why, ok := reservedHeaders[canon]; ok {
			return fmt.Errorf("%s %s: %s %s, so it cannot carry the %s of a token", field(n.which), n.name, canon, why, n.which)
		}
		for prefix, why := range reservedPrefixes {
			if strings.HasPrefix(canon, prefix) {
				return fmt.Errorf("%s %s: %s* %s, so it cannot carry the %s of a token", field(n.which), n.name, prefix, why, n.which)
			}
		}
		if other, dup := seen[canon]; dup {
			return fmt.Errorf("%s %s: the same header as %s", field(n.which), n.name, field(other))
		}
		seen[canon] = n.which
	}
	return nil
}
