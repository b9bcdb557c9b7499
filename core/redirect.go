package core

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CheckRedirectURI returns what is wrong with a configured redirect URI,
// or "" when it is usable. "" itself is usable: it means the default,
// http://127.0.0.1:<free port>/callback. A usable one is either
//
//   - an http URI on a loopback host (127.0.0.1, localhost or [::1], RFC
//     8252 §7.3) with a fixed port, or none or :0 for a free one, and any
//     path; oidcctl listens on exactly that host, port and path during a
//     browser login; or
//   - an https URI on any host with a path (see IsServeRedirect), which
//     an `oidcctl serve` answers: the login started by `account
//     authorize` is completed there. Its path must not be one of serve's
//     own routes (ServeRoute).
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
		if msg := checkServeRedirect(raw, u); msg != "" {
			return msg
		}
	case u.Scheme != "http":
		return fmt.Sprintf("%q must be an http URI on a loopback host, such as http://127.0.0.1:8400/callback, "+
			"or an https URI that `oidcctl serve` answers", raw)
	default:
		host := u.Hostname()
		if host != "127.0.0.1" && host != "localhost" && host != "::1" {
			return fmt.Sprintf("%q is not on a loopback host (127.0.0.1, localhost or [::1]): oidcctl listens for the browser's "+
				"return itself, so plain http works only on loopback; for another host use an https URI that `oidcctl serve` answers", raw)
		}
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
		return fmt.Sprintf("%q is not an absolute http(s) URI", raw)
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

// IsServeRedirect reports whether a redirect URI is one that `oidcctl
// serve` answers (https) rather than the loopback callback of the process
// that starts the login.
func IsServeRedirect(raw string) bool {
	return strings.HasPrefix(strings.ToLower(raw), "https://")
}

// ServeRoute reports whether path is taken by one of serve's own routes
// (/auth, /auth/…, /ws/…, /invoke/…, /healthz, /readyz, /metrics), which
// a redirect URI answered by serve must not use.
func ServeRoute(path string) bool {
	switch path {
	case "/auth", "/healthz", "/readyz", "/metrics", "/ws", "/invoke":
		return true
	}
	for _, prefix := range []string{"/auth/", "/ws/", "/invoke/"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// checkServeRedirect is CheckRedirectURI's part for https URIs.
func checkServeRedirect(raw string, u *url.URL) string {
	switch {
	case u.Hostname() == "":
		return fmt.Sprintf("%q has no host", raw)
	case u.Path == "" || u.Path == "/":
		return fmt.Sprintf("%q needs a path (such as /callback) on which `oidcctl serve` answers the browser", raw)
	case ServeRoute(u.Path):
		return fmt.Sprintf("%q: the path %s is one of serve's own routes (/auth, /ws/, /invoke/, /healthz, /readyz, /metrics); "+
			"choose another, such as /callback", raw, u.Path)
	}
	return ""
}
