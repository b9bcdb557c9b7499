package validate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// claimPath finds a claim by a dotted path ("realm_access.roles",
// "resource_access.billing.roles"). A key that itself contains dots
// ("https://example.com/roles", a client named "my.app") is found too: at
// each level the whole rest is tried as a key first, then every split at
// a dot, shortest first.
func claimPath(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if m, ok := claims[path[:i]].(map[string]any); ok {
			if v, ok := claimPath(m, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// stringsOf returns a claim value that is a string or a list of strings as
// a list; other values (and other list elements) give nothing.
func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// stringClaim returns a claim as a string: strings as they are, whole
// numbers in decimal (a numeric uid), and "" with false for anything else.
func stringClaim(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10), true
		}
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// audiences returns aud as a list (RFC 7519 §4.1.3: a string or a list of
// strings).
func audiences(claims map[string]any) []string { return stringsOf(claims["aud"]) }

func anyAudience(claims map[string]any, want []string) bool {
	switch aud := claims["aud"].(type) {
	case string:
		return slices.Contains(want, aud)
	case []any:
		for _, a := range aud {
			if s, ok := a.(string); ok && slices.Contains(want, s) {
				return true
			}
		}
	}
	return false
}

func hasAudience(claims map[string]any, want string) bool {
	switch aud := claims["aud"].(type) {
	case string:
		return aud == want
	case []any:
		for _, a := range aud {
			if a == want {
				return true
			}
		}
	}
	return false
}

// audienceString shows aud for a message.
func audienceString(claims map[string]any) string {
	aud := audiences(claims)
	if len(aud) == 0 {
		return ""
	}
	return quoteList(aud)
}

// grantedScopes collects the scopes a token grants: scope (RFC 8693 §4.2,
// RFC 9068: space-separated), scp (Microsoft's delegated scopes, a string or
// a list) and, for Microsoft tokens, roles (application permissions).
// present is false when the token carries none of these claims.
func grantedScopes(claims map[string]any, microsoft bool) (scopes []string, present bool) {
	names := []string{"scope", "scp"}
	if microsoft {
		names = append(names, "roles")
	}
	for _, name := range names {
		v, ok := claims[name]
		if !ok {
			continue
		}
		present = true
		for _, s := range stringsOf(v) {
			scopes = append(scopes, strings.Fields(s)...)
		}
	}
	return scopes, present
}

// printable reports whether a claim value is UTF-8 without control
// characters (C0, DEL, C1): fit for an HTTP header and a terminal.
func printable(s string) bool {
	for _, c := range s {
		if c == utf8.RuneError || unicode.IsControl(c) {
			// RuneError is also what an invalid byte decodes to; the
			// character U+FFFD itself has no business in a name either.
			return false
		}
	}
	return true
}

// quote shows a value from a token in a message, cut to a readable length.
func quote(s string) string {
	const limit = 120
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return strconv.Quote(s)
}

func quoteList(list []string) string {
	const limit = 10
	parts := make([]string, 0, min(len(list), limit)+1)
	for i, s := range list {
		if i == limit {
			parts = append(parts, fmt.Sprintf("and %d more", len(list)-limit))
			break
		}
		parts = append(parts, quote(s))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// ago says how far a time is from now, in words: "3h0m0s ago", "in 4m12s".
func ago(t, now time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d >= 0 {
		return d.String() + " ago"
	}
	return "in " + (-d).String()
}

// acceptedMessage is `Accepted as "login" with roles ["a" "b"].`, built
// with one allocation: it is on every first validation.
func acceptedMessage(login string, roles []string) string {
	if len(roles) > 10 {
		return fmt.Sprintf("Accepted as %s with roles %s.", quote(login), quoteList(roles))
	}
	const limit = 120
	if len(login) > limit {
		login = login[:limit] + "…"
	}
	b := make([]byte, 0, 40+len(login)+24*len(roles))
	b = append(b, "Accepted as "...)
	b = strconv.AppendQuote(b, login)
	b = append(b, " with roles ["...)
	for i, r := range roles {
		if i > 0 {
			b = append(b, ' ')
		}
		if len(r) > limit {
			r = r[:limit] + "…"
		}
		b = strconv.AppendQuote(b, r)
	}
	b = append(b, "]."...)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not used again
}
