package sqlstore

import (
	"context"
)

// ConfigVersion returns the configuration version: a number that the
// triggers raise on every write to profiles, accounts, users and their
// roles, webservices and shared settings, whichever process makes it, and
// not on writes of tokens, cached discovery documents or debugger entries.
// Only whether it changed means something: one write may raise it by more
// than one. An update that changes nothing of a user or a setting but its
// updated_at leaves it alone; see the engines' migrations (SQLite's
// 0003_webservices_debug.sql, PostgreSQL's 0001_init.sql).
func (db *Store) ConfigVersion(ctx context.Context) (int64, error) {
	v, err := readTx(ctx, db, func(tx Tx) (int64, error) {
		var v int64
		err := tx.QueryRow(ctx, `SELECT version FROM config_version WHERE id = 1`).Scan(&v)
		return v, err
	})
	return v, wrapOp("read configuration version", err)
}
