package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"oidcctl/core"
	"oidcctl/core/serve/debuglog"
)

// hopHeaders are not passed on by a proxy (RFC 9110 §7.6.1).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// requester serves /invoke/NAME[/…]: the caller's request goes to the
// webservice's endpoint with the account's bearer token, when the caller
// may borrow that account's identity (see allowInvoke).
func (s *Server) requester(c *call) error {
	c.direction = core.DirectionOutgoing
	r := c.r
	name, rest, hasRest := strings.Cut(strings.TrimPrefix(r.URL.Path, "/invoke/"), "/")
	rt, ok := c.table.webservices[name]
	if !ok || rt.Kind != core.Requester {
		return notFound(fmt.Sprintf("no requester webservice %s", quotePath(name)))
	}
	c.webservice = name
	c.startCapture(rt.Debug)
	if err := s.allowInvoke(c, rt); err != nil {
		return err
	}
	if hasRest && (strings.Contains("/"+rest+"/", "/../") || strings.Contains("/"+rest+"/", "/./")) {
		return notFound("the path after the webservice must not contain . or .. segments")
	}
	if r.Method != rt.Method {
		return (&callError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", outcome: outcomeMethodNotAllowed,
			description: fmt.Sprintf("webservice %q sends %s, not %s", name, rt.Method, r.Method)}).with("Allow", rt.Method)
	}
	body, err := s.invokeBody(c)
	if err != nil {
		return err
	}
	target := *rt.endpoint
	if hasRest {
		target.Path = strings.TrimSuffix(target.Path, "/") + "/" + rest
		target.RawPath = ""
	}
	target.RawQuery = r.URL.RawQuery
	c.method, c.path = rt.Method, target.String()

	acc, ok := c.table.accounts[rt.Account]
	if !ok {
		err := fmt.Errorf("account %q of webservice %q does not exist", rt.Account, name)
		return (&callError{status: http.StatusBadGateway, code: "no_token", description: noTokenDescription, detail: err.Error(),
			outcome: outcomeNoToken, verdict: verdictError}).logged("webservice misconfigured", err)
	}
	resp, err := s.sendWithToken(c, rt, acc, &target, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	c.outcome = outcomeForwarded
	if c.verdict == "" {
		c.verdict = verdictAccepted
	}
	h := c.w.Header()
	for k, vs := range resp.Header {
		h[k] = append([]string(nil), vs...)
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	c.w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(c.w, resp.Body); err != nil && r.Context().Err() == nil {
		c.reason = "copying the answer failed: " + err.Error()
		c.logError("copying the endpoint's answer failed", err)
	}
	return nil
}

// invokeBody reads the body of a requester call whole, for a second
// attempt after a refresh, and keeps it for the debugger.
func (s *Server) invokeBody(c *call) ([]byte, error) {
	r := c.r
	limit := orDefault(s.cfg.MaxInvokeBodySize, DefaultMaxInvokeBodySize)
	if r.ContentLength > limit {
		return nil, tooLarge(fmt.Sprintf("the body is %d bytes, more than the limit of %d", r.ContentLength, limit))
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(c.w, r.Body, limit))
		var over *http.MaxBytesError
		switch {
		case errors.As(err, &over):
			return nil, tooLarge(fmt.Sprintf("the body is more than the limit of %d bytes", limit))
		case err != nil:
			return nil, &callError{status: http.StatusBadRequest, code: "invalid_request", outcome: outcomeBadRequest,
				description: "cannot read the request body: " + err.Error()}
		}
	}
	if c.capture != nil {
		c.capture.req.Write(body)
	}
	return body, nil
}

// sendWithToken sends the call to the endpoint with the account's token;
// when the endpoint answers 401 to it, with a fresh one, once more.
func (s *Server) sendWithToken(c *call, rt *route, acc core.Account, target *url.URL, body []byte) (*http.Response, error) {
	ctx := c.r.Context()
	set, err := s.tokens.Token(ctx, acc.Name)
	token := set.Token(acc.TokenType)
	if err != nil || !token.IsSet() {
		return nil, noToken(acc, err)
	}
	resp, err := s.send(c, rt, acc, target, body, token.Reveal())
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		// The endpoint does not take the token (revoked, or the provider
		// rotated its keys): a fresh one, and one more try.
		drain(resp)
		set, rerr := s.tokens.RefreshUnless(ctx, acc.Name, token.Reveal())
		token = set.Token(acc.TokenType)
		if rerr != nil || !token.IsSet() {
			if rerr == nil {
				rerr = fmt.Errorf("the provider gave no %s", acc.TokenType)
			}
			return nil, noToken(acc, fmt.Errorf("the endpoint answered 401 to the token, and refreshing it failed: %w", rerr))
		}
		c.reason = "the endpoint answered 401; the token was refreshed and the call sent again"
		resp, err = s.send(c, rt, acc, target, body, token.Reveal())
	}
	switch {
	case err == nil:
		return resp, nil
	case ctx.Err() != nil:
		return nil, clientGone(err)
	}
	return nil, badGateway("endpoint", fmt.Sprintf("endpoint %s: %v", rt.Endpoint, err), err)
}

// noTokenDescription is what the caller of a requester webservice learns
// when no token can be had; the account and the provider's error are for
// the debugger and the log.
const noTokenDescription = "No valid token for the webservice's account; the call was not sent. The debugger and the log have the details under the request id."

// allowInvoke decides whether the caller may use the requester
// webservice rt, that is, make calls with its account's token. A call
// that came through the token socket may: the socket's file permissions
// let only its owner (and a group the operator named) connect. Over TCP
// a caller must present, in core.CredentialHeader, an invoke credential
// issued for rt, unless Config.InvokeOpenOnTCP opens it to everyone.
// Otherwise it returns the refusal: 401 (no credential, or an unknown or
// revoked one) or 403 (a credential of another webservice). The
// credential is kept out of the debugger and never sent on.
func (s *Server) allowInvoke(c *call, rt *route) error {
	presented := c.r.Header.Values(core.CredentialHeader)
	if len(presented) > 0 {
		h := c.r.Header.Clone()
		h[http.CanonicalHeaderKey(core.CredentialHeader)] = []string{debuglog.Redacted}
		c.reqHeader = h
	}
	if who, ok := viaSocket(c.r); ok {
		c.user = who
		return nil
	}
	var sum []byte
	if len(presented) == 1 {
		sum = core.HashCredential(presented[0])
		for _, cred := range rt.credentials {
			if cred.MatchesHash(sum) {
				c.user = "credential:" + cred.Name
				return nil
			}
		}
	}
	if s.cfg.InvokeOpenOnTCP {
		return nil
	}
	switch {
	case len(presented) == 0:
		return credentialRefusal(http.StatusUnauthorized, "credential_required", fmt.Sprintf(
			"webservice %q makes calls with the token of account %q: present an invoke credential issued for it in the %s header "+
				"(oidcctl webservice credential add %s NAME), or call through the token socket", rt.Name, rt.Account, core.CredentialHeader, rt.Name))
	case len(presented) > 1:
		// Nothing to hide here: the caller sent them.
		return &callError{status: http.StatusUnauthorized, code: "invalid_credential", outcome: outcomeRefused, verdict: verdictRefused,
			description: fmt.Sprintf("more than one %s header", core.CredentialHeader)}
	}
	for _, other := range c.table.webservices {
		for _, cred := range other.credentials {
			if cred.MatchesHash(sum) {
				return credentialRefusal(http.StatusForbidden, "wrong_credential", fmt.Sprintf(
					"the credential %q is for webservice %q, not %q", cred.Name, cred.Webservice, rt.Name))
			}
		}
	}
	return credentialRefusal(http.StatusUnauthorized, "invalid_credential", fmt.Sprintf(
		"the %s is not a credential of webservice %q: mistyped, or revoked", core.CredentialHeader, rt.Name))
}

// credentialRefusal refuses a requester call for its credential. The
// caller learns the code and a generic sentence; which webservice,
// account or credential was involved (detail) is for the debugger and the
// log.
func credentialRefusal(status int, code, detail string) *callError {
	e := &callError{status: status, code: code, detail: detail, outcome: outcomeRefused, verdict: verdictRefused,
		description: "The invoke credential is not one of this webservice."}
	if status == http.StatusUnauthorized {
		e.description = "This call needs an invoke credential issued for this webservice in the " + core.CredentialHeader + " header."
		e.with("WWW-Authenticate", `OidcctlCredential header="`+core.CredentialHeader+`"`)
	}
	return e
}

// noToken is the answer to a requester call that has no token to go
// with: 502, and the call is not sent. err nil means the provider gave
// no token of the account's type.
func noToken(acc core.Account, err error) *callError {
	if err == nil {
		err = fmt.Errorf("the provider gave no %s", acc.TokenType)
	}
	return (&callError{status: http.StatusBadGateway, code: "no_token", description: noTokenDescription,
		detail: fmt.Sprintf("no valid token for account %q: %v", acc.Name, err), outcome: outcomeNoToken, verdict: verdictError}).
		logged("no token for a requester call; not sent", err)
}

// send sends the caller's request to the endpoint with a token.
func (s *Server) send(c *call, rt *route, acc core.Account, target *url.URL, body []byte, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(c.r.Context(), rt.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range c.r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	for _, k := range hopHeaders {
		req.Header.Del(k)
	}
	for _, k := range strings.Split(c.r.Header.Get("Connection"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			req.Header.Del(k)
		}
	}
	req.Header.Del("Cookie")
	req.Header.Del(core.CredentialHeader)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-Id", c.id)
	c.reqHeader = req.Header
	c.secrets = append(c.secrets, token)
	if acc.DPoP && acc.TokenType != core.TokenID {
		return s.sendDPoP(req, acc, token)
	}
	return s.client.Do(req)
}

// drain reads a little of a response body, so that the connection can be
// used again, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}
