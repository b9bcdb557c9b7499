package serve

import (
	"errors"
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
	vs := r.Header.Values("Authorization")
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

// refuseTwoAuthorizations answers a request with several Authorization
// headers: 400 invalid_request with the RFC 6750 challenge.
func (c *call) refuseTwoAuthorizations() {
	c.outcome, c.verdict = outcomeBadRequest, verdictRefused
	c.reason = "invalid_request: " + errTwoAuthorizations.Error() + "; the request is refused rather than one of them picked"
	c.s.log.Info("request refused", "webservice", c.webservice, "request_id", c.id, "reason", c.reason)
	const description = "The request is malformed: send exactly one Authorization header."
	c.w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request", error_description="`+description+`"`)
	c.fail(http.StatusBadRequest, "invalid_request", description)
}
