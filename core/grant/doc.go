// Package grant obtains tokens for oidcctl's functional accounts: the
// client_credentials and password grants (Client.Obtain), refresh
// (Client.Refresh), revocation (Client.Revoke, RFC 7009), the
// authorization code flow with PKCE and a loopback callback server
// (Client.StartAuthCode, Listen, Callback.Wait, Client.AuthorizeLoopback;
// a pasted redirect URL works too: AuthCodeFlow.ExchangeRedirect), and the
// device flow (Client.StartDevice, DeviceFlow.Wait, RFC 8628).
//
// Every call takes the profile and its discovery document; the caller
// (the token store) fetches the document and keeps the tokens. Nothing
// here stores anything.
//
// # Decisions
//
//   - Token requests go through golang.org/x/oauth2/clientcredentials,
//     whose EndpointParams carry any grant and repeated parameters; RFC 8707
//     resources are one parameter each, named by the account's resource
//     parameter (default "resource"), on every token request and on the
//     authorization and device authorization requests.
//   - Client authentication (package clientauth), the same at the token,
//     revocation and device authorization endpoints: the profile's
//     method; when it names none, client_secret_basic when the discovery
//     document lists it or lists nothing (RFC 8414's default), else
//     client_secret_post, for a profile with a secret; private_key_jwt
//     (a fresh RFC 7523 assertion per request) for one with client keys;
//     client_id alone for a public client. tls_client_auth and
//     self_signed_tls_client_auth send client_id, the TLS client
//     certificate proving it. x/oauth2's auto-detection is never used: it
//     repeats a failed request, which would spend a rotating refresh token
//     twice.
//   - Scopes: the account's scopes; when it has none, nothing for
//     client_credentials and "openid" plus the profile's additional scopes
//     for the grants where a person logs in (see Scopes). A refresh sends
//     no scope, so the original grant's scope applies.
//   - Lifetimes are counted from the Client's clock: Expiry from
//     expires_in, or, only when expires_in is absent, from the access
//     token's exp claim if it is a JWT (opaque tokens work); RefreshExpiry
//     from refresh_expires_in (Keycloak). Scope is the answer's scope, or
//     the requested scopes when it has none.
//   - An id_token in any answer is verified before anything is returned:
//     signature by an asymmetric key of the JWKS, iss,
//     aud, azp, exp and iat with the profile's Leeway, and the nonce of the
//     code flow.
//   - The code flow always uses PKCE S256, a state of the profile's
//     RandLength (at least 16) valid for its RandTTL, and a nonce of the
//     same length when UseNonce is set or the scope has "openid".
//   - Errors say which grant and account failed and wrap a *ProviderError
//     for the provider's RFC 6749 error (test with errors.Is against
//     ErrInvalidGrant, ErrAccessDenied, ErrExpired). No error or log line
//     holds a client secret, password, code, refresh or access token: the
//     provider's body is never quoted whole, and what is quoted is cut
//     short with every value sent, and anything token-like, removed.
package grant
