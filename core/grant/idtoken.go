package grant

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/jwks"
	"oidcctl/core/jws"
)

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

// verifyIDToken checks an id_token as OpenID Connect Core §3.1.3.7 asks,
// with the verification that incoming tokens get (package jws): an alg of
// jws.Algorithms (never none, never an HMAC), the key of the provider's
// JWKS named by kid, iss by jws.IssuerOK (the discovery issuer; for
// Entra's multi-tenant issuer with the token's tid; with the flavour
// entra the tenant's v1 or v2 issuer); then the client id in aud (and as
// azp when there is one), exp and iat present, exp, nbf and iat within
// the profile's Leeway by the injected clock, and, when one was sent, the
// nonce. at_hash and c_hash are not checked: the tokens come straight
// from the token endpoint over TLS.
func (c *Client) verifyIDToken(ctx context.Context, p core.Profile, d *discovery.Document, raw, nonce string) error {
	tok := jws.Parse(raw)
	if tok.Problem != "" {
		return idTokenErr(nil, "is not a signed JWT: %s", tok.Problem)
	}
	if !jws.Allowed(tok.Alg) {
		return idTokenErr(nil, "is signed with %q; only asymmetric algorithms (%s) are accepted", tok.Alg, jws.AlgList)
	}
	if _, ok := tok.Header["crit"]; ok {
		return idTokenErr(nil, "marks header extensions as critical (crit) that oidcctl does not understand")
	}

	keys, err := c.keys(ctx, p, d)
	if err != nil {
		return idTokenErr(err, "cannot be verified: fetching the provider's JWKS: %v", err)
	}
	k, ok := jwks.Lookup(keys, tok.KID)
	if !ok {
		return idTokenErr(nil, "signature does not verify against the provider's JWKS (%s): no key with kid %q", d.JWKSURI, tok.KID)
	}
	if err := tok.Verify(k); err != nil {
		return idTokenErr(err, "signature does not verify against the provider's JWKS (%s): %v", d.JWKSURI, err)
	}

	claims := tok.Claims
	iss, _ := claims["iss"].(string)
	tid, _ := claims["tid"].(string)
	if !jws.IssuerOK(p, d, iss, tid) {
		return idTokenErr(nil, "issuer mismatch: iss is %q, the provider's issuer is %q", iss, d.IssuerFor(tid))
	}
	aud := audiences(claims["aud"])
	if !slices.Contains(aud, p.ClientID) {
		return idTokenErr(nil, "audience mismatch: aud %q does not contain the client id %q", aud, p.ClientID)
	}
	if azp, _ := claims["azp"].(string); azp != "" && azp != p.ClientID {
		return idTokenErr(nil, "authorized party mismatch: azp is %q, the client id is %q", azp, p.ClientID)
	}
	if nonce != "" {
		got, _ := claims["nonce"].(string)
		if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
			return idTokenErr(nil, "nonce mismatch: it does not carry the nonce of this login")
		}
	}

	now, leeway := c.now(), max(p.Misc.Leeway, 0)
	exp, hasExp, badExp := jws.NumericDate(claims, "exp")
	iat, hasIat, badIat := jws.NumericDate(claims, "iat")
	nbf, hasNbf, badNbf := jws.NumericDate(claims, "nbf")
	switch {
	case badExp || badIat || badNbf:
		return idTokenErr(nil, "is invalid: exp, iat or nbf is not a number of seconds")
	case !hasExp:
		return idTokenErr(nil, "is invalid: it has no exp claim")
	case !hasIat:
		return idTokenErr(nil, "is invalid: it has no iat claim")
	case now.After(exp.Add(leeway)):
		return idTokenErr(nil, "expired at %s (now %s, leeway %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), p.Misc.Leeway)
	case now.Add(leeway).Before(iat):
		return idTokenErr(nil, "issued in the future at %s (now %s, leeway %s): check the clocks", iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), p.Misc.Leeway)
	case hasNbf && now.Add(leeway).Before(nbf):
		return idTokenErr(nil, "is not valid yet (nbf): check the clocks")
	}
	return nil
}

// audiences reads aud, a string or an array of strings.
func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
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
