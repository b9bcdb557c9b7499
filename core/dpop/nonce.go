package dpop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// DefaultNonceTTL is how long a server nonce stays valid.
const DefaultNonceTTL = 5 * time.Minute

// Nonces issues and checks server-provided DPoP nonces (RFC 9449 section
// 8) without keeping state: a nonce is its issue time and an HMAC of it
// under a random key of the process, so every nonce the process issued
// within TTL is accepted (several serve processes behind one name each
// accept only their own, so a client may need one retry after switching).
// Build it with NewNonces; it is safe for concurrent use.
type Nonces struct {
	key [32]byte
	// TTL is how long a nonce is accepted.
	TTL time.Duration
}

// NewNonces returns Nonces with a fresh random key; ttl <= 0 means
// DefaultNonceTTL.
func NewNonces(ttl time.Duration) (*Nonces, error) {
	if ttl <= 0 {
		ttl = DefaultNonceTTL
	}
	n := &Nonces{TTL: ttl}
	if _, err := rand.Read(n.key[:]); err != nil {
		return nil, fmt.Errorf("dpop: nonce key: %w", err)
	}
	return n, nil
}

// Issue returns a nonce issued at now.
func (n *Nonces) Issue(now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Unix()))
	copy(b[8:], n.mac(b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Valid reports whether nonce was issued by n within TTL of now (and not
// in the future).
func (n *Nonces) Valid(nonce string, now time.Time) bool {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false
	}
	if !hmac.Equal(b[8:], n.mac(b[:8])) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return !issued.After(now) && now.Sub(issued) <= n.TTL
}

func (n *Nonces) mac(ts []byte) []byte {
	m := hmac.New(sha256.New, n.key[:])
	m.Write(ts)
	return m.Sum(nil)[:16]
}
