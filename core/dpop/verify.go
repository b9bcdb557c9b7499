package dpop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Defaults of a Verifier.
const (
	// DefaultMaxAge is how old a proof's iat may be.
	DefaultMaxAge = 60 * time.Second
	// DefaultLeeway is how far in the future a proof's iat may be (the
	// client's clock ahead of ours), and how much older than MaxAge.
	DefaultLeeway = 5 * time.Second
	// MaxProofSize is the longest proof read, in bytes.
	MaxProofSize = 8 << 10
)

// RFC 9449 error codes.
const (
	CodeInvalidProof = "invalid_dpop_proof"
	CodeUseNonce     = "use_dpop_nonce"
)

// Reason says for programs why a proof was refused.
type Reason string

// The reasons of a refusal.
const (
	ReasonMissing      Reason = "missing"       // no DPoP header
	ReasonMultiple     Reason = "multiple"      // more than one DPoP header
	ReasonMalformed    Reason = "malformed"     // not a compact JWS, bad JSON, missing claims
	ReasonType         Reason = "typ"           // typ is not dpop+jwt
	ReasonAlg          Reason = "alg"           // none, symmetric or unknown alg
	ReasonKey          Reason = "jwk"           // no jwk, a private jwk, or one unfit for alg
	ReasonSignature    Reason = "signature"     // the signature does not verify
	ReasonMethod       Reason = "htm"           // htm is not the request's method
	ReasonURL          Reason = "htu"           // htu is not the request's URL
	ReasonTooOld       Reason = "iat_too_old"   // iat before the window
	ReasonFuture       Reason = "iat_future"    // iat after now + leeway
	ReasonNonce        Reason = "nonce"         // nonce missing, wrong or stale
	ReasonTokenHash    Reason = "ath"           // ath missing or not the token's hash
	ReasonThumbprint   Reason = "jkt"           // the key is not the one the token is bound to
	ReasonUnboundToken Reason = "unbound_token" // a token without cnf.jkt sent with DPoP
	ReasonReplay       Reason = "jti_replay"    // the jti was used before
)

// Reasons lists every Reason, in the order above.
func Reasons() []Reason {
	return []Reason{ReasonMissing, ReasonMultiple, ReasonMalformed, ReasonType, ReasonAlg, ReasonKey, ReasonSignature,
		ReasonMethod, ReasonURL, ReasonTooOld, ReasonFuture, ReasonNonce, ReasonTokenHash, ReasonThumbprint,
		ReasonUnboundToken, ReasonReplay}
}

// Error is a refused proof.
type Error struct {
	// Code is invalid_dpop_proof, or use_dpop_nonce when the server wants
	// (another) nonce.
	Code   string
	Reason Reason
	// Message says, for the administrator, what was wrong.
	Message string
}

func (e *Error) Error() string { return "dpop: " + string(e.Reason) + ": " + e.Message }

func refuse(reason Reason, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidProof, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Config configures a Verifier; NewVerifier fills the zero fields.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxAge is how old a proof's iat may be; 0 means DefaultMaxAge.
	MaxAge time.Duration
	// Leeway is the allowed clock skew; 0 means DefaultLeeway.
	Leeway time.Duration
	// Replay remembers used jti values; nil means a ReplayCache of the
	// Verifier's own. Verifiers that guard the same tokens share one.
	Replay Replay
	// Nonces, when set, makes a nonce from it mandatory in every proof.
	Nonces *Nonces
}

// Verifier checks DPoP proofs. It is safe for concurrent use.
type Verifier struct {
	cfg Config
}

// NewVerifier returns a Verifier for cfg, defaults filled in.
func NewVerifier(cfg Config) *Verifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Replay == nil {
		cfg.Replay = &ReplayCache{}
	}
	return &Verifier{cfg: cfg}
}

// Nonces returns the Verifier's nonces, nil when it uses none.
func (v *Verifier) Nonces() *Nonces { return v.cfg.Nonces }

// Request is what a proof is checked against.
type Request struct {
	// Proofs are the values of the request's DPoP header fields.
	Proofs []string
	// Method and URL are those of the original request (behind a proxy,
	// what the proxy received).
	Method, URL string
	// AccessToken is the token sent with the proof, if any: the proof
	// must then carry its hash (ath), and BoundTo must be the key's
	// thumbprint.
	AccessToken string
	// BoundTo is the cnf.jkt claim of the access token ("" when it has
	// none).
	BoundTo string
	// NoReplayCheck leaves the jti cache alone: for `token inspect`, which
	// looks at a proof without using it up.
	NoReplayCheck bool
}

// Proof is an accepted proof.
type Proof struct {
	Alg        string
	Thumbprint string // RFC 7638 thumbprint of the proof's key, base64url
	JTI        string
	HTM, HTU   string
	IssuedAt   time.Time
	Nonce      string
	ATH        string
}

// Verify checks a proof against a request (see the package doc for the
// checks); a refusal is an *Error.
func (v *Verifier) Verify(req Request) (*Proof, error) {
	return v.VerifyContext(context.Background(), req)
}

// VerifyContext is Verify with the context of the call, which the
// Replay is given (a Replay that asks a database).
func (v *Verifier) VerifyContext(ctx context.Context, req Request) (*Proof, error) {
	now := v.cfg.Now()
	switch len(req.Proofs) {
	case 0:
		return nil, refuse(ReasonMissing, "no DPoP header: send a DPoP proof with the request")
	case 1:
	default:
		return nil, refuse(ReasonMultiple, "%d DPoP headers: send exactly one proof", len(req.Proofs))
	}
	p, err := parse(req.Proofs[0])
	if err != nil {
		return nil, err
	}
	if p.HTM != req.Method {
		return nil, refuse(ReasonMethod, "the proof is for method %q (htm), the request is %s", p.HTM, req.Method)
	}
	want, err := NormalizeURL(req.URL)
	if err != nil {
		return nil, refuse(ReasonURL, "the request's URL %q cannot be compared: %v", req.URL, err)
	}
	got, err := NormalizeURL(p.HTU)
	if err != nil || got != want {
		return nil, refuse(ReasonURL, "the proof is for URL %q (htu), the request is for %s", p.HTU, want)
	}
	if oldest := now.Add(-v.cfg.MaxAge - v.cfg.Leeway); p.IssuedAt.Before(oldest) {
		return nil, refuse(ReasonTooOld, "the proof was made at %s, %s ago, more than the %s accepted: make a fresh proof for every request",
			p.IssuedAt.UTC().Format(time.RFC3339), now.Sub(p.IssuedAt).Round(time.Second), v.cfg.MaxAge)
	}
	if p.IssuedAt.After(now.Add(v.cfg.Leeway)) {
		return nil, refuse(ReasonFuture, "the proof was made at %s, %s in the future (leeway %s): the client's clock is ahead",
			p.IssuedAt.UTC().Format(time.RFC3339), p.IssuedAt.Sub(now).Round(time.Second), v.cfg.Leeway)
	}
	if n := v.cfg.Nonces; n != nil && !n.Valid(p.Nonce, now) {
		e := &Error{Code: CodeUseNonce, Reason: ReasonNonce, Message: "the proof has no valid server nonce: use the DPoP-Nonce of this answer"}
		if p.Nonce == "" {
			e.Message = "the proof has no nonce: use the DPoP-Nonce of this answer"
		}
		return nil, e
	}
	if req.AccessToken != "" {
		if p.ATH == "" {
			return nil, refuse(ReasonTokenHash, "the proof has no ath claim, but it comes with an access token")
		}
		if p.ATH != TokenHash(req.AccessToken) {
			return nil, refuse(ReasonTokenHash, "the proof's ath is not the hash of the access token sent with it: the proof was made for another token")
		}
		if req.BoundTo == "" {
			return nil, refuse(ReasonUnboundToken, "the access token is not bound to a DPoP key (no cnf.jkt claim): send it as a Bearer token, or get a DPoP-bound one")
		}
		if req.BoundTo != p.Thumbprint {
			return nil, refuse(ReasonThumbprint, "the proof is signed by key %s, but the access token is bound to key %s (cnf.jkt)", p.Thumbprint, req.BoundTo)
		}
	}
	if !req.NoReplayCheck && !v.cfg.Replay.UseProof(ctx, p.Thumbprint, p.JTI, p.IssuedAt.Add(v.cfg.MaxAge+v.cfg.Leeway), now) {
		return nil, refuse(ReasonReplay, "the proof (jti %q) was used before: make a fresh proof for every request", p.JTI)
	}
	return p, nil
}

// header is what a proof's protected header is read for.
type header struct {
	Typ  string          `json:"typ"`
	Alg  string          `json:"alg"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
}

// algs are the algorithms accepted in proofs: asymmetric only.
var algs = map[string]jwa.SignatureAlgorithm{
	"RS256": jwa.RS256(), "RS384": jwa.RS384(), "RS512": jwa.RS512(),
	"PS256": jwa.PS256(), "PS384": jwa.PS384(), "PS512": jwa.PS512(),
	"ES256": jwa.ES256(), "ES384": jwa.ES384(), "ES512": jwa.ES512(),
	"EdDSA": jwa.EdDSA(),
}

// parse reads a proof and verifies its signature with its own key; the
// checks against the request come after.
func parse(proof string) (*Proof, error) {
	if len(proof) > MaxProofSize {
		return nil, refuse(ReasonMalformed, "the proof is %d bytes, more than %d", len(proof), MaxProofSize)
	}
	hdr64, ok := compactHeader(proof)
	if !ok {
		return nil, refuse(ReasonMalformed, "the proof is not a signed JWT (three base64url parts)")
	}
	var h header
	hb, err := base64.RawURLEncoding.DecodeString(hdr64)
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return nil, refuse(ReasonMalformed, "the proof's header is not base64url JSON")
	}
	if h.Typ != ProofType {
		return nil, refuse(ReasonType, "the proof's typ is %q, want %q", h.Typ, ProofType)
	}
	alg, ok := algs[h.Alg]
	if !ok {
		return nil, refuse(ReasonAlg, "the proof's alg %q is not an asymmetric signature algorithm (RS*, PS*, ES*, EdDSA)", h.Alg)
	}
	if len(h.Crit) > 0 {
		return nil, refuse(ReasonMalformed, "the proof's header has crit, which no DPoP proof needs")
	}
	if len(h.JWK) == 0 || bytes.Equal(h.JWK, []byte("null")) {
		return nil, refuse(ReasonKey, "the proof's header has no jwk (the public key)")
	}
	pk, err := parsePublicKey(h.JWK)
	if err != nil {
		return nil, err
	}
	if !keyFits(h.Alg, pk.raw) {
		return nil, refuse(ReasonKey, "the proof's jwk (%T) does not fit alg %s", pk.raw, h.Alg)
	}
	payload, err := jws.VerifyCompactFast(pk.raw, []byte(proof), alg)
	if err != nil {
		return nil, refuse(ReasonSignature, "the proof's signature does not verify with the key in its header")
	}
	var c struct {
		JTI   *string      `json:"jti"`
		HTM   *string      `json:"htm"`
		HTU   *string      `json:"htu"`
		IAT   *json.Number `json:"iat"`
		ATH   string       `json:"ath"`
		Nonce string       `json:"nonce"`
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		return nil, refuse(ReasonMalformed, "the proof's claims are not a JSON object")
	}
	var missing []string
	for _, m := range []struct {
		name string
		ok   bool
	}{{"jti", c.JTI != nil && *c.JTI != ""}, {"htm", c.HTM != nil && *c.HTM != ""}, {"htu", c.HTU != nil && *c.HTU != ""}, {"iat", c.IAT != nil}} {
		if !m.ok {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return nil, refuse(ReasonMalformed, "the proof lacks the claims %s", strings.Join(missing, ", "))
	}
	iat, err := c.IAT.Float64()
	if err != nil {
		return nil, refuse(ReasonMalformed, "the proof's iat is not a number of seconds")
	}
	return &Proof{
		Alg: h.Alg, Thumbprint: pk.thumbprint,
		JTI: *c.JTI, HTM: *c.HTM, HTU: *c.HTU, IssuedAt: time.Unix(int64(iat), 0),
		Nonce: c.Nonce, ATH: c.ATH,
	}, nil
}

// publicKey is a proof's jwk, parsed.
type publicKey struct {
	raw        any // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	thumbprint string
}

// keyCacheSize bounds the parsed keys kept: a client sends the same jwk
// with every proof, and parsing it is a fifth of a proof's cost.
const keyCacheSize = 4096

var keyCache struct {
	sync.Mutex
	m map[string]publicKey
}

// parsePublicKey parses a proof's jwk (a public key only), from the cache
// when the same bytes came before.
func parsePublicKey(js []byte) (publicKey, error) {
	keyCache.Lock()
	pk, ok := keyCache.m[string(js)]
	keyCache.Unlock()
	if ok {
		return pk, nil
	}
	key, err := jwk.ParseKey(js)
	if err != nil {
		return publicKey{}, refuse(ReasonKey, "the proof's jwk is not a key: %v", err)
	}
	if private, err := jwk.IsPrivateKey(key); err != nil || private {
		return publicKey{}, refuse(ReasonKey, "the proof's jwk is a private or symmetric key; it must be the public key only")
	}
	if err := jwk.Export(key, &pk.raw); err != nil {
		return publicKey{}, refuse(ReasonKey, "the proof's jwk cannot be used: %v", err)
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return publicKey{}, refuse(ReasonKey, "the proof's jwk has no thumbprint: %v", err)
	}
	pk.thumbprint = base64.RawURLEncoding.EncodeToString(tp)
	keyCache.Lock()
	if keyCache.m == nil || len(keyCache.m) >= keyCacheSize {
		keyCache.m = make(map[string]publicKey)
	}
	keyCache.m[string(js)] = pk
	keyCache.Unlock()
	return pk, nil
}

// compactHeader returns the header of a compact JWS (three parts).
func compactHeader(s string) (hdr string, ok bool) {
	hdr, rest, ok1 := strings.Cut(s, ".")
	_, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || hdr == "" || sig == "" || strings.Contains(sig, ".") {
		return "", false
	}
	return hdr, true
}

// keyFits reports whether a public key can verify alg: an RSA key of at
// least 2048 bits for RS* and PS*, an EC key of the alg's curve for ES*,
// an Ed25519 key for EdDSA.
func keyFits(alg string, raw any) bool {
	switch k := raw.(type) {
	case *rsa.PublicKey:
		return (strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")) && k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return k.Curve == elliptic.P256()
		case "ES384":
			return k.Curve == elliptic.P384()
		case "ES512":
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// Parse reads a proof and verifies its signature with the key in its
// header (typ, alg, jwk and the claims checked as Verify does), without
// comparing it with a request: for `oidcctl token inspect`, which shows
// what a proof says before checking it against a request.
func Parse(proof string) (*Proof, error) { return parse(proof) }
