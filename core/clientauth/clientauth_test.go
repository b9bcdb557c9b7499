package clientauth_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/discovery"
)

func TestMethod(t *testing.T) {
	key := core.ClientKey{ID: "k"}
	for _, tc := range []struct {
		name    string
		secret  bool
		keys    bool
		named   string
		listed  []string
		want    string
		wantErr string
	}{
		{"secret, nothing listed", true, false, "", nil, core.AuthSecretBasic, ""},
		{"secret, post only", true, false, "", []string{core.AuthSecretPost}, core.AuthSecretPost, ""},
		{"secret, keys only", true, false, "", []string{core.AuthPrivateKeyJWT}, "", "accepts only private_key_jwt"},
		{"secret wins over keys", true, true, "", nil, core.AuthSecretBasic, ""},
		{"keys, nothing listed", false, true, "", nil, core.AuthPrivateKeyJWT, ""},
		{"keys, listed", false, true, "", []string{core.AuthSecretBasic, core.AuthPrivateKeyJWT}, core.AuthPrivateKeyJWT, ""},
		{"keys, not listed", false, true, "", []string{core.AuthSecretBasic}, "", "supports only client_secret_basic"},
		{"public", false, false, "", []string{core.AuthSecretBasic}, "none", ""},
		{"named basic, not listed", true, false, core.AuthSecretBasic, []string{core.AuthPrivateKeyJWT}, core.AuthSecretBasic, ""},
		{"named basic, no secret", false, false, core.AuthSecretBasic, nil, "none", ""},
		{"named private_key_jwt beside a secret", true, true, core.AuthPrivateKeyJWT, nil, core.AuthPrivateKeyJWT, ""},
		{"named tls, listed", false, false, core.AuthTLSClient, []string{core.AuthTLSClient}, core.AuthTLSClient, ""},
		{"named self-signed, not listed", false, false, core.AuthSelfSignedTLS, []string{core.AuthTLSClient}, "", "supports only tls_client_auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := core.NewProfile("p")
			p.TokenAuthMethod = tc.named
			if tc.secret {
				p.ClientSecret = core.NewSecret("s")
			}
			if tc.keys {
				p.ClientKeys = []core.ClientKey{key}
			}
			got, err := clientauth.Method(p, &discovery.Document{TokenEndpointAuthMethodsSupported: tc.listed})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Method = %q, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Method = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestGenerate: both algorithms make a key whose kid is its thumbprint,
// whose public JWK has no private part, and whose assertion verifies with
// that public JWK.
func TestGenerate(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	for _, alg := range core.ClientKeyAlgorithms {
		t.Run(alg, func(t *testing.T) {
			k, err := clientauth.Generate(alg, "cid", true, now)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := clientauth.PublicJWK(k)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(pub)
			if strings.Contains(string(js), `"d"`) || !strings.Contains(string(js), `"x5c"`) || !strings.Contains(string(js), `"x5t#S256"`) {
				t.Fatalf("public JWK: %s", js)
			}
			var raw any
			if err := jwk.Export(pub, &raw); err != nil {
				t.Fatal(err)
			}
			switch raw.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey:
			default:
				t.Fatalf("public key of type %T", raw)
			}
			p := core.NewProfile("p")
			p.ClientID = "cid"
			p.AddClientKey(k, false)
			a, err := clientauth.Assertion(p, "https://op.example/token", now)
			if err != nil {
				t.Fatal(err)
			}
			sigAlg, _ := jwa.LookupSignatureAlgorithm(alg)
			tok, err := jwt.Parse([]byte(a), jwt.WithKey(sigAlg, pub), jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
				jwt.WithAudience("https://op.example/token"), jwt.WithIssuer("cid"), jwt.WithSubject("cid"))
			if err != nil {
				t.Fatalf("the assertion does not verify with the public key: %v", err)
			}
			if exp, _ := tok.Expiration(); !exp.Equal(now.Add(clientauth.AssertionLifetime)) {
				t.Errorf("exp %v", exp)
			}
		})
	}
	if _, err := clientauth.Generate("HS256", "cid", false, now); err == nil {
		t.Error("HS256 key generated")
	}
}

// TestImport: an existing key and its certificate become a client key
// like a generated one; a certificate of another key, a short RSA key
// and an unknown PEM block are refused.
func TestImport(t *testing.T) {
	now := time.Now()
	gen, err := clientauth.Generate(core.KeyES256, "cid", true, now)
	if err != nil {
		t.Fatal(err)
	}
	k, err := clientauth.Import([]byte(gen.PrivateKey.Reveal()), []byte(gen.Certificate), now)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != gen.ID || k.Algorithm != core.KeyES256 || k.Certificate != gen.Certificate {
		t.Fatalf("imported %+v, generated %+v", k, gen)
	}
	other, _ := clientauth.Generate(core.KeyRS256, "cid", true, now)
	if _, err := clientauth.Import([]byte(gen.PrivateKey.Reveal()), []byte(other.Certificate), now); err == nil || !strings.Contains(err.Error(), "not of this key") {
		t.Errorf("certificate of another key: %v", err)
	}
	rsaKey, err := clientauth.Import([]byte(other.PrivateKey.Reveal()), nil, now)
	if err != nil || rsaKey.Algorithm != core.KeyRS256 || rsaKey.ID != other.ID {
		t.Errorf("RSA import: %+v, %v", rsaKey, err)
	}
	short, _ := rsa.GenerateKey(rand.Reader, 1024)
	shortPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(short)})
	if _, err := clientauth.Import(shortPEM, nil, now); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("1024-bit key: %v", err)
	}
	if _, err := clientauth.Import([]byte(gen.Certificate), nil, now); err == nil {
		t.Error("a certificate taken as a key")
	}
}
