package oidctest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// grantTypePassword is the resource owner password credentials grant
// (RFC 6749, section 4.3); zitadel has no constant for it.
const grantTypePassword oidc.GrantType = "password"

// loopbackRedirectGlobs lets the user-facing clients redirect to any port
// and path on the loopback interface, as a command-line tool's
// short-lived callback server needs.
var loopbackRedirectGlobs = []string{
	"http://127.0.0.1:*/**",
	"http://127.0.0.1/**",
	"http://localhost:*/**",
	"http://localhost/**",
}

// client adapts an example client: JWT access tokens, its own grant types,
// loopback redirect globs and any scope.
type client struct {
	*storage.Client
	grantTypes []oidc.GrantType // nil: those of the example client
	globs      []string
	authMethod oidc.AuthMethod // "": the example client's
}

// AuthMethod returns how the client authenticates.
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.authMethod != "" {
		return c.authMethod
	}
	return c.Client.AuthMethod()
}

var _ op.HasRedirectGlobs = (*client)(nil)

// AccessTokenType makes the provider issue JWT access tokens.
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// GrantTypes returns the grants the client may use.
func (c *client) GrantTypes() []oidc.GrantType {
	if c.grantTypes != nil {
		return c.grantTypes
	}
	return c.Client.GrantTypes()
}

// IsScopeAllowed accepts any scope, so that custom scopes reach the tokens.
func (c *client) IsScopeAllowed(string) bool { return true }

// RedirectURIGlobs implements op.HasRedirectGlobs.
func (c *client) RedirectURIGlobs() []string { return c.globs }

// PostLogoutRedirectURIGlobs implements op.HasRedirectGlobs.
func (c *client) PostLogoutRedirectURIGlobs() []string { return c.globs }

// store wraps the example storage. The example storage is used unchanged
// for everything not overridden here.
type store struct {
	*storage.Storage
	users     storage.UserStore
	clients   map[string]*client // the same ids as the example storage's map
	accessTTL time.Duration      // 0: the example storage's 5 minutes

	keysMu     sync.Mutex
	clientKeys map[string]map[string]jose.JSONWebKey // client id -> kid -> public key
}

// GetClientByClientID returns the wrapped client, so that the provider
// issues JWT access tokens and honours our grant types and redirect globs.
func (s *store) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	if c, ok := s.clients[clientID]; ok {
		return c, nil
	}
	return s.Storage.GetClientByClientID(ctx, clientID)
}

// ClientCredentials authenticates a client_credentials client (sid1) and
// wraps it so that its access tokens are JWTs.
func (s *store) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if c, ok := s.assertedKeyClient(ctx, clientID); ok && clientSecret == "" {
		return c, nil
	}
	c, err := s.Storage.ClientCredentials(ctx, clientID, clientSecret)
	if err != nil {
		return nil, err
	}
	if sc, ok := c.(*storage.Client); ok {
		return &client{Client: sc}, nil
	}
	return c, nil
}

// CreateAccessToken stores the token under the client it was issued to
// (the example storage only knows that for an authorization request) and
// applies the configured lifetime.
func (s *store) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, exp, err := s.Storage.CreateAccessToken(ctx, s.bookkeeping(req))
	if err != nil {
		return "", time.Time{}, err
	}
	return id, s.expiry(exp), nil
}

// CreateAccessAndRefreshTokens is CreateAccessToken with a refresh token.
func (s *store) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	id, refresh, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, s.bookkeeping(req), currentRefreshToken)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return id, refresh, s.expiry(exp), nil
}

func (s *store) expiry(exp time.Time) time.Time {
	if s.accessTTL > 0 {
		return time.Now().Add(s.accessTTL)
	}
	return exp
}

// bookkeeping translates token requests the example storage does not
// recognise into an authorization request, which it does: without this it
// records device-flow and client_credentials tokens (and device-flow
// refresh tokens) under an empty client id, so refreshing or revoking them
// fails. The token itself is still built from the original request.
func (s *store) bookkeeping(req op.TokenRequest) op.TokenRequest {
	switch r := req.(type) {
	case *op.DeviceAuthorizationState:
		return &storage.AuthRequest{
			ID:            "device",
			CreationDate:  time.Now(),
			ApplicationID: r.ClientID,
			UserID:        r.Subject,
			Scopes:        r.Scopes,
			ResponseType:  oidc.ResponseTypeCode,
		}
	case *oidc.JWTTokenRequest:
		if r.Subject == ServiceClientID || r.Subject == KeyClientID {
			return &storage.AuthRequest{
				ID:            "client_credentials",
				CreationDate:  time.Now(),
				ApplicationID: r.Subject,
				UserID:        r.Subject,
				Scopes:        r.Scopes,
			}
		}
	}
	return req
}

// GetPrivateClaimsFromRequest implements op.CanGetPrivateClaimsFromRequest:
// it adds the RFC 9068 "scope" claim to JWT access tokens.
func (s *store) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, restrictedScopes []string) (map[string]any, error) {
	var clientID string
	if c, ok := req.(interface{ GetClientID() string }); ok {
		clientID = c.GetClientID()
	}
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, req.GetSubject(), clientID, restrictedScopes)
	if err != nil {
		return nil, err
	}
	if scopes := req.GetScopes(); len(scopes) > 0 {
		if claims == nil {
			claims = make(map[string]any)
		}
		claims["scope"] = strings.Join(scopes, " ")
	}
	return claims, nil
}

// GetRefreshTokenInfo replaces the example storage's, which reads its map
// without taking its lock (a data race under -race).
func (s *store) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (userID, tokenID string, err error) {
	req, err := s.Storage.TokenRequestByRefreshToken(ctx, token)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	rt, ok := req.(*storage.RefreshTokenRequest)
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.UserID, rt.ID, nil
}

// CompleteDeviceAuthorization records the approving user's id as the
// subject. The example device login passes the user name, which the
// example storage then cannot find when it builds an ID token.
func (s *store) CompleteDeviceAuthorization(ctx context.Context, userCode, subject string) error {
	if u := s.users.GetUserByUsername(subject); u != nil {
		subject = u.ID
	}
	return s.Storage.CompleteDeviceAuthorization(ctx, userCode, subject)
}

// DenyDeviceAuthorization refuses an unknown user code instead of letting
// the example storage dereference a nil entry.
func (s *store) DenyDeviceAuthorization(ctx context.Context, userCode string) error {
	if _, err := s.Storage.GetDeviceAuthorizationByUserCode(ctx, userCode); err != nil {
		return err
	}
	return s.Storage.DenyDeviceAuthorization(ctx, userCode)
}

// checkUser returns the user with that name and password.
func (s *store) checkUser(username, password string) (*storage.User, error) {
	u := s.users.GetUserByUsername(username)
	if u == nil || u.Password != password {
		return nil, errors.New("invalid username or password")
	}
	return u, nil
}

// authenticateClient checks a client's credentials for the password grant.
// Public clients need no secret.
func (s *store) authenticateClient(ctx context.Context, clientID, secret string) (*client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("unknown client %q", clientID)
	}
	if c.AuthMethod() == oidc.AuthMethodNone {
		return c, nil
	}
	if secret == "" {
		return nil, errors.New("client authentication required")
	}
	if err := s.Storage.AuthorizeClientIDSecret(ctx, clientID, secret); err != nil {
		return nil, err
	}
	return c, nil
}
