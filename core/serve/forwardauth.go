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
func (s *Server) forwardAuth(c *call) {
	c.direction = core.DirectionForwardAuth
	r := c.r
	if m := firstHeader(r, "X-Forwarded-Method", "X-Original-Method"); m != "" {
		c.method = m
	}
	if u := firstHeader(r, "X-Forwarded-Uri", "X-Original-URI", "X-Original-URL"); u != "" {
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
	token, err := bearerToken(r)
	if err != nil {
		c.refuseTwoAuthorizations()
		return
	}
	p, ok := c.table.profiles[name]
	if !ok {
		// A misconfigured proxy, or a caller that reaches /auth directly
		// and probes for profile names: it gets the answer a bad token
		// gets, the administrator the detail.
		detail := fmt.Sprintf("forward-auth: profile %q does not exist", name)
		if name == "" {
			detail = "forward-auth: no profile: call /auth?profile=NAME, or start serve with --auth-profile"
		}
		c.logError("forward-auth misconfigured", errors.New(detail))
		reason := validate.ReasonMalformed
		if token == "" {
			reason = validate.ReasonMissing
		}
		c.outcome, c.verdict, c.reason = outcomeError, verdictError, detail
		s.answerRefusal(c, &validate.Result{Reason: reason})
		return
	}
	res := s.validate(c, p, token)
	if !res.Accepted() {
		s.refuse(c, res)
		return
	}
	h := c.w.Header()
	s.setUserHeaders(h, res)
	h.Set("Cache-Control", "no-store")
	c.outcome = outcomeAccepted
	c.w.WriteHeader(http.StatusOK)
}

// validate validates the call's token with a profile, timing it, and
// notes the verdict on the call.
func (s *Server) validate(c *call, p core.Profile, token string) *validate.Result {
	if token != "" {
		c.secrets = append(c.secrets, token)
	}
	start := s.now()
	res := s.validator.Validate(c.r.Context(), p, token)
	s.metrics.validation.WithLabelValues(p.Name).Observe(s.now().Sub(start).Seconds())
	c.user = login(res)
	switch {
	case res.Accepted():
		c.verdict = verdictAccepted
		c.reason = ""
	case res.Status() >= 500:
		c.verdict, c.reason = verdictError, string(res.Reason)+": "+res.Message
	default:
		c.verdict, c.reason = verdictRefused, string(res.Reason)+": "+res.Message
	}
	return res
}

// refuse answers a refused (or unjudged) token: 401/403 with the RFC 6750
// challenge, or 503/500 when oidcctl could not judge it. The reason and
// its detail (c.reason) go to the log and the debugger.
func (s *Server) refuse(c *call, res *validate.Result) {
	if res.Status() >= 500 {
		c.outcome = outcomeUnavailable
		c.logError("cannot judge a token", fmt.Errorf("%s: %s", res.Reason, res.Message))
	} else {
		c.outcome = outcomeRefused
		s.log.Info("token refused", "webservice", c.webservice, "request_id", c.id, "method", c.r.Method,
			"path", quotePath(c.r.URL.Path), "profile", res.Profile, "reason", string(res.Reason), "detail", res.Message)
	}
	s.answerRefusal(c, res)
}

// answerRefusal writes the answer to a refused token. The caller, who may
// not be authenticated, learns the RFC 6750 error code and a generic
// description (validate.Reason.Description), never the detail: it names
// the profile, the key set and its key ids, the restrictions.
func (s *Server) answerRefusal(c *call, res *validate.Result) {
	status := res.Status()
	code := res.Reason.ErrorCode()
	switch {
	case status >= 500 && code == "":
		code = "temporarily_unavailable"
		if status == http.StatusInternalServerError {
			code = "server_error"
		}
	case code == "":
		code = "invalid_request"
		c.w.Header().Set("WWW-Authenticate", res.WWWAuthenticate())
	default:
		c.w.Header().Set("WWW-Authenticate", res.WWWAuthenticate())
	}
	c.w.Header().Set("Cache-Control", "no-store")
	writeJSON(c.w, status, map[string]string{
		"error":             code,
		"error_description": res.Reason.Description(),
		"request_id":        c.id,
	})
}

// setUserHeaders sets the user of an accepted token on h.
func (s *Server) setUserHeaders(h http.Header, res *validate.Result) {
	h.Set(s.headers.User, login(res))
	h.Set(s.headers.Roles, strings.Join(res.Roles, ","))
	h.Set(s.headers.Subject, res.Subject)
}

// login is the local user of a result.
func login(res *validate.Result) string {
	if res.User != nil && res.User.Login != "" {
		return res.User.Login
	}
	return res.Login
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := r.Header.Get(n); v != "" {
			return v
		}
	}
	return ""
}
