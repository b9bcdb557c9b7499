package db

import (
	"context"
	"database/sql"
	"errors"
)

// Setting returns the value of a shared setting; ok is false when it is
// not set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	v, err := readTx(ctx, db, func(tx *sql.Tx) (sql.NullString, error) {
		var v sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v.String)
		if errors.Is(err, sql.ErrNoRows) {
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
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return errors.New("set setting: no key given")
	}
	return wrap("set setting", key, db.inTx(ctx, func(tx *sql.Tx) error {
		return db.setSetting(ctx, tx, key, value)
	}))
}

func (db *DB) setSetting(ctx context.Context, tx *sql.Tx, key, value string) error {
	if value == "" {
		_, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key)
		return err
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, db.now())
	return err
}
