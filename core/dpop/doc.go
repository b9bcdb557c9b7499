// Package dpop implements OAuth 2.0 Demonstrating Proof of Possession
// (DPoP, RFC 9449) in both directions, with jwx v3 for the JOSE work.
//
// A client holds a Key (ES256 by default) and sends, with every request,
// a fresh proof made by Key.Proof: a JWT of type dpop+jwt, signed with the
// key, whose header carries the public key (jwk) and whose claims name the
// request (htm, htu), the time (iat), a unique id (jti), the hash of the
// access token (ath) and the server's nonce where it asked for one. A
// token endpoint that sees such a proof binds the tokens it issues to the
// key's RFC 7638 thumbprint (the access token's cnf.jkt claim).
//
// A resource server verifies a proof with Verifier.Verify, following RFC
// 9449 section 4.3 and 7.1, in this order: exactly one proof; a
// well-formed JWS; typ dpop+jwt; an asymmetric alg (RS*, PS*, ES*,
// EdDSA: never none, never HMAC); a public jwk in the header (no private
// parts) whose type fits the alg; the signature with that key; every
// required claim; htm equal to the request's method; htu equal to the
// request's URL without query and fragment, both normalised as RFC 3986
// section 6.2.2 and 6.2.3 say (scheme and host case, default port, empty
// path, percent-encoding); iat within MaxAge in the past and Leeway in
// the future; the nonce, when the Verifier has Nonces; with an access
// token, ath equal to its SHA-256 hash and the token's cnf.jkt equal to
// the thumbprint of the proof's key; and last, a jti not seen before
// (Config.Replay: a ReplayCache, or a Replay of the caller's that also
// asks a store shared by several processes), so that a refused proof
// does not use up its jti.
//
// Every refusal is an *Error with the RFC 9449 error code
// (invalid_dpop_proof, or use_dpop_nonce when a nonce is missing or
// stale), a Reason for programs and a Message for the administrator.
package dpop
