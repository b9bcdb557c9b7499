package dpop

import (
	"bytes"
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
// under a key, so every nonce issued with that key within TTL is
// accepted: by the process that issued it, and by every other one built
// with the same key (NewNoncesWithKey), as several servers behind one
// name must be, or a client would be asked for a new nonce each time it
// reaches another. Safe for concurrent use.
type Nonces struct {
	key []byte
	// TTL is how long a nonce is accepted.
	TTL time.Duration
}

// NewNonces returns Nonces with a fresh random key, which only this
// process holds; ttl <= 0 means DefaultNonceTTL.
func NewNonces(ttl time.Duration) (*Nonces, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("dpop: nonce key: %w", err)
	}
	return NewNoncesWithKey(key[:], ttl)
}

// NewNoncesWithKey returns Nonces under key (at least 32 bytes, secret):
// Nonces with the same key accept each other's nonces. ttl <= 0 means
// DefaultNonceTTL.
func NewNoncesWithKey(key []byte, ttl time.Duration) (*Nonces, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("dpop: nonce key of %d bytes, want 32 or more", len(key))
	}
	if ttl <= 0 {
		ttl = DefaultNonceTTL
	}
	return &Nonces{key: bytes.Clone(key), TTL: ttl}, nil
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
	m := hmac.New(sha256.New, n.key)
	m.Write(ts)
	return m.Sum(nil)[:16]
}
