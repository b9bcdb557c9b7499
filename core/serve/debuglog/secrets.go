package debuglog

import (
	"net/http"
	"slices"
	"strings"

	"oidcctl/core"
)

// Secrets is a set of exact secret strings to take out of debugger
// entries wherever they appear, also URL-, JSON-, XML- or HTML-encoded.
// Values shorter than MinSecretLen are left out. A Secrets is immutable
// and safe for concurrent use; build a new one when the set changes. The
// nil *Secrets holds nothing.
type Secrets struct {
	r *strings.Replacer
	n int
}

// NewSecrets returns the set of values.
func NewSecrets(values ...string) *Secrets {
	var olds []string
	n := 0
	for _, v := range values {
		if len(v) < MinSecretLen {
			continue
		}
		n++
		olds = append(olds, encodings(v)...)
	}
	if len(olds) == 0 {
		return &Secrets{}
	}
	// strings.Replacer prefers the earlier of two olds that match at one
	// place: longest first, so that a secret that is the start of another
	// does not leave the other's tail behind.
	slices.SortFunc(olds, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	olds = slices.Compact(olds)
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, Redacted)
	}
	return &Secrets{r: strings.NewReplacer(pairs...), n: n}
}

// Len returns how many secrets the set holds.
func (s *Secrets) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Redact returns v without the secrets.
func (s *Secrets) Redact(v string) string {
	if s == nil || s.r == nil || len(v) < MinSecretLen {
		return v
	}
	return s.r.Replace(v)
}

// RedactBytes returns b without the secrets; b itself is not changed.
func (s *Secrets) RedactBytes(b []byte) []byte {
	if s == nil || s.r == nil || len(b) < MinSecretLen {
		return b
	}
	out := s.r.Replace(string(b))
	if len(out) == len(b) && out == string(b) {
		return b
	}
	return []byte(out)
}

// RedactEntry returns e without the secrets in its request id, path,
// user, reason, header values and bodies.
func (s *Secrets) RedactEntry(e core.DebugEntry) core.DebugEntry {
	if s == nil || s.r == nil {
		return e
	}
	e.RequestID = s.Redact(e.RequestID)
	e.Path = s.Redact(e.Path)
	e.User = s.Redact(e.User)
	e.Reason = s.Redact(e.Reason)
	e.RequestHeader = s.redactHeader(e.RequestHeader)
	e.ResponseHeader = s.redactHeader(e.ResponseHeader)
	e.RequestBody = s.RedactBytes(e.RequestBody)
	e.ResponseBody = s.RedactBytes(e.ResponseBody)
	return e
}

func (s *Secrets) redactHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, vs := range h {
		red := make([]string, len(vs))
		for i, v := range vs {
			red[i] = s.Redact(v)
		}
		out[name] = red
	}
	return out
}
