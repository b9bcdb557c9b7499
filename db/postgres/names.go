package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"oidcctl/core"
)

// caseClash returns a *core.ValidationError when table holds another name
// that differs from name only in ASCII case (lower() folds only ASCII
// letters in the "C" collation of the name columns, as SQLite's NOCASE
// does), before the unique index refuses the insert with a message about
// indexes.
func caseClash(ctx context.Context, tx pgx.Tx, kind, table, column, name string) error {
	var other string
	err := tx.QueryRow(ctx,
		`SELECT `+column+` FROM `+table+` WHERE lower(`+column+`) = lower($1) AND `+column+` <> $1 LIMIT 1`,
		name).Scan(&other)
	if errors.Is(err, pgx.ErrNoRows) {
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
