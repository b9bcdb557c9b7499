package db

import "oidcctl/core/crypt"

// Key returns the key the store seals secrets with (for `db copy`, which
// opens the destination with the source's key).
func (db *DB) Key() *crypt.Key { return db.key }
