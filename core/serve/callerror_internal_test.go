package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/validate"
)

// answer turns every error a handler returns into the answer, the
// outcome label, the debugger's verdict and reason, and a log line. The
// caller gets the code and a generic description; the detail goes to the
// debugger and the log only.
func TestAnswer(t *testing.T) {
	acc := core.NewAccount("billing", "op")
	credentialAnswer := "This call needs an invoke credential issued for this webservice in the " + core.CredentialHeader + " header."
	for _, tt := range []struct {
		name   string
		err    error
		status int
		// body is the whole answer; "" for none.
		body            string
		header          map[string]string
		outcome         string
		verdict, reason string
		log             string // a part of the one log line; "" for none
	}{
		{
			name: "not found", err: notFound(`no provider webservice "x"`), status: 404,
			body:    `{"error":"not_found","error_description":"no provider webservice \"x\"","request_id":"req-1"}`,
			outcome: outcomeNotFound, reason: `no provider webservice "x"`,
		},
		{
			name: "method not allowed", status: 405,
			err: (&callError{status: 405, code: "method_not_allowed", outcome: outcomeMethodNotAllowed,
				description: `webservice "echo" sends POST, not GET`}).with("Allow", "POST"),
			body:    `{"error":"method_not_allowed","error_description":"webservice \"echo\" sends POST, not GET","request_id":"req-1"}`,
			header:  map[string]string{"Allow": "POST"},
			outcome: outcomeMethodNotAllowed, reason: `webservice "echo" sends POST, not GET`,
		},
		{
			name: "too large", err: tooLarge("the body is 20 bytes, more than the limit of 10"), status: 413,
			body:    `{"error":"too_large","error_description":"the body is 20 bytes, more than the limit of 10","request_id":"req-1"}`,
			outcome: outcomeTooLarge, reason: "the body is 20 bytes, more than the limit of 10",
		},
		{
			name: "client gone", err: clientGone(errors.New("context canceled")), status: 499,
			outcome: outcomeClientGone, reason: "the caller went away: context canceled",
		},
		{
			name: "endpoint down", err: badGateway("endpoint", "endpoint http://10.0.0.1/api: connection refused", errors.New("connection refused")), status: 502,
			body:    `{"error":"bad_gateway","error_description":"The endpoint did not answer; the debugger and the log have the details under the request id.","request_id":"req-1"}`,
			outcome: outcomeUpstreamError, reason: "endpoint http://10.0.0.1/api: connection refused",
			log: `"level":"WARN","msg":"endpoint failed","webservice":"echo","request_id":"req-1","method":"GET","path":"/invoke/echo","err":"connection refused"`,
		},
		{
			name: "two authorizations", err: twoAuthorizations(), status: 400,
			body:    `{"error":"invalid_request","error_description":"The request is malformed: send exactly one Authorization header.","request_id":"req-1"}`,
			header:  map[string]string{"WWW-Authenticate": `Bearer error="invalid_request", error_description="The request is malformed: send exactly one Authorization header."`},
			outcome: outcomeBadRequest, verdict: verdictRefused,
			reason: "invalid_request: " + errTwoAuthorizations.Error() + "; the request is refused rather than one of them picked",
			log:    `"level":"INFO","msg":"request refused"`,
		},
		{
			name: "no credential", status: 401,
			err:     credentialRefusal(401, "credential_required", `webservice "echo" makes calls with the token of account "billing"`),
			body:    `{"error":"credential_required","error_description":"` + credentialAnswer + `","request_id":"req-1"}`,
			header:  map[string]string{"WWW-Authenticate": `OidcctlCredential header="` + core.CredentialHeader + `"`},
			outcome: outcomeRefused, verdict: verdictRefused, reason: `webservice "echo" makes calls with the token of account "billing"`,
		},
		{
			name: "credential of another webservice", status: 403,
			err:     credentialRefusal(403, "wrong_credential", `the credential "ci" is for webservice "other", not "echo"`),
			body:    `{"error":"wrong_credential","error_description":"The invoke credential is not one of this webservice.","request_id":"req-1"}`,
			outcome: outcomeRefused, verdict: verdictRefused, reason: `the credential "ci" is for webservice "other", not "echo"`,
		},
		{
			name: "no token", err: noToken(acc, errors.New("invalid_client")), status: 502,
			body:    `{"error":"no_token","error_description":"` + noTokenDescription + `","request_id":"req-1"}`,
			outcome: outcomeNoToken, verdict: verdictError, reason: `no valid token for account "billing": invalid_client`,
			log: `"msg":"no token for a requester call; not sent"`,
		},
		{
			name: "token refused", status: 401,
			err:     refusal(&validate.Result{Reason: validate.ReasonExpired, Message: "the token expired at 12:00 (profile op)", Profile: "op"}),
			body:    `{"error":"invalid_token","error_description":"The access token is not valid.","request_id":"req-1"}`,
			header:  map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="The access token is not valid."`},
			outcome: outcomeRefused, verdict: verdictRefused, reason: "expired: the token expired at 12:00 (profile op)",
			log: `"level":"INFO","msg":"token refused","webservice":"echo","request_id":"req-1","method":"GET","path":"/invoke/echo","profile":"op","reason":"expired","detail":"the token expired at 12:00 (profile op)"`,
		},
		{
			name: "no token at all", status: 401,
			err:     refusal(&validate.Result{Reason: validate.ReasonMissing, Message: "no bearer token"}),
			body:    `{"error":"invalid_request","error_description":"No bearer token: send the access token as Authorization: Bearer \u003ctoken\u003e.","request_id":"req-1"}`,
			header:  map[string]string{"WWW-Authenticate": "Bearer"},
			outcome: outcomeRefused, verdict: verdictRefused, reason: "missing: no bearer token",
			log: `"msg":"token refused"`,
		},
		{
			name: "scope missing", status: 403,
			err:     refusal(&validate.Result{Reason: validate.ReasonScopeMissing, Message: "scope tickets.write missing"}),
			body:    `{"error":"insufficient_scope","error_description":"The access token does not grant access to this resource.","request_id":"req-1"}`,
			header:  map[string]string{"WWW-Authenticate": `Bearer error="insufficient_scope", error_description="The access token does not grant access to this resource."`},
			outcome: outcomeRefused, verdict: verdictRefused, reason: "scope_missing: scope tickets.write missing",
			log: `"msg":"token refused"`,
		},
		{
			name: "keys unavailable", status: 503,
			err:     refusal(&validate.Result{Reason: validate.ReasonKeysUnavailable, Message: "the JWKS of op cannot be fetched"}),
			body:    `{"error":"temporarily_unavailable","error_description":"The token cannot be checked right now; try again later.","request_id":"req-1"}`,
			header:  map[string]string{"WWW-Authenticate": ""},
			outcome: outcomeUnavailable, verdict: verdictError, reason: "keys_unavailable: the JWKS of op cannot be fetched",
			log: `"level":"WARN","msg":"cannot judge a token"`,
		},
		{
			name: "user store failed", status: 500,
			err:     refusal(&validate.Result{Reason: validate.ReasonUserStoreError, Message: "database is locked"}),
			body:    `{"error":"server_error","error_description":"The token cannot be checked because of a server error.","request_id":"req-1"}`,
			outcome: outcomeUnavailable, verdict: verdictError, reason: "user_store_error: database is locked",
			log: `"msg":"cannot judge a token"`,
		},
		{
			name: "not a callError", err: errors.New("boom"), status: 500,
			body:    `{"error":"server_error","error_description":"oidcctl failed to serve this request; the log has the details under request id req-1","request_id":"req-1"}`,
			outcome: outcomeError, verdict: verdictError, reason: "internal error: boom",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := bareServer(&logs)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/invoke/echo", nil)
			c := &call{s: s, w: &responseWriter{ResponseWriter: rec}, r: req, id: "req-1", webservice: "echo"}
			c.answer(tt.err)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if got := strings.TrimSuffix(rec.Body.String(), "\n"); got != tt.body {
				t.Errorf("body\n%s\nwant\n%s", got, tt.body)
			}
			if tt.body != "" && (rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store") {
				t.Errorf("headers %v", rec.Header())
			}
			for k, v := range tt.header {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if c.outcome != tt.outcome || c.verdict != tt.verdict || c.reasonText() != tt.reason {
				t.Errorf("outcome %q verdict %q reason %q, want %q %q %q", c.outcome, c.verdict, c.reasonText(), tt.outcome, tt.verdict, tt.reason)
			}
			switch lines := strings.Split(strings.TrimSpace(logs.String()), "\n"); {
			case tt.log == "" && logs.Len() > 0:
				t.Errorf("logged %s", logs.String())
			case tt.log != "" && (len(lines) != 1 || !strings.Contains(lines[0], tt.log)):
				t.Errorf("log\n%s\nwant one line with\n%s", logs.String(), tt.log)
			}
			if tt.body != "" {
				var b map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || strings.Contains(b["error_description"], "profile op") {
					t.Errorf("the caller learns the detail, or no JSON: %v", err)
				}
			}
		})
	}
}

// A call that was answered already (the proxy started the answer) is
// only noted: nothing is written over it.
func TestAnswerAfterTheAnswerStarted(t *testing.T) {
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	c := &call{s: bareServer(&logs), w: &responseWriter{ResponseWriter: rec}, r: httptest.NewRequest("GET", "/ws/x", nil), id: "req-1"}
	c.w.WriteHeader(http.StatusAccepted)
	c.answer(clientGone(errors.New("context canceled")))
	if rec.Code != http.StatusAccepted || rec.Body.Len() != 0 || c.outcome != outcomeClientGone {
		t.Fatalf("%d %q outcome %q", rec.Code, rec.Body, c.outcome)
	}
}
