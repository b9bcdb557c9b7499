// Package debuglog is the debugger of `oidcctl serve`: it takes the
// secrets out of recorded calls (Redact*, Secrets) and writes the entries
// to a core.DebugStore in batches, off the request path, keeping each
// webservice's log within its retention (Recorder).
//
// # What is redacted
//
//   - headers: Authorization and Proxy-Authorization keep only their
//     scheme ("Bearer [REDACTED]"); Cookie and Set-Cookie keep only the
//     cookie names (and Set-Cookie's attributes); any header whose name
//     says token, secret, password, session or api key loses its value;
//     the query of a URL in any other header (Location, Referer,
//     X-Forwarded-Uri) is redacted as a path's is;
//   - bodies, by name: the value of every sensitive key (see
//     IsSensitiveKey) in JSON objects at any depth, in XML and SOAP
//     elements and attributes (<Password>, <ns:SessionID>,
//     <Auth Password="…">), in form-encoded bodies and in "key: value"
//     text. A JSON body that was captured whole is copied value by value,
//     compact, its key order kept; anything else (a body cut at the size
//     limit, text, XML) is redacted by scanning for keys and tags. A string inside a body
//     that holds JSON, XML or a form of its own (JSON escaped inside a
//     JSON string) is redacted the same way, a few levels deep;
//   - paths: the sensitive query parameters (IsSensitiveParam: those keys
//     plus code, the OAuth authorization code), whatever their case;
//   - everywhere, by value: anything that looks like a JWT (three
//     base64url parts, the first starting "eyJ"), the exact secret
//     strings the caller passes (the bearer token of the call, the token
//     attached to an outgoing call), and, in the Recorder, every secret
//     serve holds (Secrets: client secrets, passwords and the tokens of
//     its accounts), also where they appear URL-, JSON-, XML- or
//     HTML-encoded. Values shorter than MinSecretLen bytes are not
//     redacted by value: they would take common words and numbers out of
//     every entry.
package debuglog

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces every secret.
const Redacted = "[REDACTED]"

// MinSecretLen is the length below which a secret is not redacted by
// value (it still is by name).
const MinSecretLen = 8

// maxDepth bounds how many levels of JSON, XML or forms inside strings
// are redacted.
const maxDepth = 4

// SensitiveKeys are the JSON keys, XML element and attribute names and
// form fields whose values are redacted. Names are compared without
// regard to case, '_', '-' and '.', and after an XML namespace prefix:
// "accessToken", "Access-Token" and "ns:access_token" are all
// access_token.
var SensitiveKeys = []string{
	"access_token", "refresh_token", "id_token", "client_secret", "password",
	"passwd", "token", "client_assertion", "subject_token", "actor_token",
	"code_verifier", "device_code", "assertion", "api_key", "session_id",
	"secret", "private_key",
}

// SensitiveSuffixes extend SensitiveKeys to every name that ends with one
// of them (normalized as there): newPassword, X-Auth-Token,
// CustomerUserPassword, csrf_token. token_type and token_endpoint do not
// end with "token".
var SensitiveSuffixes = []string{"password", "passwd", "secret", "token", "apikey", "sessionid", "privatekey"}

// SensitiveParams are query parameters and form fields redacted in
// addition to SensitiveKeys. "code" is one only there: in a JSON or XML
// body it is far more often an error code than an authorization code.
var SensitiveParams = []string{"code"}

var (
	sensitive    = normSet(SensitiveKeys)
	sensitiveArg = normSet(SensitiveParams)
	// A JWT (JWS compact serialization, or the start of a JWE).
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)
)

func normSet(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[normKey(k)] = true
	}
	return m
}

// normKey lowers a name and drops '_', '-', '.' and spaces.
func normKey(k string) string {
	var b strings.Builder
	b.Grow(len(k))
	for _, r := range strings.ToLower(k) {
		switch r {
		case '_', '-', '.', ' ':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// headerWords mark header names whose whole value is a secret.
var headerWords = []string{"token", "secret", "password", "passwd", "api-key", "apikey", "api_key", "session"}

// IsSensitiveKey reports whether the value of a JSON key, an XML element
// or attribute, or a form field of this name is redacted.
func IsSensitiveKey(k string) bool {
	if i := strings.LastIndexByte(k, ':'); i >= 0 {
		k = k[i+1:] // an XML namespace prefix
	}
	var buf [64]byte
	var n []byte
	if len(k) <= len(buf) {
		n = buf[:0]
		for i := 0; i < len(k); i++ {
			switch c := k[i]; {
			case c >= 'A' && c <= 'Z':
				n = append(n, c+'a'-'A')
			case c == '_' || c == '-' || c == '.' || c == ' ':
			default:
				n = append(n, c)
			}
		}
	} else {
		n = []byte(normKey(k))
	}
	if sensitive[string(n)] {
		return true
	}
	for _, s := range SensitiveSuffixes {
		if len(n) >= len(s) && string(n[len(n)-len(s):]) == s {
			return true
		}
	}
	return false
}

// IsSensitiveParam reports whether a query parameter or form field of
// this name is redacted: a sensitive key, or code.
func IsSensitiveParam(k string) bool {
	if strings.ContainsAny(k, "%+") {
		if u, err := url.QueryUnescape(k); err == nil {
			k = u
		}
	}
	return IsSensitiveKey(k) || sensitiveArg[normKey(k)]
}

// RedactHeader returns a copy of h with secrets redacted; secrets are
// exact strings to take out of every value besides. A nil h gives nil.
func RedactHeader(h http.Header, secrets ...string) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		lower := strings.ToLower(name)
		vs := make([]string, len(values))
		for i, v := range values {
			switch {
			case lower == "authorization" || lower == "proxy-authorization":
				vs[i] = redactCredentials(v)
			case lower == "cookie":
				vs[i] = redactCookie(v)
			case lower == "set-cookie":
				vs[i] = redactSetCookie(v)
			case nameIsSecret(lower):
				vs[i] = Redacted
			default:
				if strings.ContainsAny(v, "?#") {
					v = RedactPath(v)
				}
				vs[i] = redactValues(v, secrets)
			}
		}
		out[name] = vs
	}
	return out
}

func nameIsSecret(lower string) bool {
	for _, w := range headerWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// redactCredentials keeps the scheme of an Authorization value.
func redactCredentials(v string) string {
	scheme, _, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found || scheme == "" {
		return Redacted
	}
	return scheme + " " + Redacted
}

// redactCookie keeps the names of a Cookie header's cookies.
func redactCookie(v string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[i] = name + "=" + Redacted
	}
	return strings.Join(parts, "; ")
}

// redactSetCookie keeps the name and attributes of a Set-Cookie value.
func redactSetCookie(v string) string {
	first, attrs, hasAttrs := strings.Cut(v, ";")
	name, _, _ := strings.Cut(strings.TrimSpace(first), "=")
	out := name + "=" + Redacted
	if hasAttrs {
		out += ";" + attrs
	}
	return out
}

// RedactPath redacts the sensitive query parameters (IsSensitiveParam,
// whatever their case or encoding) and anything that looks like a token
// of a path with its query, or of a whole URL. A fragment of parameters
// (the implicit flow's #access_token=…) is redacted as a query is.
func RedactPath(p string, secrets ...string) string {
	rest, fragment, hasFragment := strings.Cut(p, "#")
	path, query, hasQuery := strings.Cut(rest, "?")
	if !hasQuery && !hasFragment {
		return redactValues(path, secrets)
	}
	var b strings.Builder
	b.Grow(len(p))
	b.WriteString(path)
	if hasQuery {
		b.WriteByte('?')
		redactParams(&b, query)
	}
	if hasFragment {
		b.WriteByte('#')
		redactParams(&b, fragment)
	}
	return redactValues(b.String(), secrets)
}

// redactParams writes the parameters of a query or fragment, the values
// of the sensitive ones redacted.
func redactParams(b *strings.Builder, query string) {
	start := 0
	for i := 0; i <= len(query); i++ {
		if i < len(query) && query[i] != '&' && query[i] != ';' {
			continue
		}
		param := query[start:i]
		if name, _, ok := strings.Cut(param, "="); ok && IsSensitiveParam(name) {
			param = name + "=" + Redacted
		}
		b.WriteString(param)
		if i < len(query) {
			b.WriteByte(query[i])
		}
		start = i + 1
	}
}

// RedactBody returns body with its secrets redacted. complete says the
// body was captured whole (a JSON body cut at the size limit cannot be
// parsed, so it is redacted by pattern). The result may share memory
// with body.
func RedactBody(contentType string, body []byte, complete bool, secrets ...string) []byte {
	if len(body) == 0 {
		return body
	}
	ct := strings.ToLower(contentType)
	trimmed := bytes.TrimSpace(body)
	looksJSON := strings.Contains(ct, "json") || (ct == "" && len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['))
	if looksJSON && complete {
		if out, _, err := redactJSON(body, 0); err == nil {
			return redactValueBytes(out, secrets)
		}
	}
	return redactValueBytes([]byte(redactText(string(body), 0)), secrets)
}

// redactText redacts a text of unknown format (a body that is not JSON
// or not whole, a string inside a JSON body) by pattern: JSON strings
// holding more JSON, XML elements and attributes, JSON, form and
// "key: value" pairs, JWTs.
func redactText(s string, depth int) string {
	if depth < maxDepth && strings.Contains(s, `\"`) {
		s = redactLiterals(s, depth)
	}
	if strings.IndexByte(s, '<') >= 0 {
		s = redactXML(s)
	}
	if strings.ContainsAny(s, "=:") {
		s = redactPairs(s)
	}
	if strings.Contains(s, "eyJ") {
		s = jwtLike.ReplaceAllString(s, Redacted)
	}
	return s
}

// redactString redacts a string value of a JSON document: JSON inside it
// by parsing, anything else as text.
func redactString(s string, depth int) string {
	if depth >= maxDepth || len(s) < 4 {
		return s
	}
	if t := strings.TrimSpace(s); t != "" && (t[0] == '{' || t[0] == '[') {
		if out, changed, err := redactJSON([]byte(s), depth+1); err == nil {
			if changed {
				return string(out)
			}
			return s
		}
	}
	if !strings.ContainsAny(s, `"<=:`) && !strings.Contains(s, "eyJ") {
		return s
	}
	return redactText(s, depth+1)
}

// editor builds a copy of s with some ranges replaced, or gives s back
// when nothing was.
type editor struct {
	s    string
	b    strings.Builder
	last int // s[:last] is dealt with
}

// replace replaces s[from:to]; ranges come in order.
func (e *editor) replace(from, to int, with string) {
	if e.b.Cap() == 0 {
		e.b.Grow(len(e.s))
	}
	e.b.WriteString(e.s[e.last:from])
	e.b.WriteString(with)
	e.last = to
}

func (e *editor) String() string {
	if e.b.Cap() == 0 {
		return e.s
	}
	e.b.WriteString(e.s[e.last:])
	return e.b.String()
}

// redactLiterals redacts, inside every JSON string literal of s that
// holds escaped quotes (JSON inside JSON), what redactString would.
func redactLiterals(s string, depth int) string {
	ed := editor{s: s}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			break
		}
		i += j
		end, closed := endOfString(s, i)
		lit := s[i:end]
		if strings.Contains(lit, `\"`) {
			body := lit
			if !closed {
				body = strings.TrimSuffix(lit, `\`) + `"` // cut off: close it to decode
			}
			var v string
			if err := json.Unmarshal([]byte(body), &v); err == nil {
				if r := redactString(v, depth); r != v {
					var b bytes.Buffer
					writeString(&b, r)
					out := b.String()
					if !closed {
						out = out[:len(out)-1]
					}
					ed.replace(i, end, out)
				}
			}
		}
		i = end
	}
	return ed.String()
}

// Characters around the pairs of redactPairs.
const (
	formKeyStop   = "&=?;\"'<> \t\r\n" // a form key is none of these...
	formKeyAfter  = "&?;\"'> \t\r\n"   // ...and follows one of these, or the start
	formValueStop = "&; \t\r\n\"'<#"
	colonKeyAfter = ",;{([\"'> \t\r\n"
	valueStop     = ",; \t\r\n\"'<"
	spaces        = " \t\r\n"
)

// redactPairs replaces the value of every sensitive key in key=value
// (forms, queries, text), "key": value (JSON, maybe cut off, or escaped
// once: \"key\":\"value\") and key: value (text).
func redactPairs(s string) string {
	ed := editor{s: s}
	for i := 0; i < len(s); {
		j := strings.IndexAny(s[i:], "=:")
		if j < 0 {
			break
		}
		j += i
		from, to, with := 0, 0, ""
		if s[j] == '=' {
			from, to, with = formPair(s, j)
		} else {
			from, to, with = colonPair(s, j)
		}
		if with == "" {
			i = j + 1
			continue
		}
		ed.replace(from, to, with)
		i = max(to, j+1)
	}
	return ed.String()
}

// formPair looks at the key=value whose '=' is at j; it returns the
// value's range and what replaces it, "" when it stays.
func formPair(s string, j int) (from, to int, with string) {
	k := j
	for k > 0 && !strings.ContainsRune(formKeyStop, rune(s[k-1])) {
		k--
	}
	if k == j || (k > 0 && !strings.ContainsRune(formKeyAfter, rune(s[k-1]))) {
		return 0, 0, ""
	}
	v := j + 1
	end := v
	for end < len(s) && !strings.ContainsRune(formValueStop, rune(s[end])) {
		end++
	}
	if end == v && end < len(s) && (s[end] == '"' || s[end] == '\'') {
		return 0, 0, "" // an XML attribute: its own pass
	}
	if !IsSensitiveParam(s[k:j]) {
		return 0, 0, ""
	}
	return v, end, Redacted
}

// colonPair looks at the "key": value or key: value whose ':' is at j.
func colonPair(s string, j int) (from, to int, with string) {
	k := j
	for k > 0 && strings.ContainsRune(spaces, rune(s[k-1])) {
		k--
	}
	if k == 0 {
		return 0, 0, ""
	}
	if s[k-1] == '"' {
		return jsonPair(s, k-1, j)
	}
	end := k
	for k > 0 && isNameChar(s[k-1]) && s[k-1] != ':' {
		k--
	}
	if k == end || !isNameStart(s[k]) || (k > 0 && !strings.ContainsRune(colonKeyAfter, rune(s[k-1]))) || !IsSensitiveKey(s[k:end]) {
		return 0, 0, ""
	}
	v := j + 1
	for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
		v++
	}
	if v < len(s) && (s[v] == '"' || s[v] == '\'') {
		q := strings.IndexByte(s[v+1:], s[v])
		if q < 0 {
			return v, len(s), Redacted
		}
		return v + 1, v + 1 + q, Redacted
	}
	end = v
	for end < len(s) && !strings.ContainsRune(valueStop, rune(s[end])) {
		end++
	}
	if end == v {
		return 0, 0, ""
	}
	return v, end, Redacted
}

// jsonPair looks at the JSON pair whose key ends with the quote at q and
// whose ':' is at j; the pair may be escaped once (\"key\":\"value\").
func jsonPair(s string, q, j int) (from, to int, with string) {
	escaped := q > 0 && s[q-1] == '\\'
	open := -1
	for k := q - 1; k >= 0; k-- {
		if s[k] == '"' && (!escaped || (k > 0 && s[k-1] == '\\')) && (escaped || !isEscaped(s, k)) {
			open = k
			break
		}
	}
	if open < 0 {
		return 0, 0, ""
	}
	key := s[open+1 : q]
	if escaped {
		key = strings.TrimSuffix(key, `\`)
	}
	if strings.IndexByte(key, '\\') >= 0 {
		var dec string
		if json.Unmarshal([]byte(`"`+key+`"`), &dec) != nil {
			return 0, 0, ""
		}
		key = dec
	}
	if !IsSensitiveKey(key) {
		return 0, 0, ""
	}
	v := j + 1
	for v < len(s) && strings.ContainsRune(spaces, rune(s[v])) {
		v++
	}
	if !escaped {
		return v, scanJSONValue(s, v), `"` + Redacted + `"`
	}
	if strings.HasPrefix(s[v:], `\"`) {
		end := strings.Index(s[v+2:], `\"`)
		if end < 0 {
			return v, len(s), `\"` + Redacted + `\"`
		}
		return v, v + 2 + end + 2, `\"` + Redacted + `\"`
	}
	end := v
	for end < len(s) && !strings.ContainsRune(`,}]\ `+"\t\r\n", rune(s[end])) {
		end++
	}
	return v, end, `\"` + Redacted + `\"`
}

// isEscaped reports whether s[i] follows an odd number of backslashes.
func isEscaped(s string, i int) bool {
	n := 0
	for k := i - 1; k >= 0 && s[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

// scanJSONValue returns where the JSON value that starts at i ends: after
// a string, a balanced object or array, or a scalar; the end of s when it
// is cut off.
func scanJSONValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		end, _ := endOfString(s, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				end, _ := endOfString(s, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(s)
	}
	j := i
	for j < len(s) && !strings.ContainsRune(",}] \t\r\n", rune(s[j])) {
		j++
	}
	return j
}

// endOfString returns the index after the JSON string that starts at i,
// and whether it is closed; len(s) and false when it is cut off.
func endOfString(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(s), false
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':'
}

// redactXML replaces the content of every element with a sensitive
// local name, and the values of sensitive attributes. An element whose
// end tag is missing (a body cut off) loses everything after its start
// tag.
func redactXML(s string) string {
	ed := editor{s: s}
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		i += j
		k := i + 1
		if k >= len(s) || !isNameStart(s[k]) {
			i = k
			continue
		}
		for k < len(s) && isNameChar(s[k]) {
			k++
		}
		qname := s[i+1 : k]
		// The attributes, up to '>' outside quotes, or the end.
		end := k
		for end < len(s) && s[end] != '>' && s[end] != '<' {
			if c := s[end]; c == '"' || c == '\'' {
				// A value ends before the next '<', which XML does
				// not allow in it: a quote not closed by then does not
				// hide the elements after it.
				q := strings.IndexAny(s[end+1:], string(c)+"<")
				if q < 0 {
					end = len(s)
					break
				}
				if s[end+1+q] == '<' {
					end += 1 + q
					break
				}
				end += q + 2
				continue
			}
			end++
		}
		if end < len(s) && s[end] == '<' {
			i = end // not a tag after all
			continue
		}
		attrs := s[k:end]
		selfClosing := strings.HasSuffix(attrs, "/")
		if end < len(s) {
			end++ // the '>'
		}
		if strings.IndexByte(attrs, '=') >= 0 {
			redactAttrs(&ed, s, k, k+len(attrs))
		}
		i = end
		if selfClosing || !IsSensitiveKey(qname) {
			continue
		}
		contentEnd := len(s)
		if e := strings.Index(s[end:], "</"+qname); e >= 0 {
			contentEnd = end + e
		}
		if contentEnd > end {
			ed.replace(end, contentEnd, Redacted)
			i = contentEnd
		}
	}
	return ed.String()
}

// redactAttrs redacts the values of the sensitive attributes in
// s[from:to].
func redactAttrs(ed *editor, s string, from, to int) {
	for i := from; i < to; {
		if !isNameStart(s[i]) {
			i++
			continue
		}
		n := i
		for i < to && isNameChar(s[i]) {
			i++
		}
		name := s[n:i]
		for i < to && strings.ContainsRune(spaces, rune(s[i])) {
			i++
		}
		if i >= to || s[i] != '=' {
			continue
		}
		i++
		for i < to && strings.ContainsRune(spaces, rune(s[i])) {
			i++
		}
		if i >= to || (s[i] != '"' && s[i] != '\'') {
			continue
		}
		q := strings.IndexByte(s[i+1:to], s[i])
		valEnd := to
		if q >= 0 {
			valEnd = i + 1 + q
		}
		if IsSensitiveKey(name) && valEnd > i+1 {
			ed.replace(i+1, valEnd, Redacted)
		}
		i = min(valEnd+1, to)
	}
}

// redactValues takes JWTs and the secrets (and their encoded forms) out
// of s.
func redactValues(s string, secrets []string) string {
	s = jwtLike.ReplaceAllString(s, Redacted)
	for _, sec := range secrets {
		if len(sec) < MinSecretLen {
			continue
		}
		for _, v := range encodings(sec) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

func redactValueBytes(b []byte, secrets []string) []byte {
	b = jwtLike.ReplaceAll(b, []byte(Redacted))
	for _, sec := range secrets {
		if len(sec) < MinSecretLen {
			continue
		}
		for _, v := range encodings(sec) {
			b = bytes.ReplaceAll(b, []byte(v), []byte(Redacted))
		}
	}
	return b
}

// encodings returns a secret as it may appear in a recorded call: as it
// is, URL-encoded (query and path), JSON-escaped (with and without HTML
// escaping), XML- and HTML-escaped; longest first, without repeats.
func encodings(v string) []string {
	out := []string{v, url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v)}
	for _, escapeHTML := range []bool{false, true} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		_ = enc.Encode(v)
		out = append(out, strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), `"`)[1:])
	}
	var x bytes.Buffer
	_ = xml.EscapeText(&x, []byte(v))
	out = append(out, x.String())
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}

// errNotJSON says a body that claims to be JSON is not.
var errNotJSON = errors.New("not JSON")

// redactJSON rewrites a JSON document, keeping its key order, with the
// value of every sensitive key (a scalar, an object or an array)
// replaced by "[REDACTED]", and every string value redacted as
// redactString does. The output is compact; strings that were not
// redacted keep their escapes. changed says whether anything was
// redacted.
func redactJSON(body []byte, depth int) (out []byte, changed bool, err error) {
	if !json.Valid(body) {
		return nil, false, errNotJSON
	}
	w := jsonWalker{src: body, depth: depth}
	w.out = make([]byte, 0, len(body))
	w.value()
	return w.out, w.changed, nil
}

// jsonWalker copies a valid JSON document, redacting as it goes.
type jsonWalker struct {
	src     []byte
	i       int
	out     []byte
	depth   int
	changed bool
}

func (w *jsonWalker) space() {
	for w.i < len(w.src) && (w.src[w.i] == ' ' || w.src[w.i] == '\t' || w.src[w.i] == '\r' || w.src[w.i] == '\n') {
		w.i++
	}
}

func (w *jsonWalker) value() {
	w.space()
	switch w.src[w.i] {
	case '{':
		w.i++
		w.out = append(w.out, '{')
		for n := 0; ; n++ {
			w.space()
			if w.src[w.i] == '}' {
				break
			}
			if w.src[w.i] == ',' {
				w.i++
				w.space()
			}
			if n > 0 {
				w.out = append(w.out, ',')
			}
			start := w.i
			raw := w.src[start:w.stringEnd()]
			w.out = append(w.out, raw...)
			w.space()
			w.i++ // ':'
			w.out = append(w.out, ':')
			w.space()
			if IsSensitiveKey(decodeJSONString(raw)) {
				w.skip()
				w.out = append(w.out, `"`+Redacted+`"`...)
				w.changed = true
				continue
			}
			w.value()
		}
		w.i++
		w.out = append(w.out, '}')
	case '[':
		w.i++
		w.out = append(w.out, '[')
		for n := 0; ; n++ {
			w.space()
			if w.src[w.i] == ']' {
				break
			}
			if w.src[w.i] == ',' {
				w.i++
			}
			if n > 0 {
				w.out = append(w.out, ',')
			}
			w.value()
		}
		w.i++
		w.out = append(w.out, ']')
	case '"':
		start := w.i
		end := w.stringEnd()
		raw := w.src[start:end]
		v := decodeJSONString(raw)
		if r := redactString(v, w.depth); r != v {
			w.changed = true
			w.out = appendJSONString(w.out, r)
		} else {
			w.out = append(w.out, raw...)
		}
	default: // a number, true, false or null
		start := w.i
		for w.i < len(w.src) && !strings.ContainsRune(",}] \t\r\n", rune(w.src[w.i])) {
			w.i++
		}
		w.out = append(w.out, w.src[start:w.i]...)
	}
}

// stringEnd moves past the string that starts at w.i and returns where
// it ends.
func (w *jsonWalker) stringEnd() int {
	for w.i++; w.i < len(w.src); w.i++ {
		switch w.src[w.i] {
		case '\\':
			w.i++
		case '"':
			w.i++
			return w.i
		}
	}
	return w.i
}

// skip moves past the value at w.i.
func (w *jsonWalker) skip() {
	switch w.src[w.i] {
	case '"':
		w.stringEnd()
	case '{', '[':
		depth := 0
		for ; w.i < len(w.src); w.i++ {
			switch w.src[w.i] {
			case '"':
				w.stringEnd()
				w.i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					w.i++
					return
				}
			}
		}
	default:
		for w.i < len(w.src) && !strings.ContainsRune(",}] \t\r\n", rune(w.src[w.i])) {
			w.i++
		}
	}
}

// decodeJSONString returns the value of a valid JSON string literal.
func decodeJSONString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var v string
	_ = json.Unmarshal(raw, &v)
	return v
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func writeString(b *bytes.Buffer, s string) {
	b.Write(appendJSONString(nil, s))
}
