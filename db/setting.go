package db

import (
	"context"
	"database/sql"
	"errors"
)

// Setting returns the value of a shared setting; ok is false when it is
// not set.
func (db *DB) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	tx, err := db.begin(ctx, false)
	if err != nil {
		return "", false, wrap("read setting", key, err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap("read setting", key, err)
	}
	return value, true, nil
}

// SetSetting stores a shared setting, replacing its value; an empty value
// removes it (removing one that is not set is no error). The key must not
// be empty.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return errors.New("set setting: no key given")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return wrap("set setting", key, err)
	}
	defer tx.Rollback()
	if err := db.setSetting(ctx, tx, key, value); err != nil {
		return wrap("set setting", key, err)
	}
	return wrap("set setting", key, tx.Commit())
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
