package serve

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"oidcctl/core"
	"oidcctl/core/validate"
)

// Verdicts in the debugger.
const (
	verdictAccepted = "accepted"
	verdictRefused  = "refused"
	verdictError    = "error"
)

// forwardAuth answers a reverse proxy's question: may this request pass?
func (s *Server) forwardAuth(c *call) error {
	c.direction = core.DirectionForwardAuth
	r := c.r
	// The names in their canonical form, which Header.Get need not make
	// again for every call.
	if m := firstHeader(r, "X-Forwarded-Method", "X-Original-Method"); m != "" {
		c.method = m
	}
	if u := firstHeader(r, "X-Forwarded-Uri", "X-Original-Uri", "X-Original-Url"); u != "" {
		c.path = u
	} else if rest := strings.TrimPrefix(r.URL.Path, "/auth"); rest != "" {
		// Envoy's ext_authz puts the original path after its prefix.
		c.path = rest
	}
	if fad := s.cfg.ForwardAuthDebug; fad.Mode != DebugOff {
		settings := fad.DebugSettings
		settings.Enabled = true
		c.startCapture(settings)
		c.capture.onlyRefused = fad.Mode == DebugRefused
	}
	// The profile comes from the proxy's configuration (the auth URL),
	// never from a header: Traefik and Envoy pass the caller's headers on
	// to the auth endpoint, and a caller must not pick its profile.
	name := ""
	if r.URL.RawQuery != "" {
		name = r.URL.Query().Get("profile")
	}
	if name == "" {
		name = s.cfg.DefaultProfile
	}
	p, ok := c.table.profiles[name]
	token, isDPoP, err := authorization(r, p.DPoP)
	if err != nil {
		return twoAuthorizations()
	}
	if !ok {
		// A misconfigured proxy, or a caller that reaches /auth directly
		// and probes for profile names: it gets the answer a bad token
		// gets, the administrator the detail.
		detail := fmt.Sprintf("forward-auth: profile %q does not exist", name)
		if name == "" {
			detail = "forward-auth: no profile: call /auth?profile=NAME, or start serve with --auth-profile"
		}
		reason := validate.ReasonMalformed
		if token == "" {
			reason = validate.ReasonMissing
		}
		e := refusal(&validate.Result{Reason: reason})
		e.outcome, e.verdict, e.detail = outcomeError, verdictError, detail
		return e.logged("forward-auth misconfigured", errors.New(detail))
	}
	res := s.validate(c, p, token)
	if !res.Accepted() {
		return s.dpopChallenge(c, refusal(res), p, isDPoP)
	}
	// The URL a proof must name matters only to a DPoP call: a Bearer
	// call does not read the forwarding headers for it.
	var req dpopRequest
	if isDPoP {
		req = forwardedRequest(r, c.method, c.path)
	}
	if e := s.checkDPoP(c, p, res, token, isDPoP, req); e != nil {
		return e
	}
	s.setUserHeaders(c, res)
	c.outcome = outcomeAccepted
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// validate validates the call's token with a profile, timing it, and
// notes the user on the call; refusal turns a refused result into the
// answer.
func (s *Server) validate(c *call, p core.Profile, token string) *validate.Result {
	if token != "" {
		c.secrets = append(c.secrets, token)
	}
	// Both ends as times since the call's start: with the real clock two
	// reads of the monotonic clock alone, for the same duration.
	begin := s.since(c.start)
	res := s.validator.Validate(c.r.Context(), p, token)
	s.validationObserver(c.table, p.Name).Observe((s.since(c.start) - begin).Seconds())
	c.user = login(res)
	if p.LogTokenClaims && c.capture != nil && token != "" {
		c.tokenClaims = tokenClaims(token, c.secrets)
	}
	if res.Accepted() {
		c.verdict, c.reason, c.reasonOf = verdictAccepted, "", nil
	}
	return res
}

// setUserHeaders sets the user of an accepted token, and Cache-Control:
// no-store, on the call's answer. The values share the call's array and
// the names are canonical already (HeaderNames.withDefaults): no
// allocation but the roles' join.
func (s *Server) setUserHeaders(c *call, res *validate.Result) {
	h := c.w.Header()
	v := c.headerVals[1:5]
	v[0], v[1], v[2], v[3] = login(res), strings.Join(res.Roles, ","), res.Subject, "no-store"
	h[s.headers.User] = v[0:1:1]
	h[s.headers.Roles] = v[1:2:2]
	h[s.headers.Subject] = v[2:3:3]
	h[headerCacheControl] = v[3:4:4]
}

// Canonical header names that serve sets on every call.
const (
	headerAuthorization = "Authorization"
	headerRequestID     = "X-Request-Id"
	headerCacheControl  = "Cache-Control"
	headerContentType   = "Content-Type"
	headerContentLength = "Content-Length"
)

// login is the local user of a result.
func login(res *validate.Result) string {
	if res.User != nil && res.User.Login != "" {
		return res.User.Login
	}
	return res.Login
}

// firstHeader is the first of the request headers names (canonical)
// that is not empty.
func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := headerGet(r.Header, n); v != "" {
			return v
		}
	}
	return ""
}

// headerGet is h.Get(key) for a canonical key, without canonicalizing it
// again (which Header.Get does on every call: a scan of the name, a
// tenth of serve's time on a forward-auth call).
func headerGet(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
