package grant_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
)

// mtlsProvider is a test-only token endpoint that authenticates clients as
// RFC 8705 says: tls_client_auth by a certificate that chains to ca and
// whose subject CN is the client id (§2.1.2, tls_client_auth_subject_dn);
// self_signed_tls_client_auth by the SHA-256 of a registered certificate
// (§2.2). A request that also carries a secret or an assertion is refused
// (RFC 6749 §2.3: one method per request).
type mtlsProvider struct {
	srv        *httptest.Server
	ca         *x509.CertPool
	selfSigned map[[32]byte]string // certificate hash -> client id
}

func startMTLS(t *testing.T, ca *x509.CertPool) *mtlsProvider {
	t.Helper()
	m := &mtlsProvider{ca: ca, selfSigned: map[[32]byte]string{}}
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(m.token))
	m.srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	m.srv.StartTLS()
	t.Cleanup(m.srv.Close)
	return m
}

func (m *mtlsProvider) token(w http.ResponseWriter, r *http.Request) {
	refuse := func(why string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": why})
	}
	_ = r.ParseForm()
	id := r.PostForm.Get("client_id")
	switch {
	case r.Header.Get("Authorization") != "" || r.PostForm.Has("client_secret") || r.PostForm.Has("client_assertion"):
		refuse("more than one client authentication method")
		return
	case r.TLS == nil || len(r.TLS.PeerCertificates) == 0:
		refuse("no client certificate")
		return
	}
	leaf := r.TLS.PeerCertificates[0]
	if owner, ok := m.selfSigned[sha256.Sum256(leaf.Raw)]; ok {
		if owner != id {
			refuse("the certificate is registered for another client")
			return
		}
	} else {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: m.ca, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil || leaf.Subject.CommonName != id {
			refuse("the certificate is neither registered nor issued for this client")
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "mtls-access-token", "token_type": "Bearer", "expires_in": 300})
}

func (m *mtlsProvider) doc(methods ...string) *discovery.Document {
	return &discovery.Document{Issuer: m.srv.URL, TokenEndpoint: m.srv.URL + "/token", TokenEndpointAuthMethodsSupported: methods}
}

func writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue returns a client certificate for cn signed by the CA (caKey,
// caCert), as PEM files.
func issue(t *testing.T, cn string, caCert *x509.Certificate, caKey *ecdsa.PrivateKey) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, "client.pem", "CERTIFICATE", der), writePEM(t, "client.key", "PRIVATE KEY", kder)
}

// TestTLSClientAuth: tls_client_auth and self_signed_tls_client_auth send
// client_id only, and the TLS client certificate of the profile proves
// the client, at a token endpoint that checks it as RFC 8705 says.
func TestTLSClientAuth(t *testing.T) {
	t.Parallel()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	m := startMTLS(t, pool)
	serverCA := writePEM(t, "server.pem", "CERTIFICATE", m.srv.Certificate().Raw)

	// A self-signed certificate as profile keygen --cert makes it,
	// registered by its hash.
	self, err := clientauth.Generate(core.KeyES256, "selfie", true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(self.Certificate))
	m.selfSigned[sha256.Sum256(block.Bytes)] = "selfie"
	selfDir := t.TempDir()
	selfCert, selfKey := filepath.Join(selfDir, "c.pem"), filepath.Join(selfDir, "k.pem")
	_ = os.WriteFile(selfCert, []byte(self.Certificate), 0o600)
	_ = os.WriteFile(selfKey, []byte(self.PrivateKey.Reveal()), 0o600)
	caIssuedCert, caIssuedKey := issue(t, "ca-client", caCert, caKey)

	c := &grant.Client{}
	for _, tc := range []struct {
		name, clientID, method, cert, key string
		methods                           []string
		wantErr                           string
	}{
		{"tls_client_auth", "ca-client", core.AuthTLSClient, caIssuedCert, caIssuedKey, []string{core.AuthTLSClient}, ""},
		{"self_signed_tls_client_auth", "selfie", core.AuthSelfSignedTLS, selfCert, selfKey, []string{core.AuthSelfSignedTLS}, ""},
		{"another client's certificate", "ca-client", core.AuthSelfSignedTLS, selfCert, selfKey, nil, "invalid_client"},
		{"method not listed", "selfie", core.AuthSelfSignedTLS, selfCert, selfKey, []string{core.AuthTLSClient, core.AuthPrivateKeyJWT}, "supports only tls_client_auth, private_key_jwt"},
		{"no certificate", "selfie", core.AuthSelfSignedTLS, "", "", nil, "no TLS client certificate"},
		{"mtls_endpoint_aliases", "selfie", core.AuthSelfSignedTLS, selfCert, selfKey, []string{"alias"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := core.NewProfile("mtls")
			p.ClientID, p.TokenAuthMethod = tc.clientID, tc.method
			p.TLS.ClientCert, p.TLS.ClientKey, p.TLS.CAFile = tc.cert, tc.key, serverCA
			d := m.doc(tc.methods...)
			if slices.Equal(tc.methods, []string{"alias"}) {
				// The plain endpoint takes no certificates: the alias must be used.
				d = m.doc(core.AuthSelfSignedTLS)
				d.TokenEndpoint = "https://127.0.0.1:1/no-mtls-here"
				d.MTLSEndpointAliases = &discovery.EndpointAliases{TokenEndpoint: m.srv.URL + "/token"}
			}
			set, err := c.Obtain(ctxT(t), p, d, account("svc", core.GrantClientCredentials))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if set.AccessToken.Reveal() != "mtls-access-token" {
				t.Fatalf("access token %q", set.AccessToken.Reveal())
			}
		})
	}
}
