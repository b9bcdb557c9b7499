package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strings"

	"oidcctl/core"
)

type callKey struct{}

// provider serves /ws/NAME/…: route, method, size, token, then the
// upstream.
func (s *Server) provider(c *call) error {
	c.direction = core.DirectionIncoming
	r := c.r
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/ws/"), "/")
	if rest != "" || strings.HasSuffix(r.URL.Path, "/") {
		rest = "/" + rest
	}
	rt, ok := c.table.webservices[name]
	if !ok || rt.Kind != core.Provider {
		return notFound(fmt.Sprintf("no provider webservice %s", quotePath(name)))
	}
	c.webservice = name
	c.startCapture(rt.Debug)
	if c.capture != nil && r.Body != nil && r.Body != http.NoBody {
		r.Body = teeBody{ReadCloser: r.Body, buf: c.capture.req}
	}
	if _, ok := rt.match(rest); !ok {
		// The route pattern is for the debugger and the log, not for a
		// caller who has not shown a token yet.
		e := notFound("The webservice has no such route.")
		e.detail = fmt.Sprintf("webservice %q has no route %s; its route is %s", name, quotePath(rest), rt.Route)
		e.logMsg, e.logLevel, e.logAttrs = "no such route", slog.LevelDebug, []any{"reason", e.detail}
		return e
	}
	if !rt.allows(r.Method) {
		return (&callError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", outcome: outcomeMethodNotAllowed,
			description: fmt.Sprintf("webservice %q takes %s, not %s", name, strings.Join(rt.Methods, ", "), r.Method)}).
			with("Allow", strings.Join(rt.Methods, ", "))
	}
	limit := orDefault(s.cfg.MaxBodySize, DefaultMaxBodySize)
	if r.ContentLength > limit {
		return tooLarge(fmt.Sprintf("the body is %d bytes, more than the limit of %d", r.ContentLength, limit))
	}
	p, ok := c.table.profiles[rt.Profile]
	token, isDPoP, err := authorization(r, p.DPoP)
	if err != nil {
		return twoAuthorizations()
	}
	if !ok {
		err := fmt.Errorf("profile %q of webservice %q does not exist", rt.Profile, name)
		return (&callError{status: http.StatusInternalServerError, code: "server_error", outcome: outcomeError, verdict: verdictError,
			description: "The webservice is misconfigured; the log has the details under the request id.", detail: err.Error()}).
			logged("webservice misconfigured", err)
	}
	res := s.validate(c, p, token)
	if !res.Accepted() {
		return s.dpopChallenge(c, refusal(res), p, isDPoP)
	}
	if e := s.checkDPoP(c, p, res, token, isDPoP, providerRequest(r)); e != nil {
		return e
	}
	c.outcome = outcomeAccepted
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(c.w, r.Body, limit)
	}
	// The rewrite and error handler find the call and the user here.
	ctx := context.WithValue(r.Context(), callKey{}, &proxyCall{call: c, rest: rest, user: login(res), roles: strings.Join(res.Roles, ","), subject: res.Subject})
	rt.proxy.ServeHTTP(c.w, r.WithContext(ctx))
	return nil
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
	c := r.Context().Value(callKey{}).(*proxyCall).call
	var over *http.MaxBytesError
	switch {
	case errors.As(err, &over):
		description := fmt.Sprintf("the body is more than the limit of %d bytes", over.Limit)
		e := tooLarge(description)
		e.detail = description
		c.answer(e)
	case r.Context().Err() != nil:
		// The caller went away; nobody reads an answer.
		c.answer(clientGone(err))
	default:
		// The upstream's URL and address are for the debugger and the
		// log, not for the caller.
		e := badGateway("upstream", fmt.Sprintf("upstream %s: %v", c.table.webservices[c.webservice].Upstream, err), err)
		e.verdict = "" // the token was accepted
		c.answer(e)
	}
}
