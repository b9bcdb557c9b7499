package grant

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// asymmetricAlgs are the signature algorithms an id_token may use: never
// "none" and never an HMAC, whose key would be the client secret or,
// worse, a public key (the RSA/HMAC confusion).
var asymmetricAlgs = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA", "Ed25519",
}

// idTokenError is an id_token verification failure; it matches ErrIDToken.
type idTokenError struct {
	msg string
	err error
}

func (e *idTokenError) Error() string { return "id_token " + e.msg }

func (e *idTokenError) Is(target error) bool { return target == ErrIDToken }

func (e *idTokenError) Unwrap() error { return e.err }

func idTokenErr(err error, format string, args ...any) error {
	return &idTokenError{msg: fmt.Sprintf(format, args...), err: err}
}

// verifyIDToken checks an id_token as OpenID Connect Core §3.1.3.7 asks:
// an asymmetric signature by a key of the provider's JWKS, iss equal to
// the discovery issuer (for Entra's multi-tenant issuer: with the token's
// tid), the client id in aud (and as azp when aud has several values),
// exp and iat within the profile's Leeway by the injected clock, and, when
// one was sent, the nonce. at_hash and c_hash are not checked: the tokens
// come straight from the token endpoint over TLS.
func (c *Client) verifyIDToken(ctx context.Context, p core.Profile, d *discovery.Document, raw, nonce string) error {
	msg, err := jws.Parse([]byte(raw), jws.WithCompact())
	if err != nil {
		return idTokenErr(err, "is not a signed JWT")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return idTokenErr(nil, "has %d signatures, want 1", len(sigs))
	}
	alg, ok := sigs[0].ProtectedHeaders().Algorithm()
	if !ok || !slices.Contains(asymmetricAlgs, alg.String()) {
		return idTokenErr(nil, "is signed with %q; only asymmetric algorithms (%v) are accepted", alg, asymmetricAlgs)
	}

	keys, err := c.keys(ctx, p, d)
	if err != nil {
		return idTokenErr(err, "cannot be verified: fetching the provider's JWKS: %v", err)
	}
	tok, err := jwt.Parse([]byte(raw),
		jwt.WithKeySet(publicKeys(keys), jws.WithInferAlgorithmFromKey(true)),
		jwt.WithValidate(false))
	if err != nil {
		return idTokenErr(err, "signature does not verify against the provider's JWKS (%s): %v", d.JWKSURI, err)
	}

	var tid string
	_ = tok.Get("tid", &tid)
	wantIss := d.IssuerFor(tid)
	if iss, _ := tok.Issuer(); iss != wantIss {
		return idTokenErr(nil, "issuer mismatch: iss is %q, the provider's issuer is %q", iss, wantIss)
	}
	aud, _ := tok.Audience()
	if !slices.Contains(aud, p.ClientID) {
		return idTokenErr(nil, "audience mismatch: aud %q does not contain the client id %q", aud, p.ClientID)
	}
	var azp string
	if tok.Get("azp", &azp) == nil && azp != "" && azp != p.ClientID {
		return idTokenErr(nil, "authorized party mismatch: azp is %q, the client id is %q", azp, p.ClientID)
	}
	if nonce != "" {
		var got string
		_ = tok.Get("nonce", &got)
		if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
			return idTokenErr(nil, "nonce mismatch: it does not carry the nonce of this login")
		}
	}

	now := c.now()
	err = jwt.Validate(tok,
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(max(p.Misc.Leeway, 0)),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.IssuedAtKey))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.TokenExpiredError()):
		exp, _ := tok.Expiration()
		return idTokenErr(err, "expired at %s (now %s, leeway %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), p.Misc.Leeway)
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		iat, _ := tok.IssuedAt()
		return idTokenErr(err, "issued in the future at %s (now %s, leeway %s): check the clocks", iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), p.Misc.Leeway)
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return idTokenErr(err, "is not valid yet (nbf): check the clocks")
	}
	return idTokenErr(err, "is invalid: %v", err)
}

// keys returns the JWKS for the profile.
func (c *Client) keys(ctx context.Context, p core.Profile, d *discovery.Document) (jwk.Set, error) {
	if c.Keys != nil {
		return c.Keys(ctx, p, d)
	}
	if d.JWKSURI == "" {
		return nil, errors.New("the discovery document has no jwks_uri")
	}
	hc, done, err := c.httpClient(p)
	if err != nil {
		return nil, err
	}
	defer done()
	return jwk.Fetch(ctx, d.JWKSURI, jwk.WithHTTPClient(hc))
}

// publicKeys returns the asymmetric keys of a set: a symmetric ("oct") key
// in a JWKS is never a provider's signing key.
func publicKeys(set jwk.Set) jwk.Set {
	out := jwk.NewSet()
	for i := range set.Len() {
		k, _ := set.Key(i)
		switch k.KeyType() {
		case jwa.RSA(), jwa.EC(), jwa.OKP():
			_ = out.AddKey(k)
		}
	}
	return out
}
