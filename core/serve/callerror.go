package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"oidcctl/core/validate"
)

// statusClientGone is the status of a call whose caller went away: it is
// counted and recorded, and nobody is answered (nginx's 499).
const statusClientGone = 499

// callError is why a call was not served as asked. Handlers return it;
// answer turns it into the three things it means: the answer the caller
// gets, the outcome label of the metrics, and the debugger's verdict and
// reason (and a log line).
type callError struct {
	status int    // the HTTP status; statusClientGone: no answer
	code   string // the JSON error code, as RFC 6750's where there is one
	// description is the caller's sentence. It is generic wherever the
	// detail would tell a caller, who may not be authenticated, about the
	// configuration (profiles, accounts, credentials, upstreams, keys).
	description string
	// detail says why, for the debugger and the log; "" means
	// detailOf's (made only when it is read: the debugger records few of
	// a flood of refusals), or else the description (unless the call
	// already has a reason).
	detail   string
	detailOf *validate.Result
	outcome  string // the outcome label of oidcctl_requests_total
	verdict  string // the debugger's verdict; "" leaves the call's
	// header are the answer's headers, canonical names, each set once
	// (with replaces); headerBuf backs the first two, which is all an
	// answer has today: a refusal's headers cost no allocation.
	header    []headerField
	headerBuf [2]headerField

	// logMsg, when not "", logs the call once at logLevel, with its
	// webservice, request id, method and path, and logAttrs.
	logMsg   string
	logLevel slog.Level
	logAttrs []any
	// logResult, when not nil, adds the refused result's profile, reason
	// and detail to the log line; they are boxed only when the line is
	// logged (a flood of refused tokens below the log level costs nothing).
	logResult *validate.Result

	// refused, when not "", counts the call in oidcctl_token_refusals_total.
	refused validate.Reason
}

func (e *callError) Error() string {
	if d := e.detailText(); d != "" {
		return d
	}
	return e.description
}

// detailText is the detail, made from the refused result when there is
// one and no detail was set.
func (e *callError) detailText() string { return textOr(e.detail, e.detailOf) }

// textOr is text, or, when it is "" and of is not nil, the detail of the
// refused result of: its reason and message. callError's detail and the
// call's reason are both kept this way, so that the string is made only
// when the debugger or the log reads it.
func textOr(text string, of *validate.Result) string {
	if text == "" && of != nil {
		return string(of.Reason) + ": " + of.Message
	}
	return text
}

// headerField is one header of an answer; value is an array so that the
// answer's header map can take a slice of it.
type headerField struct {
	key   string
	value [1]string
}

// with sets an answer header, replacing one of the same name.
func (e *callError) with(key, value string) *callError {
	if key == "WWW-Authenticate" {
		key = wwwAuthenticate // canonical, without canonicalizing it on every refusal
	} else {
		key = http.CanonicalHeaderKey(key)
	}
	for i := range e.header {
		if e.header[i].key == key {
			e.header[i].value[0] = value
			return e
		}
	}
	if e.header == nil {
		e.header = e.headerBuf[:0]
	}
	e.header = append(e.header, headerField{key: key, value: [1]string{value}})
	return e
}

// headerValue is the answer header named key (canonical), or "".
func (e *callError) headerValue(key string) string {
	for i := range e.header {
		if e.header[i].key == key {
			return e.header[i].value[0]
		}
	}
	return ""
}

// wwwAuthenticate is the canonical form of WWW-Authenticate.
var wwwAuthenticate = http.CanonicalHeaderKey("WWW-Authenticate")

// logged logs the call at warn with err, as a failure on oidcctl's side or
// beyond it (a misconfigured webservice, an upstream that does not answer).
func (e *callError) logged(msg string, err error) *callError {
	e.logMsg, e.logLevel, e.logAttrs = msg, slog.LevelWarn, []any{"err", err}
	return e
}

// answer answers the call for err: the status, the headers and the JSON
// body {"error", "error_description", "request_id"}; and notes the
// outcome, verdict and reason on the call for the metrics and the
// debugger. A call that was answered already (a panic in the proxy) is
// only noted. An err that is not a *callError is a failure of oidcctl.
func (c *call) answer(err error) {
	// The assertion first: errors.As would move e to the heap on every
	// answer, and handlers return a *callError itself.
	e, ok := err.(*callError)
	if !ok {
		var wrapped *callError
		if errors.As(err, &wrapped) {
			e = wrapped
		} else {
			e = internalError(c, err)
		}
	}
	c.outcome = e.outcome
	if e.verdict != "" {
		c.verdict = e.verdict
	}
	switch {
	case e.detail != "":
		c.reason, c.reasonOf = e.detail, nil
	case e.detailOf != nil:
		c.reason, c.reasonOf = "", e.detailOf
	case c.reason == "" && c.reasonOf == nil:
		c.reason = e.description
	}
	if e.refused != "" && c.s.metrics != nil {
		c.s.metrics.refusal(e.refused).Inc()
	}
	if e.logMsg != "" && c.s.log.Enabled(c.r.Context(), e.logLevel) {
		attrs := append([]any{"webservice", c.webservice, "request_id", c.id, "method", c.r.Method, "path", logPath(c.r.URL.Path)}, e.logAttrs...)
		if res := e.logResult; res != nil {
			attrs = append(attrs, "profile", res.Profile, "reason", string(res.Reason), "detail", res.Message)
		}
		c.s.log.Log(c.r.Context(), e.logLevel, e.logMsg, attrs...)
	}
	if c.w.status != 0 {
		return
	}
	h := c.w.Header()
	for i := range e.header {
		f := &e.header[i]
		h[f.key] = f.value[:]
	}
	if e.status == statusClientGone {
		c.w.WriteHeader(statusClientGone)
		return
	}
	writeJSONBytes(c.w, e.status, errorBody{e.code, e.description, c.id}.json(), &c.answerVals)
}

// json is the body's JSON with its final newline: what json.Marshal
// makes of it (the fields in the order of the map it once was), written
// directly when no string needs escaping, which is every refusal's.
func (b errorBody) json() []byte {
	out := make([]byte, 0, len(`{"error":"","error_description":"","request_id":""}`)+1+len(b.Error)+len(b.Description)+len(b.RequestID))
	out = append(out, `{"error":"`...)
	ok := true
	out, ok = appendPlainJSON(out, b.Error, ok)
	out = append(out, `","error_description":"`...)
	out, ok = appendPlainJSON(out, b.Description, ok)
	out = append(out, `","request_id":"`...)
	out, ok = appendPlainJSON(out, b.RequestID, ok)
	out = append(out, "\"}\n"...)
	if ok {
		return out
	}
	m, err := json.Marshal(b)
	if err != nil {
		m = []byte(`{"error":"server_error"}`)
	}
	return append(m, '\n')
}

// appendPlainJSON appends s to a JSON string being written when ok and
// s is printable ASCII that encoding/json writes as it is (no '"', '\\',
// and none of the '<', '>', '&' it escapes for HTML); otherwise it
// reports false.
func appendPlainJSON(out []byte, s string, ok bool) ([]byte, bool) {
	if !ok {
		return out, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return out, false
		}
	}
	return append(out, s...), true
}

// errorBody is the JSON body of an answer that is not a success.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	RequestID   string `json:"request_id"`
}

// internalError is a failure of oidcctl itself: 500.
func internalError(c *call, err error) *callError {
	return &callError{status: http.StatusInternalServerError, code: "server_error", outcome: outcomeError, verdict: verdictError,
		description: "oidcctl failed to serve this request; the log has the details under request id " + c.id,
		detail:      fmt.Sprintf("internal error: %v", err)}
}

// notFound is a call to a route or webservice that is not there.
func notFound(description string) *callError {
	return &callError{status: http.StatusNotFound, code: "not_found", outcome: outcomeNotFound, description: description}
}

// tooLarge is a call whose body is over the limit.
func tooLarge(description string) *callError {
	return &callError{status: http.StatusRequestEntityTooLarge, code: "too_large", outcome: outcomeTooLarge, description: description}
}

// clientGone is a call whose caller went away while it was served.
func clientGone(err error) *callError {
	return &callError{status: statusClientGone, outcome: outcomeClientGone, detail: "the caller went away: " + err.Error()}
}

// badGateway is a call whose upstream or endpoint did not answer; where
// is for the debugger and the log.
func badGateway(what, detail string, err error) *callError {
	return (&callError{status: http.StatusBadGateway, code: "bad_gateway", outcome: outcomeUpstreamError, detail: detail,
		description: "The " + what + " did not answer; the debugger and the log have the details under the request id."}).
		logged(what+" failed", err)
}

// refusal is the answer to a token that was refused or could not be
// judged: the HTTP meaning comes from the reason's row in validate's
// table (validate.Reason.HTTP), the RFC 6750 challenge from the result.
// The caller learns the error code and the generic description, never
// the result's Message, which names the profile, the key set and its key
// ids, the restrictions: that is the detail, for the debugger and the log.
func refusal(res *validate.Result) *callError {
	a := res.Reason.HTTP()
	e := &callError{status: a.Status, code: a.Error, description: a.Description,
		detailOf: res, outcome: outcomeRefused, verdict: verdictRefused, refused: res.Reason}
	if a.Judged() {
		e.with("WWW-Authenticate", res.WWWAuthenticate())
		e.logMsg, e.logLevel = "token refused", slog.LevelInfo
		e.logResult = res
	} else {
		e.outcome, e.verdict = outcomeUnavailable, verdictError
		e.logged("cannot judge a token", fmt.Errorf("%s: %s", res.Reason, res.Message))
	}
	return e
}
