// Package jws is oidcctl's one verification of a signed JWT (a JWS in
// compact form): the algorithm allow-list, the reading of the header and
// claims, the check of a signature with a key of the provider's JWKS
// (picked by kid, see jwks.Lookup and jwks.Cache.PublicKey) and the issuer
// rule. Incoming access tokens (package validate) and the id_tokens of a
// login (package grant) both go through it, so the two cannot drift apart.
//
// The compact form is read here (encoding/base64, and encoding/json for
// the header and claims; ParseSelected decodes only the claims a caller
// reads, walking the payload with jsontext, and ParseRaw keeps them as
// raw JSON for a caller that reads them without a map, reading the usual
// header and payload with a small scanner of its own, scan.go, and the
// rest with the jsontext walk) rather than by jwx's jws.Parse, and the
// signature is checked with jwx's dsig functions on the key already
// exported to its crypto form: one decoding of the token, no key set
// search.
package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/lestrrat-go/dsig"

	"oidcctl/core/jwks"
)

// b64 is base64url without padding (RFC 7515 §2), strict: the unused bits
// of the last character must be zero, so a token has one encoding only.
var b64 = base64.RawURLEncoding.Strict()

// Algorithm is how one allowed JWS algorithm verifies.
type Algorithm struct {
	// Hash is the digest signed; 0 for EdDSA, which signs the message.
	Hash crypto.Hash
	// Kty is the key type that fits: "RSA", "EC" or "OKP".
	Kty string
	// PSS is RSASSA-PSS rather than PKCS #1 v1.5.
	PSS bool
	// Curve is the curve an EC key must be on.
	Curve elliptic.Curve
}

// Algorithms are the JWS algorithms oidcctl verifies: asymmetric only,
// never none and never an HMAC (whose key would be a shared secret or, in
// the RSA/HMAC confusion, a public key).
var Algorithms = map[string]Algorithm{
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

// AlgList names Algorithms for messages.
const AlgList = "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA"

// Allowed reports whether alg is one of Algorithms.
func Allowed(alg string) bool {
	_, ok := Algorithms[alg]
	return ok
}

// EmbeddedKeyHeaders bring a key (or where to get one) with the token:
// trusting them would let anyone sign tokens.
var EmbeddedKeyHeaders = []string{"jwk", "jku", "x5u", "x5c"}

// Token is a compact JWS split and decoded.
type Token struct {
	// Header and Claims are the decoded JSON objects, as encoding/json
	// would decode them into a map[string]any (nil from ParseRaw).
	Header, Claims map[string]any
	// RawHeader and RawClaims are what ParseRaw keeps instead (nil from
	// Parse and ParseSelected).
	RawHeader, RawClaims Members
	// Alg and KID are the header's alg and kid.
	Alg, KID string
	// Problem says why the token cannot be read; "" when it can.
	Problem string

	input  string // header.payload, what was signed
	sig    []byte
	hasSig bool
}

// Parse splits and decodes a token; a token without exactly two dots has
// a Problem. It never fails half-way: Problem says what is wrong, and
// whatever could be decoded before is kept.
func Parse(token string) Token {
	return parse(token, nil)
}

// parse is Parse, or ParseSelected when want is not nil.
func parse(token string, want Want) Token { return parseWith(token, want, false) }

// parseWith is Parse, ParseSelected when want is not nil, and ParseRaw
// when raw is true too.
func parseWith(token string, want Want, raw bool) (t Token) {
	i := strings.IndexByte(token, '.')
	j := strings.LastIndexByte(token, '.')
	if i < 0 || i == j || strings.IndexByte(token[i+1:j], '.') >= 0 {
		t.Problem = fmt.Sprintf("%d parts; a JWT has three", strings.Count(token, ".")+1)
		return t
	}
	h, p, s := token[:i], token[i+1:j], token[j+1:]
	t.input = token[:j]
	if h == "" || p == "" {
		t.Problem = "a part of the token is empty (want header.payload.signature)"
		return t
	}
	// One buffer for the three decoded parts.
	buf := make([]byte, b64.DecodedLen(len(h))+b64.DecodedLen(len(p))+b64.DecodedLen(len(s)))
	hb, buf, err := decodePart(buf, h)
	if err != nil {
		t.Problem = "the header is not base64url: " + err.Error()
		return t
	}
	ok := false
	var members Members
	switch {
	case raw:
		// One array for the members of the header and of the payload.
		members = make(Members, 0, 24)
		if t.RawHeader, ok = readRaw(hb, headerWant, members); ok {
			t.RawHeader = t.RawHeader[:len(t.RawHeader):len(t.RawHeader)]
			members = members[len(t.RawHeader):len(t.RawHeader)]
		} else if t.RawHeader, t.Problem = rawFromObject(hb, "header", headerWant); t.Problem != "" {
			return t
		}
	case want != nil:
		t.Header, ok = selectClaims(hb, headerWant, 8)
	}
	if !ok && !raw {
		if t.Header, t.Problem = decodeObject(hb, "header"); t.Problem != "" {
			return t
		}
	}
	pb, buf, err := decodePart(buf, p)
	if err != nil {
		t.Problem = "the payload is not base64url: " + err.Error()
		return t
	}
	ok = false
	switch {
	case raw:
		if t.RawClaims, ok = readRaw(pb, want, members); !ok {
			if t.RawClaims, t.Problem = rawFromObject(pb, "payload", want); t.Problem != "" {
				return t
			}
		}
	case want != nil:
		t.Claims, ok = selectClaims(pb, want, 16)
	}
	if !ok && !raw {
		if t.Claims, t.Problem = decodeObject(pb, "payload"); t.Problem != "" {
			return t
		}
	}
	if s != "" {
		if t.sig, _, err = decodePart(buf, s); err != nil {
			t.Problem = "the signature is not base64url: " + err.Error()
			return t
		}
		t.hasSig = true
	}
	if raw {
		t.Problem = t.rawAlgKID()
		return t
	}
	switch alg := t.Header["alg"].(type) {
	case string:
		t.Alg = alg
	case nil:
		t.Problem = "the header has no alg"
		return t
	default:
		t.Problem = "the header's alg is not a string"
		return t
	}
	switch kid := t.Header["kid"].(type) {
	case string:
		t.KID = kid
	case nil:
	default:
		t.Problem = "the header's kid is not a string"
	}
	return t
}

// rawAlgKID reads alg and kid from RawHeader as parse reads them from
// Header, and returns the Problem. They are copied (alg taken from
// Algorithms where it is one), since they outlive the token's buffer.
func (t *Token) rawAlgKID() string {
	v, there := t.RawHeader.Get("alg")
	switch alg, isString := String(v); {
	case !there || string(v) == "null":
		return "the header has no alg"
	case !isString:
		return "the header's alg is not a string"
	default:
		t.Alg = internAlg(alg)
	}
	v, there = t.RawHeader.Get("kid")
	switch kid, isString := String(v); {
	case !there || string(v) == "null":
	case !isString:
		return "the header's kid is not a string"
	default:
		t.KID = strings.Clone(kid)
	}
	return ""
}

// algNames are the keys of Algorithms, for internAlg.
var algNames = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// internAlg returns alg as a string of its own: one of algNames where it
// is one, a copy otherwise.
func internAlg(alg string) string {
	for _, name := range algNames {
		if name == alg {
			return name
		}
	}
	return strings.Clone(alg)
}

// decodePart decodes one base64url part into the front of buf and returns
// it and the rest of buf.
func decodePart(buf []byte, part string) (decoded, rest []byte, err error) {
	n, err := b64.Decode(buf, unsafe.Slice(unsafe.StringData(part), len(part))) // read only
	return buf[:n:n], buf[n:], err
}

// digest hashes the signing input into d, without a hash.Hash of its own
// (dsig.VerifyRSA and VerifyECDSA allocate one for every token).
func digest(d *[sha512.Size]byte, h crypto.Hash, input []byte) []byte {
	switch h {
	case crypto.SHA256:
		*(*[sha256.Size]byte)(d[:]) = sha256.Sum256(input)
		return d[:sha256.Size]
	case crypto.SHA384:
		*(*[sha512.Size384]byte)(d[:]) = sha512.Sum384(input)
		return d[:sha512.Size384]
	default:
		*d = sha512.Sum512(input)
		return d[:]
	}
}

// ErrBadSignature is a signature that does not verify with the key.
var ErrBadSignature = errors.New("the signature does not verify")

// MismatchKind says why a key cannot verify a token.
type MismatchKind int

// Kinds of MismatchError.
const (
	// KeyUnusable: the JWKS's key cannot verify anything (jwks.Key.Problem).
	KeyUnusable MismatchKind = iota + 1
	// KeyAlgDiffers: the key is published for another alg.
	KeyAlgDiffers
	// KeyTypeDiffers: the key's type or curve does not fit the token's alg.
	KeyTypeDiffers
)

// MismatchError is a key that does not fit the token: key_mismatch.
type MismatchError struct {
	Kind MismatchKind
	// Why says it for people, for instance "the key is EC".
	Why string
}

func (e *MismatchError) Error() string { return e.Why }

// Verify checks the token's signature with a key from the provider's
// JWKS: nil when it verifies, a *MismatchError when the key does not fit
// the token's alg, ErrBadSignature when the signature is wrong. The alg
// must be one of Algorithms.
func (t *Token) Verify(k jwks.Key) error {
	switch {
	case k.Public == nil:
		return &MismatchError{KeyUnusable, k.Problem}
	case k.Alg != "" && k.Alg != t.Alg:
		return &MismatchError{KeyAlgDiffers, fmt.Sprintf("the key is for %s, the token says %s", k.Alg, t.Alg)}
	}
	a, ok := Algorithms[t.Alg]
	if !ok {
		return &MismatchError{KeyTypeDiffers, fmt.Sprintf("alg %q is not one oidcctl verifies", t.Alg)}
	}
	input := unsafe.Slice(unsafe.StringData(t.input), len(t.input)) // read only
	var err error
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if a.Kty != "RSA" {
			return &MismatchError{KeyTypeDiffers, "the key is RSA"}
		}
		var d [sha512.Size]byte
		err = dsig.VerifyRSADigest(pub, digest(&d, a.Hash, input), t.sig, a.Hash, a.PSS)
	case *ecdsa.PublicKey:
		if a.Kty != "EC" {
			return &MismatchError{KeyTypeDiffers, "the key is EC"}
		}
		if pub.Curve != a.Curve {
			return &MismatchError{KeyTypeDiffers, fmt.Sprintf("the key's curve is %s, %s needs %s", pub.Curve.Params().Name, t.Alg, a.Curve.Params().Name)}
		}
		var d [sha512.Size]byte
		err = dsig.VerifyECDSADigest(pub, digest(&d, a.Hash, input), t.sig)
	case ed25519.PublicKey:
		if a.Kty != "OKP" {
			return &MismatchError{KeyTypeDiffers, "the key is Ed25519"}
		}
		if len(pub) != ed25519.PublicKeySize {
			return &MismatchError{KeyTypeDiffers, "the Ed25519 key has the wrong length"}
		}
		err = dsig.VerifyEdDSA(pub, input, t.sig)
	default:
		return &MismatchError{KeyTypeDiffers, fmt.Sprintf("the key is a %T", k.Public)}
	}
	if err != nil || !t.hasSig {
		return ErrBadSignature
	}
	return nil
}
