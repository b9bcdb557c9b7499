package validate

import (
	"strings"

	"oidcctl/core/jws"
)

// boundKey returns the cnf.jkt claim (RFC 9449 section 6.1): the
// thumbprint of the DPoP key a token is bound to, "" when there is none.
// Whether a proof of that key came with the token is serve's check
// (package dpop); the Validator only reads the binding.
func boundKey(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// boundKey is boundKey of the token, on either form of its claims.
func (x *run) boundKey() string {
	if !x.fast {
		return boundKey(x.r.Claims)
	}
	cnf, ok := x.raw.Get("cnf")
	if !ok {
		return ""
	}
	raw, ok := jws.Lookup(cnf, "jkt")
	if !ok {
		return ""
	}
	jkt, _ := jws.String(raw)
	return strings.Clone(jkt) // the Result outlives the token
}
