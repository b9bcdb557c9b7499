package core

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CheckRedirectURI returns what is wrong with a configured redirect URI,
// or "" when it is usable. "" itself is usable: it means the default,
// http://127.0.0.1:<free port>/callback. A usable one is an http URI on a
// loopback host (127.0.0.1, localhost or [::1], RFC 8252 §7.3) with a
// fixed port, or none or :0 for a free one, and any path; oidcctl listens
// on exactly that host, port and path during a browser login.
func CheckRedirectURI(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("%q is not a URL: %v", raw, err)
	}
	switch {
	case u.Scheme == "https":
		return fmt.Sprintf("%q: https redirect URIs need a `serve` that answers that path, which oidcctl cannot do yet; "+
			"use a loopback http URI such as http://127.0.0.1:8400/callback", raw)
	case u.Scheme != "http":
		return fmt.Sprintf("%q must be an http URI on a loopback host, such as http://127.0.0.1:8400/callback", raw)
	}
	host := u.Hostname()
	if host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return fmt.Sprintf("%q is not on a loopback host (127.0.0.1, localhost or [::1]): oidcctl listens for the browser's "+
			"return itself, so only loopback works; a redirect through `serve` for other hosts is not supported yet", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return fmt.Sprintf("%q: port %q is not 0..65535", raw, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Sprintf("%q: empty port; leave out the colon for a free port", raw)
	}
	switch {
	case u.User != nil:
		return fmt.Sprintf("%q must not carry a user name or password", raw)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Sprintf("%q must not have a ?query", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Sprintf("%q must not have a #fragment (RFC 6749 §3.1.2)", raw)
	case u.Opaque != "":
		return fmt.Sprintf("%q is not an absolute http URI", raw)
	}
	return ""
}

// RedirectURIFor returns the redirect URI a login of account a at
// profile p uses: the account's, else the profile's, else "" (the
// default).
func RedirectURIFor(p Profile, a Account) string {
	if a.RedirectURI != "" {
		return a.RedirectURI
	}
	return p.RedirectURI
}
