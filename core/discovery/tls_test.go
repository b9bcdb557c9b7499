package discovery_test

import (
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/tlsclient"
	"oidcctl/core/tlsclient/tlsclienttest"
)

const keyPassword = "corr3ct-h0rse-battery"

// serveDiscovery answers every request with a valid document whose issuer
// is the requested origin.
func serveDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(docFor("https://"+r.Host, nil))
}

// TestTLS fetches discovery documents from HTTPS servers that require a
// client certificate issued by a private CA.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := tlsclienttest.NewCA(t, "oidcctl test CA")
	stranger := tlsclienttest.NewCA(t, "Stranger CA")
	client := ca.Client(t, "oidcctl")
	strangerClient := stranger.Client(t, "intruder")

	good := tlsclienttest.StartServer(t, http.HandlerFunc(serveDiscovery), ca.Server(t, "127.0.0.1"), ca)
	wrongName := tlsclienttest.StartServer(t, http.HandlerFunc(serveDiscovery), ca.Server(t, "idp.wrong.example"), ca)
	plain := httptest.NewServer(http.HandlerFunc(serveDiscovery))
	defer plain.Close()

	caFile := tlsclienttest.WriteFile(t, dir, "ca.pem", ca.CertPEM)
	strangerCAFile := tlsclienttest.WriteFile(t, dir, "stranger-ca.pem", stranger.CertPEM)
	caDir := t.TempDir()
	tlsclienttest.WriteFile(t, caDir, "stranger.pem", stranger.CertPEM)
	tlsclienttest.WriteFile(t, caDir, "ours.crt", ca.CertPEM)
	certFile := tlsclienttest.WriteFile(t, dir, "client.crt", client.CertPEM)
	keyFile := tlsclienttest.WriteFile(t, dir, "client.key", client.KeyPEM)
	legacyKeyFile := tlsclienttest.WriteFile(t, dir, "client-legacy.key", client.LegacyEncryptedKeyPEM(t, keyPassword))
	pkcs8KeyFile := tlsclienttest.WriteFile(t, dir, "client-pkcs8.key", client.PKCS8EncryptedKeyPEM(t, keyPassword))
	strangerCert := tlsclienttest.WriteFile(t, dir, "intruder.crt", strangerClient.CertPEM)
	strangerKey := tlsclienttest.WriteFile(t, dir, "intruder.key", strangerClient.KeyPEM)

	withClient := func(o core.TLSOptions) core.TLSOptions {
		o.ClientCert, o.ClientKey = certFile, keyFile
		return o
	}

	tests := []struct {
		name  string
		srv   string
		opts  core.TLSOptions
		stage string // "" for success
		want  []string
		as    func(error) bool
	}{
		{
			name: "no CA: unknown authority", srv: good.URL, opts: withClient(core.TLSOptions{}),
			stage: discovery.StageTLS,
			want:  []string{"TLS: the server's certificate is signed by an unknown authority", `issued by "oidcctl test CA"`, "--ca-file"},
			as:    func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) },
		},
		{name: "CA file", srv: good.URL, opts: withClient(core.TLSOptions{CAFile: caFile})},
		{name: "CA dir", srv: good.URL, opts: withClient(core.TLSOptions{CADir: caDir})},
		{
			name: "no client certificate", srv: good.URL, opts: core.TLSOptions{CAFile: caFile},
			stage: discovery.StageTLS,
			want:  []string{"TLS: the server refused the handshake (tls: certificate required); it wants a client certificate"},
		},
		{
			name: "client certificate from an unknown CA", srv: good.URL,
			opts:  core.TLSOptions{CAFile: caFile, ClientCert: strangerCert, ClientKey: strangerKey},
			stage: discovery.StageTLS,
			want:  []string{"TLS: the server refused the handshake", "it does not accept our client certificate"},
		},
		{
			name: "legacy encrypted key, right password", srv: good.URL,
			opts: core.TLSOptions{CAFile: caFile, ClientCert: certFile, ClientKey: legacyKeyFile, ClientKeyPassword: core.NewSecret(keyPassword)},
		},
		{
			name: "legacy encrypted key, wrong password", srv: good.URL,
			opts:  core.TLSOptions{CAFile: caFile, ClientCert: certFile, ClientKey: legacyKeyFile, ClientKeyPassword: core.NewSecret("nope-" + keyPassword)},
			stage: discovery.StageTLS,
			want:  []string{"cannot set up TLS: client key " + legacyKeyFile + ": wrong key password"},
			as:    func(err error) bool { return errors.Is(err, tlsclient.ErrWrongPassword) },
		},
		{
			name: "legacy encrypted key, no password", srv: good.URL,
			opts:  core.TLSOptions{CAFile: caFile, ClientCert: certFile, ClientKey: legacyKeyFile},
			stage: discovery.StageTLS,
			want:  []string{"client key " + legacyKeyFile + ": the key is encrypted and no key password is set"},
			as:    func(err error) bool { return errors.Is(err, tlsclient.ErrPasswordRequired) },
		},
		{
			name: "PKCS#8 encrypted key, right password", srv: good.URL,
			opts: core.TLSOptions{CAFile: caFile, ClientCert: certFile, ClientKey: pkcs8KeyFile, ClientKeyPassword: core.NewSecret(keyPassword)},
		},
		{
			name: "PKCS#8 encrypted key, wrong password", srv: good.URL,
			opts:  core.TLSOptions{CAFile: caFile, ClientCert: certFile, ClientKey: pkcs8KeyFile, ClientKeyPassword: core.NewSecret("nope-" + keyPassword)},
			stage: discovery.StageTLS,
			want:  []string{"client key " + pkcs8KeyFile + ": wrong key password"},
			as:    func(err error) bool { return errors.Is(err, tlsclient.ErrWrongPassword) },
		},
		{
			name: "wrong host name", srv: wrongName.URL, opts: withClient(core.TLSOptions{CAFile: caFile}),
			stage: discovery.StageTLS,
			want:  []string{"TLS: the server's certificate is for another host", "127.0.0.1"},
			as:    func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) },
		},
		{
			name: "wrong host name, host name not verified", srv: wrongName.URL,
			opts: withClient(core.TLSOptions{CAFile: caFile, SkipVerifyHostname: true}),
		},
		{
			name: "wrong host name, host name not verified, CA unknown", srv: wrongName.URL,
			opts:  withClient(core.TLSOptions{CAFile: strangerCAFile, SkipVerifyHostname: true}),
			stage: discovery.StageTLS,
			want:  []string{"signed by an unknown authority"},
			as:    func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) },
		},
		{
			name: "peer not verified", srv: wrongName.URL,
			opts: withClient(core.TLSOptions{SkipVerifyPeer: true}),
		},
		{
			name: "https to a plain http server", srv: strings.Replace(plain.URL, "http:", "https:", 1),
			opts:  core.TLSOptions{},
			stage: discovery.StageTLS,
			want:  []string{"TLS: the server did not answer with TLS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := profile("tls", tt.srv+discoveryPath)
			p.TLS = tt.opts
			d, err := (&discovery.Client{Now: newClock().Now}).Fetch(t.Context(), p)
			if tt.stage == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.Issuer != tt.srv {
					t.Errorf("issuer %q, want %q", d.Issuer, tt.srv)
				}
				return
			}
			wantError(t, err, tt.stage, append([]string{p.DiscoveryURL + ": "}, tt.want...)...)
			if tt.as != nil && !tt.as(err) {
				t.Errorf("errors.Is/As does not reach the cause of %v", err)
			}
			if strings.Contains(err.Error(), keyPassword) {
				t.Errorf("error %q contains the key password", err)
			}
		})
	}
}
