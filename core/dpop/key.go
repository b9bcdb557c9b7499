package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Key is a client's DPoP key pair. It is safe for concurrent use. Its
// String and LogValue never show the private key.
type Key struct {
	priv       crypto.Signer
	alg        jwa.SignatureAlgorithm
	pub        jwk.Key // the public JWK put in every proof's header
	thumbprint string
}

// NewKey makes a new ES256 (P-256) key, the algorithm every DPoP server
// supports.
func NewKey() (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dpop: new key: %w", err)
	}
	return newKey(priv)
}

// ParseKey reads a key from its stored form (Key.Marshal: PKCS #8 DER).
func ParseKey(der []byte) (*Key, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("dpop: parse key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("dpop: parse key: %T cannot sign", k)
	}
	return newKey(signer)
}

// newKey wraps a private key: *ecdsa.PrivateKey (P-256, P-384, P-521),
// *rsa.PrivateKey (PS256) or ed25519.PrivateKey (EdDSA).
func newKey(priv crypto.Signer) (*Key, error) {
	var alg jwa.SignatureAlgorithm
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			alg = jwa.ES256()
		case elliptic.P384():
			alg = jwa.ES384()
		case elliptic.P521():
			alg = jwa.ES512()
		default:
			return nil, errors.New("dpop: unsupported elliptic curve")
		}
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("dpop: an RSA key of %d bits is too short (at least 2048)", k.N.BitLen())
		}
		alg = jwa.PS256()
	case ed25519.PrivateKey:
		alg = jwa.EdDSA()
	default:
		return nil, fmt.Errorf("dpop: unsupported key type %T", priv)
	}
	pub, err := jwk.Import(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("dpop: public key: %w", err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return &Key{priv: priv, alg: alg, pub: pub, thumbprint: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// Marshal returns the stored form of the private key (PKCS #8 DER): a
// secret, to be sealed before it is stored.
func (k *Key) Marshal() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("dpop: marshal key: %w", err)
	}
	return der, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of the public key,
// base64url: the jkt that a token bound to this key carries in cnf.
func (k *Key) Thumbprint() string { return k.thumbprint }

// Alg is the key's signature algorithm, e.g. "ES256".
func (k *Key) Alg() string { return k.alg.String() }

// PublicJWK returns the public key as a JSON Web Key.
func (k *Key) PublicJWK() ([]byte, error) { return json.Marshal(k.pub) }

// String names the key by its thumbprint, never its private part.
func (k *Key) String() string { return "dpop key " + k.alg.String() + " jkt=" + k.thumbprint }

// ProofOptions are the optional parts of a proof.
type ProofOptions struct {
	// AccessToken, when the proof goes with one, gives the ath claim.
	AccessToken string
	// Nonce is the server's last DPoP-Nonce, if it sent one.
	Nonce string
	// Now is the proof's iat; zero means time.Now().
	Now time.Time
}

// claims are a proof's claims.
type claims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// Proof makes a fresh proof for one request: method and URL as sent
// (query and fragment are left out of htu, as RFC 9449 section 4.2 says).
func (k *Key) Proof(method, rawURL string, o ProofOptions) (string, error) {
	htu, err := proofURL(rawURL)
	if err != nil {
		return "", fmt.Errorf("dpop: proof for %s: %w", rawURL, err)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	var id [18]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("dpop: jti: %w", err)
	}
	c := claims{JTI: base64.RawURLEncoding.EncodeToString(id[:]), HTM: method, HTU: htu, IAT: now.Unix(), Nonce: o.Nonce}
	if o.AccessToken != "" {
		c.ATH = TokenHash(o.AccessToken)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("dpop: proof claims: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, ProofType); err != nil {
		return "", fmt.Errorf("dpop: proof header: %w", err)
	}
	if err := hdr.Set(jws.JWKKey, k.pub); err != nil {
		return "", fmt.Errorf("dpop: proof header: %w", err)
	}
	signed, err := jws.Sign(payload, jws.WithKey(k.alg, k.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("dpop: sign proof: %w", err)
	}
	return string(signed), nil
}

// ProofType is the typ header of every DPoP proof.
const ProofType = "dpop+jwt"

// TokenHash is the ath of an access token: base64url(SHA-256(token)).
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a JWK, base64url
// ("" when it has none).
func Thumbprint(k jwk.Key) string {
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// ParseStored reads an account's key as core keeps it (core.NewDPoPKey:
// base64 PKCS #8 DER).
func ParseStored(stored string) (*Key, error) {
	der, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return nil, fmt.Errorf("dpop: stored key: %w", err)
	}
	return ParseKey(der)
}
