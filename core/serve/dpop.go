package serve

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"oidcctl/core"
	"oidcctl/core/dpop"
	"oidcctl/core/validate"
)

// DPoP (RFC 9449) for incoming tokens.
//
// A profile's DPoP setting decides (core.Profile.DPoP):
//
//   - off (the default): "Authorization: DPoP" is not read, as before:
//     the call has no token;
//   - allow: a token comes as Bearer or as DPoP with a proof;
//   - require: only DPoP with a proof; a Bearer token is refused.
//
// Whatever the setting, a token bound to a key (cnf.jkt) that comes as
// Bearer is refused: whoever presents it has not shown the key.
//
// The proof is checked against the method and URL of the original
// request: for a provider webservice, the request serve received (http
// or https as served, the Host header, the path); for forward-auth, what
// the proxy says it received: the method of X-Forwarded-Method or
// X-Original-Method, and X-Original-URL when it is absolute, else
// X-Forwarded-Proto, X-Forwarded-Host and the path of X-Forwarded-Uri or
// X-Original-URI (the README has the proxy settings). Refusals answer
// 401 with `WWW-Authenticate: DPoP error="invalid_dpop_proof"` (or
// use_dpop_nonce) and, for a profile with DPoPNonce, a fresh DPoP-Nonce.

// sendDPoP sends a requester call with the account's DPoP-bound token:
// "Authorization: DPoP", a fresh proof of the account's key, and one
// more try with the endpoint's nonce when it asks for one.
func (s *Server) sendDPoP(req *http.Request, acc core.Account, token string) (*http.Response, error) {
	key, err := s.dpop.accountKey(acc)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "DPoP "+token)
	client := *s.client
	client.Transport = &dpop.Transport{Base: s.transport, Key: key, Token: token, Now: s.now, Nonces: &s.dpop.outNonces}
	return client.Do(req)
}

// socketProof is the proof that a token socket caller asks for with
// ?dpop_method=M&dpop_url=U; "" when it asks for none.
func (s *Server) socketProof(r *http.Request, acc core.Account, token string) (string, error) {
	q := r.URL.Query()
	method, u := strings.ToUpper(strings.TrimSpace(q.Get("dpop_method"))), q.Get("dpop_url")
	if method == "" && u == "" {
		return "", nil
	}
	if method == "" || u == "" {
		return "", fmt.Errorf("a DPoP proof needs both dpop_method and dpop_url")
	}
	if !acc.DPoP {
		return "", fmt.Errorf("account %s does not use DPoP", acc.Name)
	}
	key, err := s.dpop.accountKey(acc)
	if err != nil {
		return "", err
	}
	return key.Proof(method, u, dpop.ProofOptions{AccessToken: token, Now: s.now()})
}

// accountKey returns an account's DPoP key, parsed once per stored key.
func (g *dpopGuard) accountKey(acc core.Account) (*dpop.Key, error) {
	stored := acc.DPoPKey.Reveal()
	if k, ok := g.keys.Load(stored); ok {
		return k.(*dpop.Key), nil
	}
	if stored == "" {
		return nil, fmt.Errorf("account %s uses DPoP but has no DPoP key: edit the account to make one", acc.Name)
	}
	k, err := dpop.ParseStored(stored)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", acc.Name, err)
	}
	g.keys.Store(stored, k)
	return k, nil
}

// dpopGuard verifies proofs: one Verifier without nonces and one with,
// sharing the jti replay check (replay.go).
type dpopGuard struct {
	plain, nonced *dpop.Verifier
	nonces        *dpop.Nonces
	replay        *replayCheck
	// For requester webservices: the endpoints' nonces, and the accounts'
	// keys by their stored form (a key that changes is a new entry; the
	// few stale ones stay until serve restarts).
	outNonces dpop.NonceMemory
	keys      sync.Map
}

// newDPoPGuard makes the guard; nonceKey, when set, is the key of its
// nonces (Config.NonceKey), else a random one of the process.
func newDPoPGuard(now func() time.Time, nonceKey []byte) (*dpopGuard, error) {
	var (
		nonces *dpop.Nonces
		err    error
	)
	if nonceKey != nil {
		nonces, err = dpop.NewNoncesWithKey(nonceKey, 0)
	} else {
		nonces, err = dpop.NewNonces(0)
	}
	if err != nil {
		return nil, err
	}
	replay := &replayCheck{mem: &dpop.ReplayCache{}}
	return &dpopGuard{
		plain:  dpop.NewVerifier(dpop.Config{Now: now, Replay: replay}),
		nonced: dpop.NewVerifier(dpop.Config{Now: now, Replay: replay, Nonces: nonces}),
		nonces: nonces,
		replay: replay,
	}, nil
}

// dpopAlgs is the algs of the DPoP challenge.
const dpopAlgs = "ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA"

// authorization reads the Authorization header: the token and whether it
// came as DPoP. With the profile's DPoP off, a DPoP token is not read
// (as before DPoP existed); errTwoAuthorizations for several headers.
func authorization(r *http.Request, mode core.DPoPMode) (token string, isDPoP bool, err error) {
	if !mode.Accepts() {
		token, err = bearerToken(r)
		return token, false, err
	}
	vs := r.Header[headerAuthorization]
	if len(vs) > 1 {
		return "", false, errTwoAuthorizations
	}
	if len(vs) == 1 {
		scheme, rest, ok := strings.Cut(strings.TrimSpace(vs[0]), " ")
		if ok && strings.EqualFold(scheme, "DPoP") {
			return strings.TrimSpace(rest), true, nil
		}
	}
	token, err = bearerToken(r)
	return token, false, err
}

// dpopRequest is what a call's proof is checked against.
type dpopRequest struct {
	method, url string
	problem     string // why the URL is not known (forward-auth without the proxy's headers)
}

// providerRequest is the original request of a provider webservice call.
func providerRequest(r *http.Request) dpopRequest {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return dpopRequest{method: r.Method, url: scheme + "://" + r.Host + r.URL.EscapedPath()}
}

// forwardedRequest is the original request of a forward-auth call, as
// the proxy names it: X-Forwarded-Proto and X-Forwarded-Host with the
// path, which Traefik and Caddy set themselves (over the caller's); an
// absolute X-Original-URL only when they are absent. Traefik and Caddy
// pass the caller's other headers on to forward-auth, so a caller's
// X-Original-URL must not win over what the proxy set.
func forwardedRequest(r *http.Request, method, path string) dpopRequest {
	proto := firstValue(r.Header.Get("X-Forwarded-Proto"))
	host := firstValue(r.Header.Get("X-Forwarded-Host"))
	if proto != "" && host != "" {
		return dpopRequest{method: method, url: proto + "://" + host + path}
	}
	if u := r.Header.Get("X-Original-Url"); strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return dpopRequest{method: method, url: u}
	}
	return dpopRequest{method: method, problem: "the proxy sent no X-Forwarded-Proto and X-Forwarded-Host (nor an absolute X-Original-URL), " +
		"so the URL the DPoP proof must name is unknown: configure the proxy to send them (see the README, DPoP)"}
}

// firstValue is the first of a comma-separated header value.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// checkDPoP applies the profile's DPoP setting to a call whose token was
// accepted; nil lets it pass.
func (s *Server) checkDPoP(c *call, p core.Profile, res *validate.Result, token string, isDPoP bool, req dpopRequest) *callError {
	switch {
	case !isDPoP && res.JKT != "":
		scheme := "Bearer"
		if p.DPoP.Accepts() {
			scheme = "DPoP"
		}
		return dpopRefusal(scheme, "invalid_token", reasonBoundAsBearer,
			"The token is bound to a DPoP key (cnf.jkt) but came as a Bearer token without a proof: send it as Authorization: DPoP with a DPoP proof.", "")
	case !isDPoP && p.DPoP == core.DPoPRequire:
		return s.dpopFailure(p, &dpop.Error{Code: dpop.CodeInvalidProof, Reason: dpop.ReasonMissing,
			Message: fmt.Sprintf("profile %q requires DPoP: send the token as Authorization: DPoP with a DPoP proof, not as Bearer", p.Name)})
	case !isDPoP:
		return nil
	}
	c.secrets = append(c.secrets, c.r.Header.Values("DPoP")...)
	if req.problem != "" {
		e := s.dpopFailure(p, &dpop.Error{Code: dpop.CodeInvalidProof, Reason: dpop.ReasonURL, Message: req.problem})
		return e.logged("forward-auth cannot check DPoP", fmt.Errorf("%s", req.problem))
	}
	v := s.dpop.plain
	if p.DPoPNonce {
		v = s.dpop.nonced
	}
	if _, err := v.VerifyContext(c.r.Context(), dpop.Request{Proofs: c.r.Header.Values("DPoP"), Method: req.method, URL: req.url,
		AccessToken: token, BoundTo: res.JKT}); err != nil {
		de, ok := err.(*dpop.Error)
		if !ok {
			de = &dpop.Error{Code: dpop.CodeInvalidProof, Reason: dpop.ReasonMalformed, Message: err.Error()}
		}
		return s.dpopFailure(p, de)
	}
	if p.DPoPNonce {
		// A fresh nonce with every answer keeps the client's from going stale.
		c.w.Header().Set("DPoP-Nonce", s.dpop.nonces.Issue(s.now()))
	}
	return nil
}

// dpopFailure is the answer to a refused proof: 401 with the DPoP
// challenge, and a fresh nonce for a profile with DPoPNonce.
func (s *Server) dpopFailure(p core.Profile, de *dpop.Error) *callError {
	nonce := ""
	if p.DPoPNonce {
		nonce = s.dpop.nonces.Issue(s.now())
	}
	description := "The DPoP proof is missing or invalid."
	if de.Code == dpop.CodeUseNonce {
		description = "Use the DPoP-Nonce of this answer in the DPoP proof."
	}
	return dpopRefusal("DPoP", de.Code, "dpop_"+string(de.Reason), description+" ", nonce).withDetail(de.Message)
}

// reasonBoundAsBearer: a DPoP-bound token sent as Bearer.
const reasonBoundAsBearer = "dpop_bound_token_as_bearer"

// dpopRefusalReasons are the reasons of DPoP refusals, for the metrics:
// "dpop_" and package dpop's reason, and reasonBoundAsBearer.
func dpopRefusalReasons() []validate.Reason {
	out := []validate.Reason{reasonBoundAsBearer}
	for _, r := range dpop.Reasons() {
		out = append(out, validate.Reason("dpop_"+string(r)))
	}
	return out
}

// dpopRefusal is a 401 answer with a DPoP (or Bearer) challenge; reason
// is the debugger's and the metrics'.
func dpopRefusal(scheme, code, reason, description, nonce string) *callError {
	description = strings.TrimSpace(description)
	challenge := fmt.Sprintf(`%s error="%s", error_description="%s"`, scheme, code, validate.HeaderSafe(description, 400))
	if scheme == "DPoP" {
		challenge += `, algs="` + dpopAlgs + `"`
	}
	e := &callError{status: http.StatusUnauthorized, code: code, description: description,
		detail: reason + ": " + description, outcome: outcomeRefused, verdict: verdictRefused, refused: validate.Reason(reason),
		logMsg: "token refused", logLevel: slog.LevelInfo, logAttrs: []any{"reason", reason}}
	e.with("WWW-Authenticate", challenge)
	if nonce != "" {
		e.with("DPoP-Nonce", nonce)
	}
	return e
}

// withDetail sets the detail (debugger and log) of a refusal after its
// reason.
func (e *callError) withDetail(msg string) *callError {
	e.detail = string(e.refused) + ": " + msg
	e.logAttrs = append(e.logAttrs, "detail", msg)
	return e
}

// dpopChallenge turns the challenge of a token refusal into DPoP's when
// the token came as DPoP or the profile requires it (RFC 9449 section
// 7.1), with a nonce where the profile uses them.
func (s *Server) dpopChallenge(c *call, e *callError, p core.Profile, isDPoP bool) *callError {
	if !isDPoP && p.DPoP != core.DPoPRequire {
		return e
	}
	c.secrets = append(c.secrets, c.r.Header.Values("DPoP")...)
	if ch := e.headerValue(wwwAuthenticate); strings.HasPrefix(ch, "Bearer") {
		e.with("WWW-Authenticate", "DPoP"+strings.TrimPrefix(ch, "Bearer")+sep(ch)+`algs="`+dpopAlgs+`"`)
	}
	if p.DPoPNonce {
		e.with("DPoP-Nonce", s.dpop.nonces.Issue(s.now()))
	}
	return e
}

func sep(challenge string) string {
	if challenge == "Bearer" {
		return " "
	}
	return ", "
}
