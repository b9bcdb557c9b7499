package validate

// boundKey returns the cnf.jkt claim (RFC 9449 section 6.1): the
// thumbprint of the DPoP key a token is bound to, "" when there is none.
// Whether a proof of that key came with the token is serve's check
// (package dpop); the Validator only reads the binding.
func boundKey(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}
