package db

import (
	"fmt"

	"oidcctl/core"
)

// secretAD is the associated data a secret is sealed with: it binds the
// ciphertext to its table, row and column, so that a sealed value copied to
// another row or column does not open.
func secretAD(kind, name, column string) string {
	return kind + "/" + name + "/" + column
}

// seal returns the stored form of a secret: sealed, or nil (NULL) when it
// is not set.
func (db *DB) seal(s core.Secret, ad string) ([]byte, error) {
	if !s.IsSet() {
		return nil, nil
	}
	sealed, err := db.key.Seal([]byte(s.Reveal()), ad)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", ad, err)
	}
	return sealed, nil
}

// open turns a stored secret back into a Secret; NULL is "not set".
func (db *DB) open(sealed []byte, ad string) (core.Secret, error) {
	if sealed == nil {
		return core.Secret{}, nil
	}
	plain, err := db.key.Open(sealed, ad)
	if err != nil {
		return core.Secret{}, fmt.Errorf("open %s: %w", ad, err)
	}
	return core.NewSecret(string(plain)), nil
}
