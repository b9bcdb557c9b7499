// Package tlsclient builds the HTTP client that oidcctl uses for every call
// to a profile's provider, from the profile's TLS options: a client
// certificate and key (the key may be encrypted), extra trusted CAs from a
// file or a directory, and the two switches that relax verification.
//
// Every error names the file it is about and says what is wrong with it in
// words an administrator can act on. No error ever contains the key
// password.
package tlsclient

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"oidcctl/core"
)

// Timeouts of the transport that New builds. The overall timeout of a
// request is the one given to New.
const (
	DialTimeout           = 10 * time.Second
	TLSHandshakeTimeout   = 10 * time.Second
	ResponseHeaderTimeout = 30 * time.Second
	IdleConnTimeout       = 90 * time.Second
)

// Sentinel errors that callers test with errors.Is, for instance to ask for
// the key password again.
var (
	// ErrPasswordRequired: the client key is encrypted and no password is
	// set.
	ErrPasswordRequired = errors.New("the key is encrypted and no key password is set")
	// ErrWrongPassword: the key password does not decrypt the client key.
	ErrWrongPassword = errors.New("wrong key password (the key could not be decrypted with it)")
	// ErrKeyMismatch: the client key does not belong to the client
	// certificate.
	ErrKeyMismatch = errors.New("the key does not belong to the certificate")
)

// FileError is a problem with one of the files named in core.TLSOptions.
type FileError struct {
	// What names the option: "client certificate", "client key",
	// "CA file" or "CA dir".
	What string
	// Path is the file or directory as configured.
	Path string
	// Err says what is wrong; errors.Is works through it for
	// fs.ErrNotExist, ErrPasswordRequired, ErrWrongPassword and
	// ErrKeyMismatch.
	Err error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s %s: %v", e.What, e.Path, e.Err) }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// New returns an HTTP client for a provider with the given TLS options.
//
// Its transport is a clone of http.DefaultTransport (so HTTPS_PROXY and
// friends still apply) with the timeouts above, and timeout bounds each
// whole request including reading the body; 0 means no overall timeout.
// It follows redirects, but not from https to http.
func New(opts core.TLSOptions, timeout time.Duration) (*http.Client, error) {
	cfg, err := Config(opts)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	t.DialContext = (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = TLSHandshakeTimeout
	t.ResponseHeaderTimeout = ResponseHeaderTimeout
	t.IdleConnTimeout = IdleConnTimeout
	t.ExpectContinueTimeout = time.Second
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: checkRedirect}, nil
}

// checkRedirect follows at most 10 redirects, as net/http does, and never
// one from https to plain http, which would send the request (and whatever
// the provider answers) unprotected.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing the redirect from %s to %s: it leaves https", prev.URL.Redacted(), req.URL.Redacted())
	}
	return nil
}

// Config returns the TLS configuration for the given options:
//
//   - ClientCert and ClientKey: the client certificate (with any
//     intermediates after it in the same file) and its key, sent whenever
//     the server asks for a client certificate. The key may be
//     PKCS#1, SEC 1 or PKCS#8, and may be encrypted with ClientKeyPassword,
//     either as a legacy PEM block ("Proc-Type: 4,ENCRYPTED") or as PKCS#8
//     "ENCRYPTED PRIVATE KEY" (PBES2 with PBKDF2 or scrypt, AES or 3DES, as
//     OpenSSL 1.1 and later write it). Both may name the same file. A
//     password set for a key that is not encrypted is ignored.
//   - CAFile and CADir: certificates trusted in addition to the system
//     roots. CADir is read once, now: every regular file in it whose name
//     ends in .pem or .crt (any case) must hold at least one PEM
//     certificate; other files are ignored.
//   - SkipVerifyHostname: the chain is still verified against the roots,
//     but the certificate may be issued for any host name.
//   - SkipVerifyPeer: nothing about the server's certificate is checked.
//
// The minimum TLS version is 1.2.
func Config(opts core.TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}

	switch {
	case opts.ClientCert != "" && opts.ClientKey != "":
		cert, err := loadKeyPair(opts.ClientCert, opts.ClientKey, opts.ClientKeyPassword)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
		// Send the certificate whatever CAs the server asks for, as curl
		// and OpenSSL do. Go alone would send none when its issuer is not
		// in the server's list, and the server's refusal would then read
		// "certificate required" instead of naming the real problem.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	case opts.ClientCert != "":
		return nil, &FileError{"client certificate", opts.ClientCert, errors.New("is set without a client key file")}
	case opts.ClientKey != "":
		return nil, &FileError{"client key", opts.ClientKey, errors.New("is set without a client certificate file")}
	}

	if opts.CAFile != "" || opts.CADir != "" {
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			// No system roots (a bare container): trust only what is
			// configured.
			roots = x509.NewCertPool()
		}
		if opts.CAFile != "" {
			if err := addCAFile(roots, "CA file", opts.CAFile); err != nil {
				return nil, err
			}
		}
		if opts.CADir != "" {
			if err := addCADir(roots, opts.CADir); err != nil {
				return nil, err
			}
		}
		cfg.RootCAs = roots
	}

	switch {
	case opts.SkipVerifyPeer:
		cfg.InsecureSkipVerify = true
	case opts.SkipVerifyHostname:
		// InsecureSkipVerify turns off Go's own verification entirely;
		// VerifyConnection puts back everything but the host name.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = verifyChainOnly(cfg)
	}
	return cfg, nil
}

// verifyChainOnly verifies the server's chain against cfg's roots (the
// system roots when cfg.RootCAs is nil) without checking the host name. Its
// errors are *tls.CertificateVerificationError, as Go's own verification
// returns, so callers classify both alike.
func verifyChainOnly(cfg *tls.Config) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		opts := x509.VerifyOptions{
			Roots:         cfg.RootCAs,
			Intermediates: x509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		if cfg.Time != nil {
			opts.CurrentTime = cfg.Time()
		}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
}

// loadKeyPair reads the client certificate and its key.
func loadKeyPair(certFile, keyFile string, password core.Secret) (tls.Certificate, error) {
	certPEM, err := readFile("client certificate", certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain, err := parseCertificates(certPEM)
	if err != nil {
		return tls.Certificate{}, &FileError{"client certificate", certFile, err}
	}
	keyPEM := certPEM
	if keyFile != certFile {
		if keyPEM, err = readFile("client key", keyFile); err != nil {
			return tls.Certificate{}, err
		}
	}
	key, err := parseKey(keyPEM, password)
	if err != nil {
		return tls.Certificate{}, &FileError{"client key", keyFile, err}
	}
	leaf := chain[0]
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return tls.Certificate{}, &FileError{"client key", keyFile,
			fmt.Errorf("%w in %s (subject %q)", ErrKeyMismatch, certFile, leaf.Subject.String())}
	}
	cert := tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

// readFile reads a configured file and says which option named it when it
// cannot.
//
// It reads at most MaxFileSize bytes: a certificate, key or CA bundle is
// far smaller, and /dev/zero as a CA file must not fill the memory.
func readFile(what, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{what, path, describeOSError(err)}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &FileError{what, path, describeOSError(err)}
	}
	if len(b) > MaxFileSize {
		return nil, &FileError{what, path, errors.New("is larger than 1 MiB, the most oidcctl reads from a file")}
	}
	return b, nil
}

// MaxFileSize bounds each certificate, key and CA file read: 1 MiB, as
// every file oidcctl reads.
const MaxFileSize = 1 << 20

// describeOSError turns an os error into a short phrase, keeping the
// original for errors.Is.
func describeOSError(err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("does not exist: %w", os.ErrNotExist)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("cannot be read (permission denied): %w", os.ErrPermission)
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot be read: %w", pe.Err)
	}
	return err
}

// parseCertificates returns every CERTIFICATE block of a PEM file.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	blocks, err := pemBlocks(data)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d is not a valid certificate: %w", i+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("holds no CERTIFICATE block (found %s)", blockTypes(blocks))
	}
	return certs, nil
}

// addCAFile adds every certificate of a PEM file to pool.
func addCAFile(pool *x509.CertPool, what, path string) error {
	data, err := readFile(what, path)
	if err != nil {
		return err
	}
	certs, err := parseCertificates(data)
	if err != nil {
		return &FileError{what, path, err}
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return nil
}

// addCADir adds the certificates of every *.pem and *.crt file in dir.
func addCADir(pool *x509.CertPool, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &FileError{"CA dir", dir, describeOSError(err)}
	}
	n := 0
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if ext != ".pem" && ext != ".crt" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		// Stat follows symbolic links, as in /etc/ssl/certs.
		fi, err := os.Stat(path)
		if err != nil {
			return &FileError{"CA dir", dir, fmt.Errorf("%s: %w", e.Name(), describeOSError(err))}
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if err := addCAFile(pool, "CA dir file", path); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return &FileError{"CA dir", dir, errors.New("holds no *.pem or *.crt file")}
	}
	return nil
}

// blockTypes lists the types of PEM blocks for an error message.
func blockTypes(blocks []*pem.Block) string {
	var types []string
	for _, b := range blocks {
		if !slices.Contains(types, b.Type) {
			types = append(types, b.Type)
		}
	}
	if len(types) == 0 {
		return "nothing"
	}
	return strings.Join(types, ", ")
}
