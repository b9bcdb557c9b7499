package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"oidcctl/core"
)

// caseClash returns a *core.ValidationError when table holds another name
// that differs from name only in ASCII case (the dialect's SameNameFold),
// before the unique index refuses the insert with a message about
// indexes.
func (db *Store) caseClash(ctx context.Context, tx Tx, kind, table, column, name string) error {
	var other string
	err := tx.QueryRow(ctx,
		`SELECT `+column+` FROM `+table+` WHERE `+db.dialect.SameNameFold(column)+` AND `+column+` <> $1 LIMIT 1`,
		name).Scan(&other)
	if errors.Is(err, ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return &core.ValidationError{Kind: kind, Name: name, Problems: []core.FieldError{{
		Field:   column,
		Problem: fmt.Sprintf("differs only in case from the existing %s %q: names that differ only in case would be taken for each other", kind, other),
	}}}
}
