package serve

import (
	"encoding/json"

	"oidcctl/core/jws"
	"oidcctl/core/serve/debuglog"
)

// tokenClaims returns what the debugger keeps of an incoming token for a
// profile with LogTokenClaims (the manual's LogIDToken): its JOSE header
// and claims as {"header": …, "claims": …}, never the signature, so that
// the entry cannot be replayed; and, as in every entry, values under
// sensitive names and the call's secrets redacted. The token need not be
// valid: the claims of refused tokens are what an administrator needs to
// build a role map. "" for a token that is not a readable JWT (an opaque
// token has no claims to show).
func tokenClaims(token string, secrets []string) string {
	t := jws.Parse(token)
	if t.Header == nil || t.Claims == nil {
		return ""
	}
	b, err := json.Marshal(struct {
		Header map[string]any `json:"header"`
		Claims map[string]any `json:"claims"`
	}{t.Header, t.Claims})
	if err != nil {
		return ""
	}
	return string(debuglog.RedactBody("application/json", b, true, secrets...))
}
