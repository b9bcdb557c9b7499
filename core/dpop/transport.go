package dpop

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Transport is an http.RoundTripper that sends every request with a
// fresh DPoP proof of Key, and with Token as "Authorization: DPoP" when
// set (the proof then carries its ath). It remembers the last
// DPoP-Nonce each server sent, and answers a use_dpop_nonce refusal (a
// token endpoint's 400 error, RFC 9449 section 8, or a resource server's
// 401 challenge, section 9) by sending the request once more with the new
// nonce. Use it by pointer; it is safe for concurrent use.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	Key  *Key
	// Token is the access token of resource requests; "" for token
	// requests.
	Token string
	// Now is the clock of the proofs; nil means time.Now.
	Now func() time.Time
	// Nonces keeps the servers' last nonces; nil means a memory of the
	// Transport's own. Share one between Transports made per call.
	Nonces *NonceMemory

	own NonceMemory
}

// NonceMemory keeps the last DPoP-Nonce of each server (by origin,
// scheme://host:port), at most 1,000 of them. The zero value is ready;
// it is safe for concurrent use.
type NonceMemory struct {
	mu     sync.Mutex
	nonces map[string]string
}

func (m *NonceMemory) get(origin string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nonces[origin]
}

func (m *NonceMemory) set(origin, nonce string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nonces == nil || len(m.nonces) >= 1000 {
		m.nonces = map[string]string{}
	}
	m.nonces[origin] = nonce
}

// maxErrorBody bounds the error body read for use_dpop_nonce.
const maxErrorBody = 64 << 10

// RoundTrip sends req with a proof; see Transport.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	sent := t.nonce(origin)
	resp, err := t.send(req, sent)
	if err != nil {
		return nil, err
	}
	fresh := resp.Header.Get("DPoP-Nonce")
	if fresh != "" {
		t.setNonce(origin, fresh)
	}
	if fresh == "" || fresh == sent || !wantsNonce(resp) {
		return resp, nil
	}
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil // cannot send the body again
		}
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		req = req.Clone(req.Context())
		req.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp, err = t.send(req, fresh)
	if err != nil {
		return nil, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		t.setNonce(origin, n)
	}
	return resp, nil
}

// send sends a copy of req with a proof carrying nonce.
func (t *Transport) send(req *http.Request, nonce string) (*http.Response, error) {
	if t.Key == nil {
		return nil, errors.New("dpop: Transport without a Key")
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	proof, err := t.Key.Proof(req.Method, req.URL.String(), ProofOptions{AccessToken: t.Token, Nonce: nonce, Now: now})
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", proof)
	if t.Token != "" {
		r.Header.Set("Authorization", "DPoP "+t.Token)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

func (t *Transport) memory() *NonceMemory {
	if t.Nonces != nil {
		return t.Nonces
	}
	return &t.own
}

func (t *Transport) nonce(origin string) string { return t.memory().get(origin) }

func (t *Transport) setNonce(origin, nonce string) { t.memory().set(origin, nonce) }

// wantsNonce reports whether an answer is a use_dpop_nonce refusal: a
// 401 whose challenge says so, or a 400 whose JSON error does (the body
// is read and put back).
func wantsNonce(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, ch := range resp.Header.Values("WWW-Authenticate") {
			if strings.Contains(ch, `error="use_dpop_nonce"`) {
				return true
			}
		}
	case http.StatusBadRequest:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return false
		}
		var e struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(body, &e) == nil && e.Error == CodeUseNonce
	}
	return false
}
