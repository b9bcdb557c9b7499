package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

// Setting returns the value of a shared setting; ok is false when it is
// not set.
func (db *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	v, err := readTx(ctx, db, func(tx Tx) (sql.NullString, error) {
		var v sql.NullString
		err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v.String)
		if errors.Is(err, ErrNoRows) {
			return v, nil
		}
		v.Valid = err == nil
		return v, err
	})
	if err != nil {
		return "", false, wrap("read setting", key, err)
	}
	return v.String, v.Valid, nil
}

// SetSetting stores a shared setting, replacing its value; an empty value
// removes it (removing one that is not set is no error). The key must not
// be empty.
func (db *Store) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return errors.New("set setting: no key given")
	}
	return wrap("set setting", key, db.inTx(ctx, func(tx Tx) error {
		return db.setSetting(ctx, tx, key, value)
	}))
}

func (db *Store) setSetting(ctx context.Context, tx Tx, key, value string) error {
	if value == "" {
		_, err := tx.Exec(ctx, `DELETE FROM settings WHERE key = $1`, key)
		return err
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, db.now())
	return err
}
