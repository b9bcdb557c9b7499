package oidctest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"oidcctl/core/dpop"
)

// WithDPoP makes the token endpoint follow RFC 9449 (which zitadel does
// not implement): a token request with a DPoP header must carry a valid
// proof for POST at the token endpoint, and gets a JWT access token bound
// to the proof's key (cnf.jkt, signed with the provider's key) and
// token_type DPoP. With nonce, a proof without the provider's current
// nonce is refused with 400 use_dpop_nonce and a DPoP-Nonce header
// (section 8). Requests without a DPoP header get Bearer tokens as
// before.
func WithDPoP(nonce bool) Option {
	return func(c *config) { c.dpop, c.dpopNonce = true, nonce }
}

// dpopEndpoint is the token endpoint's DPoP side.
type dpopEndpoint struct {
	verifier   *dpop.Verifier
	nonces     *dpop.Nonces
	challenges atomic.Int64 // use_dpop_nonce answers
	bound      atomic.Int64 // DPoP-bound tokens issued
}

func newDPoPEndpoint(nonce bool) (*dpopEndpoint, error) {
	e := &dpopEndpoint{}
	cfg := dpop.Config{}
	if nonce {
		n, err := dpop.NewNonces(time.Minute)
		if err != nil {
			return nil, err
		}
		e.nonces, cfg.Nonces = n, n
	}
	e.verifier = dpop.NewVerifier(cfg)
	return e, nil
}

// DPoPStats returns how many use_dpop_nonce answers the token endpoint
// gave and how many DPoP-bound tokens it issued (WithDPoP).
func (p *Provider) DPoPStats() (nonceChallenges, boundTokens int64) {
	if p.dpop == nil {
		return 0, 0
	}
	return p.dpop.challenges.Load(), p.dpop.bound.Load()
}

// serveDPoP checks the proof of a token request and binds the tokens of
// next's answer to its key; it reports whether it answered.
func (p *Provider) serveDPoP(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	e := p.dpop
	if e == nil || len(r.Header.Values("DPoP")) == 0 {
		return false
	}
	proof, err := e.verifier.Verify(dpop.Request{Proofs: r.Header.Values("DPoP"), Method: r.Method, URL: p.TokenURL})
	if err != nil {
		var de *dpop.Error
		if errors.As(err, &de) && de.Code == dpop.CodeUseNonce {
			e.challenges.Add(1)
			w.Header().Set("DPoP-Nonce", e.nonces.Issue(time.Now()))
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": dpop.CodeUseNonce, "error_description": "Authorization server requires nonce in DPoP proof"})
			return true
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": dpop.CodeInvalidProof, "error_description": err.Error()})
		return true
	}
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var resp map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
		copyRecorded(w, rec)
		return true
	}
	at, _ := resp["access_token"].(string)
	claims, ok := jwtClaims(at)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "oidctest: DPoP needs a JWT access token"})
		return true
	}
	claims["cnf"] = map[string]any{"jkt": proof.Thumbprint}
	bound, err := p.SignJWT(claims)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": err.Error()})
		return true
	}
	resp["access_token"], resp["token_type"] = bound, "DPoP"
	e.bound.Add(1)
	if e.nonces != nil {
		w.Header().Set("DPoP-Nonce", e.nonces.Issue(time.Now()))
	}
	writeJSON(w, http.StatusOK, resp)
	return true
}

// jwtClaims decodes a JWT's claims without checking it (the provider's
// own token).
func jwtClaims(token string) (map[string]any, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c map[string]any
	return c, json.Unmarshal(b, &c) == nil
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
