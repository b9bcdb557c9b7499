// Package crypt seals secrets at rest with AES-256-GCM under a key kept in a
// file outside the database.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the name of the key file, in $CREDENTIALS_DIRECTORY or
// beside the database.
const KeyFileName = "oidcctl.key"

const (
	keySize = 32
	version = 1
	idSize  = 4
)

// Key seals and opens secrets. Its zero value is not usable.
type Key struct {
	aead cipher.AEAD
	id   [idSize]byte
	// Source says where the key came from, for error messages.
	Source string
}

// ErrWrongKey is wrapped by errors that come from opening a secret with a
// key other than the one that sealed it.
var ErrWrongKey = errors.New("wrong key")

// KeyError says which key was tried and why it does not fit.
type KeyError struct {
	Source   string // the key that was tried
	KeyID    string // its id
	SealedBy string // id of the key the secret was sealed with, when known
	Reason   string
}

func (e *KeyError) Error() string {
	msg := fmt.Sprintf("secret key %s (id %s): %s", e.Source, e.KeyID, e.Reason)
	if e.SealedBy != "" && e.SealedBy != e.KeyID {
		msg += fmt.Sprintf("; the secrets were sealed with key id %s: point OIDCCTL_KEY_FILE at that key", e.SealedBy)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrWrongKey) hold.
func (e *KeyError) Unwrap() error { return ErrWrongKey }

// NewKey makes a Key from 32 bytes of key material.
func NewKey(material []byte, source string) (*Key, error) {
	if len(material) != keySize {
		return nil, fmt.Errorf("secret key %s: %d bytes, want %d", source, len(material), keySize)
	}
	block, err := aes.NewCipher(material)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", source, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", source, err)
	}
	k := &Key{aead: aead, Source: source}
	sum := sha256.Sum256(append([]byte("oidcctl key id\x00"), material...))
	copy(k.id[:], sum[:])
	return k, nil
}

// ID names the key without revealing it: 8 hex digits of a hash.
func (k *Key) ID() string { return hex.EncodeToString(k.id[:]) }

// Seal encrypts plaintext. The associated data binds the ciphertext to where
// it is stored (say "profile client_secret"), so that it cannot be moved
// to another field.
func (k *Key) Seal(plaintext []byte, associated string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := make([]byte, 0, 1+idSize+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, version)
	out = append(out, k.id[:]...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, []byte(associated)), nil
}

// Open decrypts what Seal returned. A secret sealed with another key, or
// changed since, gives a *KeyError.
func (k *Key) Open(sealed []byte, associated string) ([]byte, error) {
	head := 1 + idSize + k.aead.NonceSize()
	if len(sealed) < head+k.aead.Overhead() || sealed[0] != version {
		return nil, &KeyError{Source: k.Source, KeyID: k.ID(), Reason: "stored secret is not in oidcctl's sealed format"}
	}
	sealedBy := hex.EncodeToString(sealed[1 : 1+idSize])
	plain, err := k.aead.Open(nil, sealed[1+idSize:head], sealed[head:], []byte(associated))
	if err != nil {
		reason := "cannot decrypt a stored secret: the key does not fit"
		if sealedBy == k.ID() {
			reason = "cannot decrypt a stored secret: it was changed or damaged"
		}
		return nil, &KeyError{Source: k.Source, KeyID: k.ID(), SealedBy: sealedBy, Reason: reason}
	}
	return plain, nil
}

// KeyLocation says where LoadKey looks: the first of
// $CREDENTIALS_DIRECTORY/oidcctl.key (systemd LoadCredential), then
// $OIDCCTL_KEY_FILE, then oidcctl.key beside the database; and whether a
// missing key may be created there.
func KeyLocation(dbPath string, getenv func(string) string) (path string, create bool) {
	if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		if p := filepath.Join(dir, KeyFileName); fileExists(p) {
			return p, false
		}
	}
	if p := getenv("OIDCCTL_KEY_FILE"); p != "" {
		return p, false
	}
	return filepath.Join(filepath.Dir(dbPath), KeyFileName), true
}

// LoadKey reads the key at path. When create is set and there is no file,
// it writes a new random key there, readable by its owner only.
func LoadKey(path string, create bool) (*Key, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	material, err := decodeKey(data)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	return NewKey(material, path)
}

// decodeKey takes the base64 text that oidcctl writes, or 32 raw bytes.
func decodeKey(data []byte) ([]byte, error) {
	text := strings.TrimSpace(string(data))
	if b, err := base64.StdEncoding.DecodeString(text); err == nil && len(b) == keySize {
		return b, nil
	}
	if len(data) == keySize {
		return data, nil
	}
	return nil, fmt.Errorf("not a key: want %d bytes as base64 (e.g. from `head -c32 /dev/urandom | base64`)", keySize)
}

func createKey(path string) (*Key, error) {
	material := make([]byte, keySize)
	if _, err := rand.Read(material); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	// Write a whole temporary file and link it into place, so that a second
	// process never reads a half-written key.
	tmp, err := os.CreateTemp(dir, ".oidcctl-key-*")
	if err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(material) + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("create secret key %s: %w", path, werr)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return LoadKey(path, false) // another process was first: use its key
	} else if err != nil {
		return nil, fmt.Errorf("create secret key %s: %w", path, err)
	}
	return NewKey(material, path)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
