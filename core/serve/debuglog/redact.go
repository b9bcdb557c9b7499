// Package debuglog is the debugger of `oidcctl serve`: it takes the
// secrets out of recorded calls (Redact*) and writes the entries to a
// core.DebugStore in batches, off the request path, pruning old ones
// (Recorder).
//
// # What is redacted
//
//   - headers: Authorization and Proxy-Authorization keep only their
//     scheme ("Bearer [REDACTED]"); Cookie and Set-Cookie keep only the
//     cookie names (and Set-Cookie's attributes); any header whose name
//     says token, secret, password, session or api key loses its value;
//   - bodies: the values of the keys in SensitiveKeys (case-insensitive),
//     in JSON objects at any depth and in form-encoded bodies; a JSON body
//     that was captured whole is rewritten token by token (its key order
//     kept), anything else (a body cut at the size limit, text, XML) by
//     pattern;
//   - paths: the same keys in the query string;
//   - everywhere: anything that looks like a JWT (three base64url parts,
//     the first starting "eyJ"), and the exact secret strings the caller
//     knows of (the bearer token of the call, the token attached to an
//     outgoing call), so that an upstream echoing a token does not leak it.
package debuglog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Redacted replaces every secret.
const Redacted = "[REDACTED]"

// SensitiveKeys are the JSON keys and form fields whose values are
// redacted, compared without regard to case.
var SensitiveKeys = []string{
	"access_token", "refresh_token", "id_token", "client_secret", "password",
	"token", "client_assertion", "subject_token", "actor_token", "code_verifier",
	"device_code", "assertion",
}

var (
	sensitive = func() map[string]bool {
		m := make(map[string]bool, len(SensitiveKeys))
		for _, k := range SensitiveKeys {
			m[k] = true
		}
		return m
	}()
	keyAlternation = strings.Join(SensitiveKeys, "|")
	// "key": value, the value a string (maybe cut off) or a scalar.
	jsonPair = regexp.MustCompile(`(?i)("(?:` + keyAlternation + `)"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)`)
	// key=value in a form body or a query string.
	formPair = regexp.MustCompile(`(?i)((?:^|[&?;\s])(?:` + keyAlternation + `)=)[^&\s]*`)
	// A JWT (JWS compact serialization, or the start of a JWE).
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)
)

// headerWords mark header names whose whole value is a secret.
var headerWords = []string{"token", "secret", "password", "passwd", "api-key", "apikey", "api_key", "session"}

// IsSensitiveKey reports whether a JSON key or form field is redacted.
func IsSensitiveKey(k string) bool { return sensitive[strings.ToLower(k)] }

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
				vs[i] = redactText(v, secrets)
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

// RedactPath redacts the sensitive query parameters (and anything that
// looks like a token) of a path with its query.
func RedactPath(p string, secrets ...string) string {
	path, query, found := strings.Cut(p, "?")
	if !found {
		return redactText(path, secrets)
	}
	return redactText(path, secrets) + "?" + redactText(formPair.ReplaceAllString(query, "${1}"+Redacted), secrets)
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
		if out, err := redactJSON(body); err == nil {
			return redactBytes(out, secrets)
		}
	}
	out := jsonPair.ReplaceAll(body, []byte(`${1}"`+Redacted+`"`))
	out = formPair.ReplaceAll(out, []byte("${1}"+Redacted))
	return redactBytes(out, secrets)
}

func redactText(s string, secrets []string) string {
	s = jwtLike.ReplaceAllString(s, Redacted)
	for _, sec := range secrets {
		if len(sec) >= 8 {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

func redactBytes(b []byte, secrets []string) []byte {
	b = jwtLike.ReplaceAll(b, []byte(Redacted))
	for _, sec := range secrets {
		if len(sec) >= 8 {
			b = bytes.ReplaceAll(b, []byte(sec), []byte(Redacted))
		}
	}
	return b
}

// redactJSON rewrites a JSON document token by token, keeping its key
// order, with the value of every sensitive key (a scalar, an object or an
// array) replaced by "[REDACTED]". The output is compact.
func redactJSON(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	out.Grow(len(body))
	type frame struct {
		object bool
		n      int // values (arrays) or pairs (objects) written
	}
	var stack []frame
	wantKey := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			out.WriteByte(byte(d))
			stack = stack[:len(stack)-1]
			wantKey = len(stack) > 0 && stack[len(stack)-1].object
			continue
		}
		if wantKey {
			top := &stack[len(stack)-1]
			key := tok.(string)
			if top.n > 0 {
				out.WriteByte(',')
			}
			top.n++
			writeString(&out, key)
			out.WriteByte(':')
			if IsSensitiveKey(key) {
				if err := skipValue(dec); err != nil {
					return nil, err
				}
				writeString(&out, Redacted)
				continue // still wantKey
			}
			wantKey = false
			tok, err = dec.Token()
			if err != nil {
				return nil, err
			}
		} else if len(stack) > 0 && !stack[len(stack)-1].object {
			top := &stack[len(stack)-1]
			if top.n > 0 {
				out.WriteByte(',')
			}
			top.n++
		}
		// Write a value.
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, frame{object: v == '{'})
			wantKey = v == '{'
			continue
		case string:
			writeString(&out, v)
		case json.Number:
			out.WriteString(v.String())
		case bool:
			if v {
				out.WriteString("true")
			} else {
				out.WriteString("false")
			}
		case nil:
			out.WriteString("null")
		}
		wantKey = len(stack) > 0 && stack[len(stack)-1].object
	}
	if len(stack) != 0 {
		return nil, io.ErrUnexpectedEOF
	}
	return out.Bytes(), nil
}

// skipValue reads one value, scalar or compound.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}
