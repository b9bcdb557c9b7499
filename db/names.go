package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// namedTables are the tables whose names may not differ only in case
// (migration nocase_names).
var namedTables = []struct{ kind, table, column string }{
	{"profile", "profiles", "name"},
	{"account", "accounts", "name"},
	{"webservice", "webservices", "name"},
	{"user", "users", "login"},
}

// preMigrationChecks run, inside the migration's transaction, before the
// migration of that name; they explain what would make it fail. Keyed by
// name, not number, so that renumbering keeps them.
var preMigrationChecks = map[string]func(context.Context, *sql.Tx) error{
	"nocase_names": checkCaseDuplicates,
}

// checkCaseDuplicates names every group of names that differ only in case,
// which the unique NOCASE indexes of migration nocase_names cannot hold.
func checkCaseDuplicates(ctx context.Context, tx *sql.Tx) error {
	var groups []string
	for _, n := range namedTables {
		rows, err := tx.QueryContext(ctx, `SELECT group_concat(quote(`+n.column+`), ', ' ORDER BY `+n.column+`) FROM `+n.table+
			` GROUP BY `+n.column+` COLLATE NOCASE HAVING count(*) > 1 ORDER BY 1`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var names string
			if err := rows.Scan(&names); err != nil {
				rows.Close()
				return err
			}
			groups = append(groups, n.kind+"s "+strings.ReplaceAll(names, "'", `"`))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(groups) == 0 {
		return nil
	}
	return fmt.Errorf("names that differ only in case may no longer both exist, and this database has %s: "+
		"with the oidcctl that made them, remove all but one of each (config export keeps a copy), then open it again",
		strings.Join(groups, "; "))
}
