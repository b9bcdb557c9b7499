// Package oidctest runs a real OpenID provider in-process for tests.
//
// It is built on the example provider of github.com/zitadel/oidc/v3
// (example/server/exampleop and example/server/storage) and serves it on a
// loopback listener, so that code under test talks real HTTP to a real
// discovery document, JWKS, authorization endpoint and token endpoint:
//
//	p := oidctest.Start(t)
//	resp, err := http.Get(p.DiscoveryURL)
//
// On top of the example provider it adds:
//
//   - JWT access tokens (RS256, signed with the key served at the JWKS
//     endpoint) for every fixture client, with a "scope" claim;
//   - a stand-in for the resource owner password credentials grant
//     (grant_type=password), which zitadel does not implement;
//   - a record of every token request ([Provider.TokenRequests]) and a way
//     to make the token endpoint fail or misbehave at run time
//     ([Provider.FailTokenRequests], [Provider.SetTokenMiddleware],
//     [Provider.SlowTokenResponses]);
//   - a record of every revocation request ([Provider.RevocationRequests])
//     and a revocation endpoint that can refuse access tokens
//     ([WithAccessTokenRevocationUnsupported],
//     [Provider.RefuseAccessTokenRevocation]);
//   - helpers that play the user: [Provider.Authorize] logs in through the
//     HTML login form without a browser, [Provider.ApproveDevice] approves a
//     device code.
//
// # Fixtures
//
// Clients:
//
//   - [ServiceClientID] / [ServiceClientSecret]: client_credentials only
//     (it may also authenticate at the revocation and introspection
//     endpoints).
//   - [WebClientID] / [WebClientSecret]: confidential; authorization_code
//     (PKCE optional), refresh_token, device_code, password and token
//     exchange. Client authentication by HTTP Basic or form post, except at
//     the device_code token request, where zitadel treats only HTTP Basic as
//     authenticated.
//   - [NativeClientID]: public (no secret, PKCE required); authorization_code,
//     refresh_token, device_code and password.
//   - [KeyClientID]: confidential, authenticated by private_key_jwt only
//     (client assertions with aud = the issuer) with the keys registered by
//     [Provider.RegisterClientKeys]; authorization_code, refresh_token,
//     device_code and client_credentials, and the revocation,
//     introspection and device authorization endpoints.
//
// Both user-facing clients accept any loopback redirect URI
// (http://127.0.0.1:<port>/<path>, http://localhost:<port>/<path>) plus
// those given with [WithRedirectURIs].
//
// Users (password [Password]): [Provider.Username] ("test-user@127.0.0.1",
// subject [UserID]) and [Username2] (subject [User2ID]).
//
// Refresh tokens are issued, for every user grant, only when the scope
// contains "offline_access"; they rotate on use. ID tokens are issued when
// the scope contains "openid".
//
// # Process-wide side effects
//
// The example provider installs its logger with slog.SetDefault; this
// package gives it a discarding logger, so slog's default logger discards
// for the rest of the test binary.
package oidctest
