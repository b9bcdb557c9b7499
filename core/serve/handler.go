package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"oidcctl/core"
	"oidcctl/core/serve/debuglog"
	"oidcctl/core/validate"
)

// Outcomes of a call, the outcome label of oidcctl_requests_total.
const (
	outcomeAccepted         = "accepted"           // token accepted (forward-auth, provider)
	outcomeRefused          = "refused"            // 401/403
	outcomeUnavailable      = "unavailable"        // the token could not be judged (provider down, store error)
	outcomeForwarded        = "forwarded"          // requester: the endpoint answered
	outcomeNoToken          = "no_token"           // requester: no valid token
	outcomeUpstreamError    = "upstream_error"     // upstream or endpoint unreachable
	outcomeNotFound         = "not_found"          // no such route or webservice
	outcomeMethodNotAllowed = "method_not_allowed" // 405
	outcomeTooLarge         = "too_large"          // 413
	outcomeBadRequest       = "bad_request"        // unreadable request
	outcomeClientGone       = "client_gone"        // the caller went away
	outcomeError            = "error"              // oidcctl failed (misconfiguration, panic)
)

// ServeHTTP serves every route but the token socket's.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		s.healthz(w, r)
		return
	case "/readyz":
		s.readyz(w, r)
		return
	case "/metrics":
		s.metrics.handler.ServeHTTP(w, r)
		return
	}
	s.protect(w, r, s.dispatch)
}

func (s *Server) dispatch(c *call) error {
	p := c.r.URL.Path
	switch {
	case p == "/auth" || strings.HasPrefix(p, "/auth/"):
		return s.forwardAuth(c)
	case strings.HasPrefix(p, "/ws/"):
		return s.provider(c)
	case strings.HasPrefix(p, "/invoke/"):
		return s.requester(c)
	case isLoginPath(c.table, p):
		return s.loginCallback(c)
	}
	return notFound(fmt.Sprintf("no route %s: oidcctl serves /auth, /ws/WEBSERVICE/…, /invoke/WEBSERVICE, /healthz, /readyz and /metrics", quotePath(p)))
}

// call is one request as it goes through the server.
type call struct {
	s     *Server
	w     *responseWriter
	r     *http.Request
	id    string
	start time.Time
	table *routeTable

	webservice string // "" for forward-auth and unknown routes
	direction  string
	outcome    string
	user       string
	verdict    string
	reason     string
	// reasonOf, when reason is "", is the refused result whose detail is
	// the reason, made only when the debugger records the call.
	reasonOf *validate.Result

	// The debugger's view; capture is nil when it is off for this call.
	capture   *capture
	method    string
	path      string
	reqHeader http.Header // recorded request headers, when not r.Header
	secrets   []string    // exact strings to redact
	// tokenClaims: the token's header and claims, for a profile with
	// LogTokenClaims (tokenclaims.go).
	tokenClaims string

	// What a call needs on every forward-auth request, in the call's own
	// allocation rather than one each: the response writer (w), the
	// debugger's capture when it is on, the first secrets, and the
	// backing array of the answer's header values (X-Request-Id, the user
	// headers, Cache-Control). A header value slice has a capacity of one,
	// so a handler that adds a value to it gets a new array.
	rw         responseWriter
	captureBuf capture
	secretsBuf [2]string
	headerVals [5]string
	answerVals [3]string // the header values of an answer's JSON body
}

// capture holds what the debugger keeps of a call's bodies.
type capture struct {
	settings core.DebugSettings
	req      *bodyBuffer
	resp     *bodyBuffer
	// onlyRefused: a forward-auth call in the default mode, recorded
	// only when not accepted.
	onlyRefused bool
	// bufs are req and resp, in the capture's own allocation (which is
	// the call's): every forward-auth call starts a capture in the
	// default mode.
	bufs [2]bodyBuffer
}

// protect runs h for the request with the call bookkeeping around it:
// the request id, the in-flight gauge, the answer to the error h returns,
// metrics and the debugger entry when it returns, and a recover that
// answers 500 and logs the panic once, with the webservice and request id.
func (s *Server) protect(w http.ResponseWriter, r *http.Request, h func(*call) error) {
	c := &call{
		s:      s,
		r:      r,
		id:     requestID(r),
		start:  s.now(),
		table:  s.routes(),
		method: r.Method,
		path:   r.URL.RequestURI(),
	}
	c.rw.ResponseWriter = w
	c.w = &c.rw
	c.secrets = c.secretsBuf[:0]
	c.headerVals[0] = c.id
	w.Header()[headerRequestID] = c.headerVals[0:1:1]
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				// The proxy aborts a response it cannot finish; net/http
				// closes the connection quietly.
				c.outcome = outcomeUpstreamError
				c.finish()
				panic(v)
			}
			s.log.Error("panic while serving a request", "webservice", c.webservice, "request_id", c.id,
				"method", r.Method, "path", logPath(r.URL.Path), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.answer(fmt.Errorf("%v", v))
			c.finish()
		}
	}()
	if err := h(c); err != nil {
		c.answer(err)
	}
	c.finish()
}

// startCapture switches the debugger on for this call with a
// webservice's settings.
func (c *call) startCapture(settings core.DebugSettings) {
	if !settings.Enabled {
		return
	}
	limit := settings.MaxBody
	if limit <= 0 {
		limit = core.DefaultDebugMaxBody
	}
	cp := &c.captureBuf
	cp.settings = settings
	cp.bufs[0].limit, cp.bufs[1].limit = limit, limit
	cp.req, cp.resp = &cp.bufs[0], &cp.bufs[1]
	c.capture = cp
	c.w.body = cp.resp
}

// finish counts the call and hands its debugger entry to the recorder.
func (c *call) finish() {
	s := c.s
	if c.outcome == "" {
		c.outcome = outcomeError
	}
	dur := s.since(c.start)
	label := c.webservice
	if c.direction == core.DirectionForwardAuth {
		label = "forward-auth"
		s.metrics.forwardAuth.count(s.metrics, label, c.outcome, dur.Seconds())
	} else if rt := c.tableRoute(label); rt != nil {
		rt.series.count(s.metrics, label, c.outcome, dur.Seconds())
	} else {
		s.metrics.requests.WithLabelValues(label, c.outcome).Inc()
		s.metrics.duration.WithLabelValues(label).Observe(dur.Seconds())
	}
	cp := c.capture
	if cp == nil || (cp.onlyRefused && c.verdict == verdictAccepted) {
		return
	}
	if !s.debugRate.allow(c.webservice, c.start) {
		s.metrics.debugSkipped.WithLabelValues(label).Inc()
		return
	}
	status := c.w.status
	if status == 0 {
		status = http.StatusOK
	}
	reqHeader := c.reqHeader
	if reqHeader == nil {
		reqHeader = c.r.Header
	}
	reqBody, reqCut := cp.req.bytes()
	respBody, respCut := cp.resp.bytes()
	e := core.DebugEntry{
		Time:            c.start.UTC(),
		RequestID:       c.id,
		Webservice:      c.webservice,
		Direction:       c.direction,
		Method:          c.method,
		Path:            debuglog.RedactPath(c.path, c.secrets...),
		Status:          status,
		Duration:        dur,
		User:            c.user,
		Verdict:         c.verdict,
		Reason:          c.reasonText(),
		RequestHeader:   debuglog.RedactHeader(reqHeader, c.secrets...),
		RequestBody:     debuglog.RedactBody(reqHeader.Get("Content-Type"), reqBody, !reqCut, c.secrets...),
		ResponseHeader:  debuglog.RedactHeader(c.w.Header(), c.secrets...),
		ResponseBody:    debuglog.RedactBody(c.w.Header().Get("Content-Type"), respBody, !respCut, c.secrets...),
		BodiesTruncated: reqCut || respCut,
		TokenClaims:     c.tokenClaims,
	}
	s.recorder.Record(e)
}

// reasonText is the debugger's reason of the call.
func (c *call) reasonText() string {
	return textOr(c.reason, c.reasonOf)
}

// logError logs a failure of the call once, with its webservice and
// request id.
func (c *call) logError(msg string, err error) {
	c.s.log.Warn(msg, "webservice", c.webservice, "request_id", c.id, "method", c.r.Method,
		"path", logPath(c.r.URL.Path), "err", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"server_error"}`)
	}
	writeJSONBytes(w, status, append(b, '\n'), new([3]string))
}

// writeJSONBytes answers with a JSON body b (its final newline included),
// no-store; vals backs the three header values (one allocation, or none
// when it is the call's).
func writeJSONBytes(w http.ResponseWriter, status int, b []byte, vals *[3]string) {
	vals[0], vals[1], vals[2] = "application/json", strconv.Itoa(len(b)), "no-store"
	h := w.Header()
	h[headerContentType] = vals[0:1:1]
	h[headerContentLength] = vals[1:2:2]
	h[headerCacheControl] = vals[2:3:3]
	w.WriteHeader(status)
	if ow, ok := w.(*responseWriter); ok {
		// b is this answer's own: the debugger may keep it as it is.
		_, _ = ow.writeOwned(b)
		return
	}
	_, _ = w.Write(b)
}

// requestID returns the caller's X-Request-Id when it is a sane one, else
// a new one.
func requestID(r *http.Request) string {
	if id := headerGet(r.Header, headerRequestID); id != "" && len(id) <= 64 {
		ok := true
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				ok = false
				break
			}
		}
		if ok {
			return id
		}
	}
	const digits = "0123456789abcdef"
	var b [16]byte
	for i, n := len(b)-1, rand.Uint64(); i >= 0; i, n = i-1, n>>4 {
		b[i] = digits[n&15]
	}
	return string(b[:])
}

// quotePath makes a path safe for messages.
func quotePath(p string) string {
	return strconv.Quote(logPath(p))
}

// logPath bounds a path for the log, whose handler escapes what needs it
// (quoting it here too would log "path":"\"/auth\"").
func logPath(p string) string {
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return p
}

// responseWriter remembers the status and, while the debugger is on, the
// start of the body.
type responseWriter struct {
	http.ResponseWriter
	status  int
	written int64
	body    *bodyBuffer
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.body != nil {
		w.body.Write(b)
	}
	return w.write(b)
}

// writeOwned is Write for a b that nobody changes afterwards: the
// debugger's capture keeps b itself rather than a copy when it fits.
func (w *responseWriter) writeOwned(b []byte) (int, error) {
	if w.body != nil && !w.body.keep(b) {
		w.body.Write(b)
	}
	return w.write(b)
}

// write writes b on, counting it; the first write is a 200's unless a
// status was written.
func (w *responseWriter) write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Flush lets the reverse proxy stream.
func (w *responseWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bodyBuffer keeps the first limit bytes written to it. The proxy's
// transport may still write the request body while the call finishes, so
// it locks.
type bodyBuffer struct {
	mu        sync.Mutex
	limit     int
	buf       []byte
	truncated bool
}

func (b *bodyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := b.limit - len(b.buf); n > room {
		b.truncated = true
		p = p[:max(room, 0)]
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

// keep takes p, which its writer never changes afterwards, as the whole
// buffer when nothing was written yet and p is within the limit, and
// reports whether it did. Capped at its length, p is copied, not written
// into, by a later Write.
func (b *bodyBuffer) keep(p []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) != 0 || len(p) > b.limit {
		return false
	}
	b.buf = p[:len(p):len(p)]
	return true
}

func (b *bodyBuffer) bytes() ([]byte, bool) {
	if b == nil {
		return nil, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...), b.truncated
}

// teeBody copies what is read from a request body into a bodyBuffer.
type teeBody struct {
	io.ReadCloser
	buf *bodyBuffer
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.buf.Write(p[:n])
	}
	return n, err
}
