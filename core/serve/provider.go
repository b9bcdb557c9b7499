package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"strings"

	"oidcctl/core"
)

type callKey struct{}

// provider serves /ws/NAME/…: route, method, size, token, then the
// upstream.
func (s *Server) provider(c *call) {
	c.direction = core.DirectionIncoming
	r := c.r
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/ws/"), "/")
	if rest != "" || strings.HasSuffix(r.URL.Path, "/") {
		rest = "/" + rest
	}
	rt, ok := c.table.webservices[name]
	if !ok || rt.Kind != core.Provider {
		c.outcome = outcomeNotFound
		c.fail(http.StatusNotFound, "not_found", fmt.Sprintf("no provider webservice %s", quotePath(name)))
		return
	}
	c.webservice = name
	c.startCapture(rt.Debug)
	if c.capture != nil && r.Body != nil && r.Body != http.NoBody {
		r.Body = teeBody{ReadCloser: r.Body, buf: c.capture.req}
	}
	if _, ok := rt.match(rest); !ok {
		// The route pattern is for the debugger and the log, not for a
		// caller who has not shown a token yet.
		c.outcome = outcomeNotFound
		c.reason = fmt.Sprintf("webservice %q has no route %s; its route is %s", name, quotePath(rest), rt.Route)
		c.s.log.Debug("no such route", "webservice", name, "request_id", c.id, "reason", c.reason)
		c.fail(http.StatusNotFound, "not_found", "The webservice has no such route.")
		return
	}
	if !rt.allows(r.Method) {
		c.outcome = outcomeMethodNotAllowed
		c.w.Header().Set("Allow", strings.Join(rt.Methods, ", "))
		c.fail(http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("webservice %q takes %s, not %s", name, strings.Join(rt.Methods, ", "), r.Method))
		return
	}
	limit := orDefault(s.cfg.MaxBodySize, DefaultMaxBodySize)
	if r.ContentLength > limit {
		c.outcome = outcomeTooLarge
		c.fail(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is %d bytes, more than the limit of %d", r.ContentLength, limit))
		return
	}
	token, err := bearerToken(r)
	if err != nil {
		c.refuseTwoAuthorizations()
		return
	}
	p, ok := c.table.profiles[rt.Profile]
	if !ok {
		c.outcome, c.verdict = outcomeError, verdictError
		err := fmt.Errorf("profile %q of webservice %q does not exist", rt.Profile, name)
		c.reason = err.Error()
		c.logError("webservice misconfigured", err)
		c.fail(http.StatusInternalServerError, "server_error", "The webservice is misconfigured; the log has the details under the request id.")
		return
	}
	res := s.validate(c, p, token)
	if !res.Accepted() {
		s.refuse(c, res)
		return
	}
	c.outcome = outcomeAccepted
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(c.w, r.Body, limit)
	}
	// The rewrite and error handler find the call and the user here.
	ctx := context.WithValue(r.Context(), callKey{}, &proxyCall{call: c, rest: rest, user: login(res), roles: strings.Join(res.Roles, ","), subject: res.Subject})
	rt.proxy.ServeHTTP(c.w, r.WithContext(ctx))
}

// proxyCall is what the proxy's rewrite and error handler need.
type proxyCall struct {
	*call
	rest                 string
	user, roles, subject string
}

// rewrite builds the upstream request of a provider webservice.
func (s *Server) rewrite(rt *route, pr *httputil.ProxyRequest) {
	pc := pr.In.Context().Value(callKey{}).(*proxyCall)
	u := *rt.upstream
	u.Path = strings.TrimSuffix(u.Path, "/") + pc.rest
	u.RawPath = ""
	u.RawQuery = pr.In.URL.RawQuery
	pr.Out.URL = &u
	pr.Out.Host = ""
	h := pr.Out.Header
	// Whatever the caller sent in the user and forwarding headers, in any
	// spelling, is dropped: only oidcctl says who the user is and where
	// the request came from (headers.go).
	s.dropCallerHeaders(h)
	pr.SetXForwarded()
	h.Set(s.headers.User, pc.user)
	h.Set(s.headers.Roles, pc.roles)
	h.Set(s.headers.Subject, pc.subject)
	h.Set("X-Request-Id", pc.id)
	if !rt.PassAuthorization {
		h.Del("Authorization")
	}
}

// proxyError answers a call whose upstream failed: 413 when the body
// went over the limit, 502 with the reason otherwise.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	pc := r.Context().Value(callKey{}).(*proxyCall)
	c := pc.call
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		c.outcome = outcomeTooLarge
		c.reason = fmt.Sprintf("the body is more than the limit of %d bytes", tooLarge.Limit)
		c.fail(http.StatusRequestEntityTooLarge, "too_large", c.reason)
	case r.Context().Err() != nil:
		// The caller went away; nobody reads an answer.
		c.outcome = outcomeClientGone
		c.reason = "the caller went away: " + err.Error()
		c.w.WriteHeader(499)
	default:
		c.outcome = outcomeUpstreamError
		c.reason = fmt.Sprintf("upstream %s: %v", c.table.webservices[c.webservice].Upstream, err)
		c.logError("upstream failed", err)
		// The upstream's URL and address are for the debugger and the
		// log, not for the caller.
		c.fail(http.StatusBadGateway, "bad_gateway", "The upstream did not answer; the debugger and the log have the details under the request id.")
	}
}
