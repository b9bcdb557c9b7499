// Package sealed is how both stores under db (SQLite and PostgreSQL) keep
// secrets at rest: the associated data that binds a sealed value to its
// row and column, sealing and opening with the database's key, and the
// key check that makes an open with the wrong key fail at once. Both
// stores keep the same bytes, so that a database can be copied from one
// engine to the other with its secrets as they are.
package sealed

import (
	"fmt"

	"oidcctl/core"
	"oidcctl/core/crypt"
)

// AD is the associated data a secret is sealed with: it binds the
// ciphertext to its table, row and column, so that a sealed value copied to
// another row or column does not open.
func AD(kind, name, column string) string {
	return kind + "/" + name + "/" + column
}

// Seal returns the stored form of a secret: sealed with key, or nil (NULL)
// when it is not set.
func Seal(key *crypt.Key, s core.Secret, ad string) ([]byte, error) {
	if !s.IsSet() {
		return nil, nil
	}
	b, err := key.Seal([]byte(s.Reveal()), ad)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", ad, err)
	}
	return b, nil
}

// Open turns a stored secret back into a Secret; nil (NULL) is "not set".
func Open(key *crypt.Key, b []byte, ad string) (core.Secret, error) {
	if b == nil {
		return core.Secret{}, nil
	}
	plain, err := key.Open(b, ad)
	if err != nil {
		return core.Secret{}, fmt.Errorf("open %s: %w", ad, err)
	}
	return core.NewSecret(string(plain)), nil
}

// The key check is sealed with the key when a database is created and kept
// in its meta table under KeyCheckName, so that a later open with another
// key fails at once, naming the key, instead of when the first secret is
// read.
const (
	KeyCheckName  = "key_check"
	keyCheckPlain = "oidcctl key check"
	keyCheckAD    = "meta/key_check"
)

// NewKeyCheck returns the key check to store in a new database.
func NewKeyCheck(key *crypt.Key) ([]byte, error) {
	return key.Seal([]byte(keyCheckPlain), keyCheckAD)
}

// VerifyKeyCheck checks that the stored key check b was sealed with key;
// otherwise a *crypt.KeyError naming the key tried.
func VerifyKeyCheck(key *crypt.Key, b []byte) error {
	plain, err := key.Open(b, keyCheckAD)
	if err != nil {
		return err // *crypt.KeyError, naming the key
	}
	if string(plain) != keyCheckPlain {
		return &crypt.KeyError{Source: key.Source, KeyID: key.ID(), Reason: "the key check stored in the database does not match"}
	}
	return nil
}
