// Package crypt seals secrets at rest with AES-256-GCM under a key kept in a
// file outside the database.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	// prk is the HKDF pseudorandom key of the material, from which Derive
	// makes keys for other purposes.
	prk []byte
	// Source says where the key came from, for error messages.
	Source string
	// Warning, when not empty, is something about the key's file a person
	// should fix, such as a mode that lets others read it. LoadKey sets
	// it; the caller logs it.
	Warning string
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
	prk, err := hkdf.Extract(sha256.New, material, []byte("oidcctl derived keys"))
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", source, err)
	}
	k := &Key{aead: aead, prk: prk, Source: source}
	sum := sha256.Sum256(append([]byte("oidcctl key id\x00"), material...))
	copy(k.id[:], sum[:])
	return k, nil
}

// Derive returns 32 bytes for purpose (HKDF-SHA256 of the key material):
// the same for every process that holds the same key, and telling nothing
// of the key or of what it derives for another purpose. serve's DPoP
// nonces are made with one, so that every instance sharing a database,
// and so its key, accepts the nonces of the others.
func (k *Key) Derive(purpose string) []byte {
	b, err := hkdf.Expand(sha256.New, k.prk, "oidcctl "+purpose, keySize)
	if err != nil {
		panic("crypt: derive " + purpose + ": " + err.Error()) // only for lengths HKDF cannot give
	}
	return b
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

// MissingKeyError says that the key file is not there while a database
// holds secrets sealed with a key: a new key would not open them. It
// wraps fs.ErrNotExist.
type MissingKeyError struct {
	Path     string // the key file looked for
	Database string // the database that needs it
	SealedBy string // id of the key the database's secrets were sealed with
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("secret key %s does not exist, but the database %s holds secrets sealed with key id %s: "+
		"restore that key file from your backup (or point OIDCCTL_KEY_FILE at it); no new key was created, since it could not open them",
		e.Path, e.Database, e.SealedBy)
}

// Unwrap makes errors.Is(err, fs.ErrNotExist) hold.
func (e *MissingKeyError) Unwrap() error { return fs.ErrNotExist }

// SealedKeyID returns the id of the key that sealed a secret (what Seal
// returned), without opening it; ok is false when sealed is not in Seal's
// format.
func SealedKeyID(sealed []byte) (id string, ok bool) {
	if len(sealed) < 1+idSize || sealed[0] != version {
		return "", false
	}
	return hex.EncodeToString(sealed[1 : 1+idSize]), true
}

// LoadKey reads the key at path. When create is set and there is no file,
// it writes a new random key there, readable by its owner only. A key
// file that its group or others may read gives a Key with a Warning.
func LoadKey(path string, create bool) (*Key, error) {
	data, err := readKeyFile(path)
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
	k, err := NewKey(material, path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		k.Warning = fmt.Sprintf("secret key %s may be read by others than its owner (mode %04o): whoever reads it can decrypt every secret in the database; chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	return k, nil
}

// maxKeyFile bounds what LoadKey reads: a key is 45 bytes of base64, and
// OIDCCTL_KEY_FILE=/dev/zero must not fill the memory.
const maxKeyFile = 4096

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a key", path, maxKeyFile)
	}
	return data, nil
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
