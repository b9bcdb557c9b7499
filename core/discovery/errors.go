package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"unicode"
)

// Stages of fetching a document, as Error.Stage.
const (
	StageDNS      = "dns"      // the host name did not resolve
	StageConnect  = "connect"  // no connection, a timeout, or a broken transfer
	StageTLS      = "tls"      // TLS setup, handshake or certificate verification
	StageHTTP     = "http"     // a status other than 200, or an oversized body
	StageJSON     = "json"     // the body is not a JSON object
	StageDocument = "document" // a required field is missing or malformed
	StageIssuer   = "issuer"   // the issuer is missing or does not match the URL
	StageJWKS     = "jwks"     // the JWKS is not a valid JWK set
)

// Error is a failure to fetch or accept a discovery document (or, from
// Client.Test, a JWKS). Its message names the URL and says what went wrong
// in words an administrator can act on; errors.As and errors.Is reach the
// underlying error (*net.DNSError, x509.UnknownAuthorityError,
// x509.HostnameError, *StatusError, context.DeadlineExceeded …) through
// Err.
type Error struct {
	URL   string
	Stage string // one of the Stage constants
	Err   error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.URL + ": " + e.Stage + " failed"
	}
	return e.URL + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// StatusError is the cause of a StageHTTP error for a status other than
// 200.
type StatusError struct {
	StatusCode  int
	Status      string // e.g. "404 Not Found"
	ContentType string
	// Body is the start of the body (at most 200 bytes), made printable.
	Body string
}

func (e *StatusError) Error() string {
	msg := "HTTP " + e.Status
	if e.Body != "" {
		msg += fmt.Sprintf("; the body starts: %q", e.Body)
	}
	return msg
}

// explained puts a sentence for a person in front of an error, keeping the
// error for errors.As and errors.Is.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

func explain(err error, format string, args ...any) error {
	return &explained{msg: fmt.Sprintf(format, args...), err: err}
}

// transportError explains an error of http.Client.Do or of reading a body.
func transportError(rawURL string, err error) *Error {
	var (
		dnsErr    *net.DNSError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
		opErr     *net.OpError
	)
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err // drop the `Get "URL":` prefix; Error names the URL
	}
	e := &Error{URL: rawURL, Stage: StageConnect}
	switch {
	case errors.Is(err, context.Canceled):
		e.Err = explain(err, "cancelled")
	case errors.As(err, &dnsErr):
		e.Stage = StageDNS
		reason := dnsErr.Err
		switch {
		case dnsErr.IsNotFound:
			reason = "no such host"
		case dnsErr.IsTimeout:
			reason = "the DNS server did not answer in time"
		}
		e.Err = explain(err, "DNS lookup failed for host %q: %s", dnsErr.Name, reason)
	case errors.As(err, &unknownCA):
		e.Stage = StageTLS
		e.Err = explain(err, "TLS: the server's certificate is signed by an unknown authority (%s); "+
			"set the profile's CA file (--ca-file) or CA dir (--ca-dir) to the CA that issued it", certIssuer(unknownCA.Cert))
	case errors.As(err, &hostErr):
		e.Stage = StageTLS
		e.Err = explain(err, "TLS: the server's certificate is for another host (%s); "+
			"use a URL with a host name the certificate names, or, for a test setup only, skip host name verification",
			strings.TrimPrefix(hostErr.Error(), "x509: "))
	case errors.As(err, &invalid):
		e.Stage = StageTLS
		e.Err = explain(err, "TLS: the server's certificate is not valid: %s", strings.TrimPrefix(invalid.Error(), "x509: "))
	case errors.As(err, &verifyErr):
		e.Stage = StageTLS
		e.Err = explain(err, "TLS: the server's certificate could not be verified: %s", strings.TrimPrefix(verifyErr.Err.Error(), "x509: "))
	case errors.As(err, &recordErr):
		e.Stage = StageTLS
		e.Err = explain(err, "TLS: the server did not answer with TLS (is this the right port?)")
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http's own error for a RecordHeaderError that looks like
		// HTTP; it does not wrap the TLS error.
		e.Stage = StageTLS
		e.Err = explain(err, "TLS: the server did not answer with TLS but with plain http (use an http:// URL, or the TLS port)")
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		e.Stage = StageTLS
		alert := opErr.Err.Error()
		hint := ""
		switch {
		case strings.Contains(alert, "certificate required"), strings.Contains(alert, "handshake failure"):
			hint = "; it wants a client certificate: set the profile's client certificate and key"
		case strings.Contains(alert, "bad certificate"), strings.Contains(alert, "unknown certificate authority"),
			strings.Contains(alert, "certificate unknown"), strings.Contains(alert, "certificate expired"),
			strings.Contains(alert, "certificate revoked"):
			hint = "; it does not accept our client certificate"
		}
		e.Err = explain(err, "TLS: the server refused the handshake (%s)%s", alert, hint)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Err = explain(err, "the provider at %s does not answer (connection refused); is it running, is the port right?", hostPort(rawURL))
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Err = explain(err, "the provider at %s does not answer in time (%s); is it running, is it reachable from here?", hostPort(rawURL), cause)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		e.Err = explain(err, "the provider at %s cannot be reached (%s); is the network route or a firewall in the way?", hostPort(rawURL), cause)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		e.Err = explain(err, "the provider at %s closed the connection (%s); is a proxy or the provider failing?", hostPort(rawURL), cause)
	default:
		e.Err = explain(err, "%s", cause)
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func certIssuer(c *x509.Certificate) string {
	if c == nil {
		return "issuer unknown"
	}
	name := c.Issuer.CommonName
	if name == "" {
		name = c.Issuer.String()
	}
	return fmt.Sprintf("issued by %q", name)
}

func hostPort(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "http" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

// snippet returns the start of a body, at most n bytes, as one printable
// line.
func snippet(body []byte, n int) string {
	if len(body) > n {
		body = body[:n] // a rune cut in two becomes "?" below
	}
	s := strings.ToValidUTF8(string(body), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Explain turns what http.Client.Do returned for a request to one of a
// provider's endpoints into an *Error that says what went wrong as the
// discovery fetch (and so oidcctl profile test) says it: "the provider at
// HOST does not answer (connection refused); is it running ...", not
// `Post "URL": dial tcp ...`. Errors that are not about reaching the
// server, and those already explained, are returned as they are.
func Explain(err error) error {
	var (
		de *Error
		ue *url.Error
	)
	if err == nil || errors.As(err, &de) || !errors.As(err, &ue) {
		return err
	}
	return transportError(ue.URL, err)
}

// UnreachableError is a provider that could not be reached (no DNS
// answer, no connection, no answer in time, a failed TLS handshake) for a
// profile: its message ends with the command that diagnoses it.
type UnreachableError struct {
	Profile string
	Err     error // holds an *Error
}

func (e *UnreachableError) Error() string {
	msg := e.Err.Error()
	if strings.HasSuffix(msg, "?") {
		return msg + " Try: oidcctl profile test " + e.Profile
	}
	return msg + "; try: oidcctl profile test " + e.Profile
}

// Unwrap returns Err.
func (e *UnreachableError) Unwrap() error { return e.Err }

// ForProfile makes err, when it is a failure to reach the provider of
// profile (an *Error of stage dns, connect or tls, not a cancellation),
// an *UnreachableError that points at oidcctl profile test; other errors
// are returned as they are.
func ForProfile(profile string, err error) error {
	var (
		de *Error
		ue *UnreachableError
	)
	if err == nil || errors.As(err, &ue) || !errors.As(err, &de) || errors.Is(err, context.Canceled) {
		return err
	}
	switch de.Stage {
	case StageDNS, StageConnect, StageTLS:
	default:
		return err
	}
	return &UnreachableError{Profile: profile, Err: err}
}
