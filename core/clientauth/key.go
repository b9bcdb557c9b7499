package clientauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/cert"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"oidcctl/core"
)

// CertificateLifetime is how long a certificate of Generate is valid.
const CertificateLifetime = 2 * 365 * 24 * time.Hour

// Generate creates a client key pair: RSA 2048 for RS256, P-256 for
// ES256. Its ID is the RFC 7638 thumbprint of the public key. With
// withCert it gets a self-signed certificate (subject CN = clientID,
// valid from now for CertificateLifetime), for providers that register
// certificates rather than keys (Entra).
func Generate(alg, clientID string, withCert bool, now time.Time) (core.ClientKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case core.KeyRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case core.KeyES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return core.ClientKey{}, fmt.Errorf("key algorithm %q: want RS256 or ES256", alg)
	}
	if err != nil {
		return core.ClientKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return core.ClientKey{}, fmt.Errorf("encode %s key: %w", alg, err)
	}
	pub, err := jwk.Import(priv.Public())
	if err != nil {
		return core.ClientKey{}, fmt.Errorf("import %s key: %w", alg, err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return core.ClientKey{}, fmt.Errorf("thumbprint: %w", err)
	}
	k := core.ClientKey{
		ID:         base64.RawURLEncoding.EncodeToString(tp),
		Algorithm:  alg,
		PrivateKey: core.NewSecret(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))),
		CreatedAt:  now,
	}
	if withCert {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return core.ClientKey{}, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			Subject:               pkix.Name{CommonName: clientID},
			NotBefore:             now.Add(-time.Minute),
			NotAfter:              now.Add(CertificateLifetime),
			KeyUsage:              x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			BasicConstraintsValid: true,
		}
		c, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
		if err != nil {
			return core.ClientKey{}, fmt.Errorf("self-signed certificate: %w", err)
		}
		k.Certificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c}))
	}
	return k, nil
}

// privateKey parses a ClientKey's private key.
func privateKey(k core.ClientKey) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(k.PrivateKey.Reveal()))
	if block == nil {
		return nil, fmt.Errorf("client key %s: the private key is not PEM", k.ID)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("client key %s: %w", k.ID, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("client key %s: %T cannot sign", k.ID, key)
	}
	return s, nil
}

// certDER returns the DER of a ClientKey's certificate; nil for none.
func certDER(k core.ClientKey) ([]byte, error) {
	if k.Certificate == "" {
		return nil, nil
	}
	block, _ := pem.Decode([]byte(k.Certificate))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("client key %s: the certificate is not PEM", k.ID)
	}
	return block.Bytes, nil
}

// PublicJWK returns the public JWK of a client key: kid, alg, use "sig",
// and x5c and x5t#S256 when it has a certificate.
func PublicJWK(k core.ClientKey) (jwk.Key, error) {
	priv, err := privateKey(k)
	if err != nil {
		return nil, err
	}
	pub, err := jwk.Import(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("client key %s: %w", k.ID, err)
	}
	alg, ok := jwa.LookupSignatureAlgorithm(k.Algorithm)
	if !ok {
		return nil, fmt.Errorf("client key %s: unknown algorithm %q", k.ID, k.Algorithm)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: k.ID, jwk.AlgorithmKey: alg, jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(name, v); err != nil {
			return nil, fmt.Errorf("client key %s: %s: %w", k.ID, name, err)
		}
	}
	der, err := certDER(k)
	if err != nil {
		return nil, err
	}
	if der != nil {
		var chain cert.Chain
		if err := chain.Add([]byte(k.Certificate)); err != nil {
			return nil, fmt.Errorf("client key %s: %w", k.ID, err)
		}
		if err := pub.Set(jwk.X509CertChainKey, &chain); err != nil {
			return nil, err
		}
		if err := pub.Set(jwk.X509CertThumbprintS256Key, thumbprintS256(der)); err != nil {
			return nil, err
		}
	}
	return pub, nil
}

// PublicJWKS returns the JSON JWKS of the public keys, as a provider
// registers them (newest last).
func PublicJWKS(keys []core.ClientKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := PublicJWK(k)
		if err != nil {
			return nil, err
		}
		if err := set.AddKey(pub); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(set, "", "  ")
}

func thumbprintS256(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Assertion signs a client assertion (RFC 7523 §2.2) with the profile's
// newest key: iss = sub = client_id, aud, a random jti, iat = now and
// exp = now + AssertionLifetime; kid and, with a certificate, x5t#S256 in
// the header.
func Assertion(p core.Profile, aud string, now time.Time) (string, error) {
	k, ok := p.SigningKey()
	if !ok {
		return "", fmt.Errorf("profile %s authenticates by private_key_jwt but has %w: run `oidcctl profile keygen %s` and register the printed key at the provider",
			p.Name, ErrNoKey, p.Name)
	}
	priv, err := privateKey(k)
	if err != nil {
		return "", err
	}
	alg, ok := jwa.LookupSignatureAlgorithm(k.Algorithm)
	if !ok {
		return "", fmt.Errorf("client key %s: unknown algorithm %q", k.ID, k.Algorithm)
	}
	jti, err := newJTI()
	if err != nil {
		return "", err
	}
	tok, err := jwt.NewBuilder().
		Issuer(p.ClientID).
		Subject(p.ClientID).
		Audience([]string{aud}).
		JwtID(jti).
		IssuedAt(now).
		Expiration(now.Add(AssertionLifetime)).
		Build()
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, k.ID); err != nil {
		return "", err
	}
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return "", err
	}
	der, err := certDER(k)
	if err != nil {
		return "", err
	}
	if der != nil {
		if err := hdr.Set(jws.X509CertThumbprintS256Key, thumbprintS256(der)); err != nil {
			return "", err
		}
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign the client assertion with key %s: %w", k.ID, err)
	}
	return string(b), nil
}

// ParseAlgorithm turns a key algorithm name (any case) into RS256 or
// ES256.
func ParseAlgorithm(s string) (string, error) {
	a := strings.ToUpper(strings.TrimSpace(s))
	if a != core.KeyRS256 && a != core.KeyES256 {
		return "", errors.New("want RS256 or ES256")
	}
	return a, nil
}

// Import makes a client key of an existing private key (PEM: PKCS #8,
// PKCS #1 "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY"; not encrypted)
// and, when certPEM is not empty, its certificate (for instance one a CA
// issued, which Entra accepts as well as a self-signed one). An RSA key
// signs RS256, a P-256 key ES256.
func Import(keyPEM, certPEM []byte, now time.Time) (core.ClientKey, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return core.ClientKey{}, errors.New("the key is not PEM")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return core.ClientKey{}, fmt.Errorf("a PEM block %q is not an unencrypted private key", block.Type)
	}
	if err != nil {
		return core.ClientKey{}, fmt.Errorf("the private key: %w", err)
	}
	var alg string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return core.ClientKey{}, fmt.Errorf("an RSA key of %d bits is too short: at least 2048", k.N.BitLen())
		}
		alg = core.KeyRS256
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return core.ClientKey{}, fmt.Errorf("an EC key on %s: ES256 needs P-256", k.Curve.Params().Name)
		}
		alg = core.KeyES256
	default:
		return core.ClientKey{}, fmt.Errorf("a %T key: want RSA or EC P-256", key)
	}
	signer := key.(crypto.Signer)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return core.ClientKey{}, err
	}
	pub, err := jwk.Import(signer.Public())
	if err != nil {
		return core.ClientKey{}, err
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return core.ClientKey{}, err
	}
	k := core.ClientKey{
		ID:         base64.RawURLEncoding.EncodeToString(tp),
		Algorithm:  alg,
		PrivateKey: core.NewSecret(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))),
		CreatedAt:  now,
	}
	if len(certPEM) > 0 {
		cb, _ := pem.Decode(certPEM)
		if cb == nil || cb.Type != "CERTIFICATE" {
			return core.ClientKey{}, errors.New("the certificate is not a PEM CERTIFICATE")
		}
		c, err := x509.ParseCertificate(cb.Bytes)
		if err != nil {
			return core.ClientKey{}, fmt.Errorf("the certificate: %w", err)
		}
		if eq, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(signer.Public()) {
			return core.ClientKey{}, errors.New("the certificate is not of this key")
		}
		k.Certificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cb.Bytes}))
	}
	return k, nil
}
