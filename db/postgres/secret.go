package postgres

import (
	"oidcctl/core"
	"oidcctl/db/internal/sealed"
)

// secretAD is the associated data a secret is sealed with; see sealed.AD.
func secretAD(kind, name, column string) string { return sealed.AD(kind, name, column) }

// seal returns the stored form of a secret: sealed, or nil (NULL) when it
// is not set.
func (db *DB) seal(s core.Secret, ad string) ([]byte, error) { return sealed.Seal(db.key, s, ad) }

// open turns a stored secret back into a Secret; NULL is "not set".
func (db *DB) open(b []byte, ad string) (core.Secret, error) { return sealed.Open(db.key, b, ad) }
