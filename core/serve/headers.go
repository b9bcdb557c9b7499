package serve

import (
	"fmt"
	"net/http"
	"strings"
)

// reservedHeaders are headers that serve itself reads from callers or that
// HTTP gives a meaning of its own: none of them may carry the user, roles
// or subject of an accepted token, or a caller could set what serve trusts
// (or serve would overwrite the caller's credentials). Keys are canonical.
var reservedHeaders = map[string]string{
	"Authorization":          "carries the bearer token serve checks",
	"Proxy-Authorization":    "carries credentials",
	"Cookie":                 "carries the caller's cookies",
	"Set-Cookie":             "sets cookies",
	"Www-Authenticate":       "carries serve's RFC 6750 answer",
	"Host":                   "names the host called",
	"Forwarded":              "is set by proxies (RFC 7239)",
	"X-Real-Ip":              "is set by proxies",
	"X-Request-Id":           "is read by serve to tie a call to its log",
	"X-Api-Key":              "carries credentials",
	"X-Auth-Profile":         "names a profile",
	"Accept":                 "is read by serve",
	"Content-Type":           "describes the body",
	"Content-Length":         "frames the body",
	"Transfer-Encoding":      "frames the body",
	"Te":                     "is a hop-by-hop header",
	"Trailer":                "is a hop-by-hop header",
	"Connection":             "is a hop-by-hop header",
	"Keep-Alive":             "is a hop-by-hop header",
	"Proxy-Connection":       "is a hop-by-hop header",
	"Upgrade":                "is a hop-by-hop header",
	"Proxy-Authenticate":     "is a hop-by-hop header",
	"Content-Encoding":       "describes the body",
	"X-Http-Method":          "overrides the method",
	"X-Method-Override":      "overrides the method",
	"X-Http-Method-Override": "overrides the method",
}

// reservedPrefixes are families of headers that proxies set for serve to
// read (X-Forwarded-Uri, X-Original-Method, ...) and oidcctl's own
// (X-Oidcctl-Credential).
var reservedPrefixes = map[string]string{
	"X-Forwarded-": "is set by proxies and read by serve",
	"X-Original-":  "is set by proxies and read by serve",
	"X-Oidcctl-":   "is oidcctl's own",
}

// CheckHeaderNames reports why h cannot be used: a name that serve reads
// from callers for itself, that HTTP reserves, or that two of them share.
// field names the flag or setting of each name for the message.
func CheckHeaderNames(h HeaderNames, field func(which string) string) error {
	seen := map[string]string{}
	for _, n := range []struct{ which, name string }{{"user", h.User}, {"roles", h.Roles}, {"subject", h.Subject}} {
		canon := http.CanonicalHeaderKey(strings.TrimSpace(n.name))
		if why, ok := reservedHeaders[canon]; ok {
			return fmt.Errorf("%s %s: %s %s, so it cannot carry the %s of a token", field(n.which), n.name, canon, why, n.which)
		}
		for prefix, why := range reservedPrefixes {
			if strings.HasPrefix(canon, prefix) {
				return fmt.Errorf("%s %s: %s* %s, so it cannot carry the %s of a token", field(n.which), n.name, prefix, why, n.which)
			}
		}
		if other, dup := seen[canon]; dup {
			return fmt.Errorf("%s %s: the same header as %s", field(n.which), n.name, field(other))
		}
		seen[canon] = n.which
	}
	return nil
}
