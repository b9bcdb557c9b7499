package oidctest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// KeyClientID is a confidential client that authenticates by
// private_key_jwt only (RFC 7523 client assertions, aud = the issuer, as
// zitadel wants): authorization_code, refresh_token, device_code and
// client_credentials. Register its public keys with
// [Provider.RegisterClientKeys].
const KeyClientID = "keyclient"

// assertedClient is the context key under which serveToken passes on the
// client id of a verified client assertion of a client_credentials
// request.
type assertedClient struct{}

// RegisterClientKeys registers the public keys of a JWKS (JSON, as
// `oidcctl profile keygen` prints it) for clientID, as an administrator
// registers them at a provider; keys with the same kid are replaced.
func (p *Provider) RegisterClientKeys(clientID string, jwks []byte) error {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return fmt.Errorf("oidctest: client keys: %w", err)
	}
	if len(set.Keys) == 0 {
		return errors.New("oidctest: client keys: the set is empty")
	}
	s := p.store
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	if s.clientKeys == nil {
		s.clientKeys = map[string]map[string]jose.JSONWebKey{}
	}
	if s.clientKeys[clientID] == nil {
		s.clientKeys[clientID] = map[string]jose.JSONWebKey{}
	}
	for _, k := range set.Keys {
		if k.KeyID == "" || !k.IsPublic() {
			return fmt.Errorf("oidctest: client key %q: want a public key with a kid", k.KeyID)
		}
		s.clientKeys[clientID][k.KeyID] = k
	}
	return nil
}

// RemoveClientKey forgets a registered key, as an administrator removes
// a retired key at the provider.
func (p *Provider) RemoveClientKey(clientID, kid string) {
	s := p.store
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	delete(s.clientKeys[clientID], kid)
}

// GetKeyByIDAndClientID returns a key registered with RegisterClientKeys,
// else the example storage's (its service user's).
func (s *store) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	s.keysMu.Lock()
	k, ok := s.clientKeys[clientID][keyID]
	s.keysMu.Unlock()
	if ok {
		return &k, nil
	}
	if _, ours := s.clients[clientID]; ours {
		return nil, fmt.Errorf("key %q is not registered for client %q", keyID, clientID)
	}
	return s.Storage.GetKeyByIDAndClientID(ctx, keyID, clientID)
}

// verifyClientCredentialsAssertion checks the client assertion of a
// client_credentials request, which zitadel's client_credentials path
// never looks at (it calls ClientCredentials with id and secret only). A
// request without an assertion passes unchanged; a good one passes with
// the client id in its context; a bad one is answered 401 invalid_client.
func (p *Provider) verifyClientCredentialsAssertion(w http.ResponseWriter, r *http.Request, form url.Values) (*http.Request, bool) {
	assertion := form.Get("client_assertion")
	if form.Get("grant_type") != string(oidc.GrantTypeClientCredentials) || assertion == "" {
		return r, true
	}
	if form.Get("client_assertion_type") != oidc.ClientAssertionTypeJWTAssertion {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "invalid client_assertion_type")
		return nil, false
	}
	// As zitadel's own provider verifies assertions at the other endpoints.
	v := op.NewJWTProfileVerifier(p.store, p.Issuer, time.Hour, time.Second)
	req, err := op.VerifyJWTAssertion(r.Context(), assertion, v)
	if err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "JWT assertion failed: "+err.Error())
		return nil, false
	}
	if id := form.Get("client_id"); id != "" && id != req.Issuer {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client_id does not match the assertion")
		return nil, false
	}
	return r.WithContext(context.WithValue(r.Context(), assertedClient{}, req.Issuer)), true
}

// assertedKeyClient returns the private_key_jwt client whose assertion
// serveToken verified for this request.
func (s *store) assertedKeyClient(ctx context.Context, clientID string) (*client, bool) {
	id, ok := ctx.Value(assertedClient{}).(string)
	if !ok || (clientID != "" && clientID != id) {
		return nil, false
	}
	c, ok := s.clients[id]
	if !ok || c.AuthMethod() != oidc.AuthMethodPrivateKeyJWT {
		return nil, false
	}
	return c, true
}

// ClientCredentialsTokenRequest serves the private_key_jwt client, which
// the example storage does not know as a service user.
func (s *store) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	if c, ok := s.clients[clientID]; ok && c.AuthMethod() == oidc.AuthMethodPrivateKeyJWT {
		return &oidc.JWTTokenRequest{Subject: clientID, Audience: []string{clientID}, Scopes: scopes}, nil
	}
	return s.Storage.ClientCredentialsTokenRequest(ctx, clientID, scopes)
}
