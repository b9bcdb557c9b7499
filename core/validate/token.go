package validate

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"
	"unsafe"

	"github.com/lestrrat-go/dsig"
)

// b64 is base64url without padding (RFC 7515 §2), strict: the unused bits
// of the last character must be zero, so a token has one encoding only.
var b64 = base64.RawURLEncoding.Strict()

// algorithms are the JWS algorithms oidcctl verifies: asymmetric only.
var algorithms = map[string]struct {
	hash  crypto.Hash
	kty   string // "RSA", "EC" or "OKP"
	pss   bool
	curve elliptic.Curve
}{
	"RS256": {crypto.SHA256, "RSA", false, nil},
	"RS384": {crypto.SHA384, "RSA", false, nil},
	"RS512": {crypto.SHA512, "RSA", false, nil},
	"PS256": {crypto.SHA256, "RSA", true, nil},
	"PS384": {crypto.SHA384, "RSA", true, nil},
	"PS512": {crypto.SHA512, "RSA", true, nil},
	"ES256": {crypto.SHA256, "EC", false, elliptic.P256()},
	"ES384": {crypto.SHA384, "EC", false, elliptic.P384()},
	"ES512": {crypto.SHA512, "EC", false, elliptic.P521()},
	"EdDSA": {0, "OKP", false, nil},
}

const algList = "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA"

// jwt is a compact JWS split and decoded.
type jwt struct {
	header  map[string]any
	claims  map[string]any
	alg     string
	kid     string
	input   string // header.payload, what was signed
	sig     []byte
	hasSig  bool
	problem string // why the token cannot be read; "" when it can
}

// parseJWT splits and decodes a token with exactly two dots. It never
// fails half-way: problem says what is wrong, and whatever could be
// decoded before is kept.
func parseJWT(token string) (t jwt) {
	i := strings.IndexByte(token, '.')
	j := strings.LastIndexByte(token, '.')
	h, p, s := token[:i], token[i+1:j], token[j+1:]
	t.input = token[:j]
	if h == "" || p == "" {
		t.problem = "a part of the token is empty (want header.payload.signature)"
		return t
	}
	// One buffer for the three decoded parts.
	buf := make([]byte, b64.DecodedLen(len(h))+b64.DecodedLen(len(p))+b64.DecodedLen(len(s)))
	hb, buf, err := decodePart(buf, h)
	if err != nil {
		t.problem = "the header is not base64url: " + err.Error()
		return t
	}
	if t.header, t.problem = decodeObject(hb, "header"); t.problem != "" {
		return t
	}
	pb, buf, err := decodePart(buf, p)
	if err != nil {
		t.problem = "the payload is not base64url: " + err.Error()
		return t
	}
	if t.claims, t.problem = decodeObject(pb, "payload"); t.problem != "" {
		return t
	}
	if s != "" {
		if t.sig, _, err = decodePart(buf, s); err != nil {
			t.problem = "the signature is not base64url: " + err.Error()
			return t
		}
		t.hasSig = true
	}
	switch alg := t.header["alg"].(type) {
	case string:
		t.alg = alg
	case nil:
		t.problem = "the header has no alg"
		return t
	default:
		t.problem = "the header's alg is not a string"
		return t
	}
	switch kid := t.header["kid"].(type) {
	case string:
		t.kid = kid
	case nil:
	default:
		t.problem = "the header's kid is not a string"
	}
	return t
}

// decodePart decodes one base64url part into the front of buf and returns
// it and the rest of buf.
func decodePart(buf []byte, part string) (decoded, rest []byte, err error) {
	n, err := b64.Decode(buf, unsafe.Slice(unsafe.StringData(part), len(part))) // read only
	return buf[:n:n], buf[n:], err
}

// embeddedKeyHeaders bring a key (or where to get one) with the token:
// trusting them would let anyone sign tokens.
var embeddedKeyHeaders = []string{"jwk", "jku", "x5u", "x5c"}

// verify checks the signature with a key from the provider's JWKS. The
// first result is false and the second says why when the key does not fit
// the alg (key_mismatch); the third is false when the signature is wrong.
func (t *jwt) verify(pub crypto.PublicKey) (fits bool, why string, ok bool) {
	a := algorithms[t.alg]
	input := unsafe.Slice(unsafe.StringData(t.input), len(t.input)) // read only
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if a.kty != "RSA" {
			return false, "the key is RSA", false
		}
		return true, "", dsig.VerifyRSA(k, input, t.sig, a.hash, a.pss) == nil
	case *ecdsa.PublicKey:
		if a.kty != "EC" {
			return false, "the key is EC", false
		}
		if k.Curve != a.curve {
			return false, fmt.Sprintf("the key's curve is %s, %s needs %s", k.Curve.Params().Name, t.alg, a.curve.Params().Name), false
		}
		return true, "", dsig.VerifyECDSA(k, input, t.sig, a.hash) == nil
	case ed25519.PublicKey:
		if a.kty != "OKP" {
			return false, "the key is Ed25519", false
		}
		if len(k) != ed25519.PublicKeySize {
			return false, "the Ed25519 key has the wrong length", false
		}
		return true, "", dsig.VerifyEdDSA(k, input, t.sig) == nil
	}
	return false, fmt.Sprintf("the key is a %T", pub), false
}
