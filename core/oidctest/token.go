package oidctest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// maxTokenRequest bounds a token request body.
const maxTokenRequest = 1 << 20

// serveToken records a token request and answers it: through the token
// middleware if any, with the password grant for grant_type=password and
// with the example provider otherwise.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequest))
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "cannot read request body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	// Parse a copy, so that the request reaches the handlers unparsed and
	// with its body intact.
	parsed := r.Clone(r.Context())
	parsed.Body = io.NopCloser(bytes.NewReader(body))
	if err := parsed.ParseForm(); err != nil {
		parsed.Form = r.URL.Query()
	}

	p.mu.Lock()
	p.tokenRequests = append(p.tokenRequests, cloneValues(parsed.Form))
	mw := p.tokenMW
	p.mu.Unlock()

	var grants http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ok := p.verifyClientCredentialsAssertion(w, r, parsed.Form)
		if !ok {
			return
		}
		if parsed.Form.Get("grant_type") == string(grantTypePassword) {
			p.passwordGrant(w, r)
			return
		}
		p.router.ServeHTTP(w, r)
	})
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.serveDPoP(w, r, grants) {
			grants.ServeHTTP(w, r)
		}
	})
	if mw != nil {
		h = mw(h)
	}
	h.ServeHTTP(w, r)
}

// serveRevoke records a revocation request and answers it: with the
// refusal of [Provider.RefuseAccessTokenRevocation] for an access token (a
// JWT) when one is set, with the example provider otherwise.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequest))
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "cannot read request body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil {
		form = url.Values{}
	}
	p.mu.Lock()
	p.revokeRequests = append(p.revokeRequests, cloneValues(form))
	refusal := p.accessRevocationRefusal
	p.mu.Unlock()
	if refusal.status != 0 && strings.Count(form.Get("token"), ".") == 2 {
		writeOAuthError(w, refusal.status, refusal.code, "refused by oidctest for access tokens")
		return
	}
	p.router.ServeHTTP(w, r)
}

// tokenCreator gives op's token functions the storage and crypto.
type tokenCreator struct {
	storage op.Storage
	crypto  op.Crypto
}

func (c tokenCreator) Storage() op.Storage { return c.storage }
func (c tokenCreator) Crypto() op.Crypto   { return c.crypto }

// passwordGrant answers a resource owner password credentials request
// (RFC 6749, section 4.3), which zitadel does not implement, with tokens
// made by op's own token functions from the example storage: a JWT access
// token signed with the JWKS key, an ID token for scope openid and a
// refresh token, usable at the real token endpoint, for scope
// offline_access.
func (p *Provider) passwordGrant(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "the token endpoint takes POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "cannot parse form")
		return
	}
	form := r.PostForm

	clientID, secret, basic := r.BasicAuth()
	if basic {
		if form.Has("client_secret") {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "client authentication must not use more than one method")
			return
		}
		// RFC 6749, section 2.3.1: the credentials are form-encoded.
		var err1, err2 error
		clientID, err1 = url.QueryUnescape(clientID)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "invalid basic auth header")
			return
		}
	} else {
		clientID, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if clientID == "" {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication required")
		return
	}
	c, err := p.store.authenticateClient(r.Context(), clientID, secret)
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "invalid client_id / client_secret")
		return
	}
	if !op.ValidateGrantType(c, grantTypePassword) {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", "client may not use the password grant")
		return
	}

	username, password := form.Get("username"), form.Get("password")
	if username == "" || password == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "username and password are required")
		return
	}
	user, err := p.store.checkUser(username, password)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}

	// An authorization request, as if the user had logged in: the example
	// storage then records the tokens under this client and user, and op
	// issues a refresh token for offline_access as in the code flow.
	scopes := strings.Fields(form.Get("scope"))
	req := &storage.AuthRequest{
		ID:            "password-" + uuid.NewString(),
		CreationDate:  time.Now(),
		ApplicationID: c.GetID(),
		UserID:        user.ID,
		Scopes:        scopes,
		ResponseType:  oidc.ResponseTypeCode,
	}
	ctx := op.ContextWithIssuer(r.Context(), p.Issuer)
	// The same crypto as the example provider's, so that its token
	// endpoint takes the refresh tokens issued here.
	//lint:ignore SA1019 the example provider still encrypts with AES-CFB.
	creator := tokenCreator{storage: p.store, crypto: op.NewAESCrypto(cryptoKey)}
	resp, err := op.CreateTokenResponse(ctx, req, c, creator, true, "", "")
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		resp.IDToken = ""
	}
	writeJSON(w, http.StatusOK, resp)
}

// writeOAuthError writes an RFC 6749 (section 5.2) error response.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
