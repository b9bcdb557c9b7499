package tlsclient_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/tlsclient"
	"oidcctl/core/tlsclient/tlsclienttest"
)

const password = "s3cret-Pa55word"

// pki is a CA, a server certificate for 127.0.0.1, a client certificate and
// their files.
type pki struct {
	dir                 string
	ca                  *tlsclienttest.CA
	server, client      *tlsclienttest.Leaf
	caFile              string
	clientCert          string
	clientKey           string
	legacyKey, pkcs8Key string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	ca := tlsclienttest.NewCA(t, "Test CA")
	p := &pki{dir: dir, ca: ca, server: ca.Server(t, "127.0.0.1"), client: ca.Client(t, "oidcctl")}
	p.caFile = tlsclienttest.WriteFile(t, dir, "ca.pem", ca.CertPEM)
	p.clientCert = tlsclienttest.WriteFile(t, dir, "client.crt", p.client.CertPEM)
	p.clientKey = tlsclienttest.WriteFile(t, dir, "client.key", p.client.KeyPEM)
	p.legacyKey = tlsclienttest.WriteFile(t, dir, "legacy.key", p.client.LegacyEncryptedKeyPEM(t, password))
	p.pkcs8Key = tlsclienttest.WriteFile(t, dir, "pkcs8.key", p.client.PKCS8EncryptedKeyPEM(t, password))
	return p
}

func TestConfigFileErrors(t *testing.T) {
	p := newPKI(t)
	other := p.ca.Client(t, "someone else")
	otherKey := tlsclienttest.WriteFile(t, p.dir, "other.key", other.KeyPEM)
	notPEM := tlsclienttest.WriteFile(t, p.dir, "garbage.pem", []byte("this is not PEM\n"))
	emptyDir := t.TempDir()
	badDir := t.TempDir()
	tlsclienttest.WriteFile(t, badDir, "a.crt", p.ca.CertPEM)
	tlsclienttest.WriteFile(t, badDir, "b.pem", p.client.KeyPEM)
	missing := filepath.Join(p.dir, "missing.pem")

	tests := []struct {
		name string
		opts core.TLSOptions
		is   error    // errors.Is target, if any
		want []string // substrings of the message
	}{
		{"missing cert", core.TLSOptions{ClientCert: missing, ClientKey: p.clientKey},
			fs.ErrNotExist, []string{"client certificate " + missing, "does not exist"}},
		{"missing key", core.TLSOptions{ClientCert: p.clientCert, ClientKey: missing},
			fs.ErrNotExist, []string{"client key " + missing, "does not exist"}},
		{"cert not PEM", core.TLSOptions{ClientCert: notPEM, ClientKey: p.clientKey},
			nil, []string{"client certificate " + notPEM, "is not PEM"}},
		{"key file holds a certificate", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.clientCert},
			nil, []string{"client key " + p.clientCert, "holds no private key (found CERTIFICATE)"}},
		{"cert file holds a key", core.TLSOptions{ClientCert: p.clientKey, ClientKey: p.clientKey},
			nil, []string{"client certificate " + p.clientKey, "holds no CERTIFICATE block (found PRIVATE KEY)"}},
		{"key of another cert", core.TLSOptions{ClientCert: p.clientCert, ClientKey: otherKey},
			tlsclient.ErrKeyMismatch, []string{"client key " + otherKey, "does not belong to the certificate", p.clientCert}},
		{"cert without key", core.TLSOptions{ClientCert: p.clientCert},
			nil, []string{"client certificate " + p.clientCert, "without a client key"}},
		{"legacy key without password", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.legacyKey},
			tlsclient.ErrPasswordRequired, []string{"client key " + p.legacyKey, "encrypted and no key password"}},
		{"legacy key, wrong password", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.legacyKey, ClientKeyPassword: core.NewSecret("wrong-" + password)},
			tlsclient.ErrWrongPassword, []string{"client key " + p.legacyKey, "wrong key password"}},
		{"PKCS#8 key without password", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.pkcs8Key},
			tlsclient.ErrPasswordRequired, []string{"client key " + p.pkcs8Key, "encrypted"}},
		{"PKCS#8 key, wrong password", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.pkcs8Key, ClientKeyPassword: core.NewSecret("wrong-" + password)},
			tlsclient.ErrWrongPassword, []string{"client key " + p.pkcs8Key, "wrong key password"}},
		{"CA file /dev/zero", core.TLSOptions{CAFile: "/dev/zero"},
			nil, []string{"CA file /dev/zero", "larger than 1 MiB"}},
		{"client cert /dev/zero", core.TLSOptions{ClientCert: "/dev/zero", ClientKey: p.clientKey},
			nil, []string{"client certificate /dev/zero", "larger than 1 MiB"}},
		{"missing CA file", core.TLSOptions{CAFile: missing},
			fs.ErrNotExist, []string{"CA file " + missing, "does not exist"}},
		{"CA file not PEM", core.TLSOptions{CAFile: notPEM},
			nil, []string{"CA file " + notPEM, "is not PEM"}},
		{"missing CA dir", core.TLSOptions{CADir: filepath.Join(p.dir, "nodir")},
			fs.ErrNotExist, []string{"CA dir " + filepath.Join(p.dir, "nodir"), "does not exist"}},
		{"empty CA dir", core.TLSOptions{CADir: emptyDir},
			nil, []string{"CA dir " + emptyDir, "holds no *.pem or *.crt file"}},
		{"CA dir with a key in it", core.TLSOptions{CADir: badDir},
			nil, []string{"CA dir file " + filepath.Join(badDir, "b.pem"), "holds no CERTIFICATE block"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tlsclient.New(tt.opts, time.Second)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			var fe *tlsclient.FileError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a *FileError: %v", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestConfigReadsKeys(t *testing.T) {
	p := newPKI(t)
	combined := tlsclienttest.WriteFile(t, p.dir, "combined.pem", append(append([]byte{}, p.client.CertPEM...), p.client.KeyPEM...))
	tests := []struct {
		name string
		opts core.TLSOptions
	}{
		{"plain PKCS#8", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.clientKey}},
		{"cert and key in one file", core.TLSOptions{ClientCert: combined, ClientKey: combined}},
		{"legacy encrypted", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.legacyKey, ClientKeyPassword: core.NewSecret(password)}},
		{"PKCS#8 encrypted", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.pkcs8Key, ClientKeyPassword: core.NewSecret(password)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tlsclient.Config(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Certificates) != 1 {
				t.Fatalf("got %d certificates, want 1", len(cfg.Certificates))
			}
			c := cfg.Certificates[0]
			if !c.Leaf.Equal(p.client.Cert) {
				t.Errorf("leaf is %s, want the client certificate", c.Leaf.Subject)
			}
			if !p.client.Key.Equal(c.PrivateKey) {
				t.Error("private key is not the client's key")
			}
		})
	}
}

// TestHandshake talks to an HTTPS server that requires a client
// certificate.
func TestHandshake(t *testing.T) {
	p := newPKI(t)
	srv := tlsclienttest.StartServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.TLS.PeerCertificates[0].Subject.CommonName)
	}), p.server, p.ca)

	caDir := t.TempDir()
	tlsclienttest.WriteFile(t, caDir, "ca.crt", p.ca.CertPEM)
	tlsclienttest.WriteFile(t, caDir, "README", []byte("not a certificate, ignored"))
	client := core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.pkcs8Key, ClientKeyPassword: core.NewSecret(password)}

	tests := []struct {
		name    string
		opts    core.TLSOptions
		wantErr string
	}{
		{"system roots only", client, "certificate signed by unknown authority"},
		{"CA file, no client certificate", core.TLSOptions{CAFile: p.caFile}, "certificate required"},
		{"CA file and client certificate", withCA(client, p.caFile, ""), ""},
		{"CA dir and client certificate", withCA(client, "", caDir), ""},
		{"skip peer verification", core.TLSOptions{ClientCert: p.clientCert, ClientKey: p.clientKey, SkipVerifyPeer: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := tlsclient.New(tt.opts, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer hc.CloseIdleConnections()
			body, err := get(t.Context(), hc, srv.URL)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if body != "hello oidcctl" {
				t.Errorf("body %q, want the server to have seen our client certificate", body)
			}
		})
	}
}

// TestSkipVerifyHostname checks that skipping the host name check still
// verifies the chain.
func TestSkipVerifyHostname(t *testing.T) {
	p := newPKI(t)
	srv := tlsclienttest.StartServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), p.ca.Server(t, "wrong.example"), nil)
	stranger := tlsclienttest.NewCA(t, "Stranger CA")
	strangerFile := tlsclienttest.WriteFile(t, p.dir, "stranger.pem", stranger.CertPEM)

	tests := []struct {
		name    string
		opts    core.TLSOptions
		wantErr string
	}{
		{"host name checked", core.TLSOptions{CAFile: p.caFile}, "cannot validate certificate for 127.0.0.1"},
		{"host name skipped", core.TLSOptions{CAFile: p.caFile, SkipVerifyHostname: true}, ""},
		{"host name skipped, CA unknown", core.TLSOptions{CAFile: strangerFile, SkipVerifyHostname: true}, "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := tlsclient.New(tt.opts, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer hc.CloseIdleConnections()
			body, err := get(t.Context(), hc, srv.URL)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || body != "ok" {
				t.Fatalf("got %q, %v; want ok", body, err)
			}
		})
	}
}

func TestNoRedirectToPlainHTTP(t *testing.T) {
	p := newPKI(t)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "unprotected")
	}))
	defer plain.Close()
	secure := tlsclienttest.StartServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Redirect(w, r, plain.URL+"/x", http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}), p.server, nil)
	hc, err := tlsclient.New(core.TLSOptions{CAFile: p.caFile}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	if body, err := get(t.Context(), hc, secure.URL+"/same"); err != nil || body != "ok" {
		t.Errorf("https redirect within https: %q, %v", body, err)
	}
	_, err = get(t.Context(), hc, secure.URL+"/down")
	if err == nil || !strings.Contains(err.Error(), "refusing the redirect from "+secure.URL+"/down to "+plain.URL+"/x: it leaves https") {
		t.Errorf("redirect to http: %v, want it refused", err)
	}
}

func TestNewTransport(t *testing.T) {
	hc, err := tlsclient.New(core.TLSOptions{}, 7*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != 7*time.Second {
		t.Errorf("Timeout = %s, want 7s", hc.Timeout)
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", hc.Transport)
	}
	if tr == http.DefaultTransport {
		t.Error("transport is http.DefaultTransport itself, want a clone")
	}
	if tr.TLSHandshakeTimeout != tlsclient.TLSHandshakeTimeout || tr.ResponseHeaderTimeout != tlsclient.ResponseHeaderTimeout {
		t.Errorf("timeouts %s/%s, want %s/%s", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout,
			tlsclient.TLSHandshakeTimeout, tlsclient.ResponseHeaderTimeout)
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.RootCAs != nil || tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("default options should verify against the system roots: %+v", tr.TLSClientConfig)
	}
}

func withCA(o core.TLSOptions, file, dir string) core.TLSOptions {
	o.CAFile, o.CADir = file, dir
	return o
}

func get(ctx context.Context, hc *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
