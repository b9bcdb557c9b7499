package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"oidcctl/core/crypt"
	"oidcctl/db"
	"oidcctl/db/dbcopy"
	"oidcctl/db/postgres"
)

// dbCopyCommand is `oidcctl db copy`.
func (a *app) dbCopyCommand() *cobra.Command {
	var (
		from, to       string
		replace, debug bool
	)
	cmd := &cobra.Command{
		Use:   "copy --from SRC --to DST",
		Short: "Copy everything from one database to another (SQLite and PostgreSQL, either way)",
		Long: `copy copies profiles, their cached discovery documents, accounts, token
states, users and roles, webservices and their invoke credentials and the
shared settings from the database SRC to the database DST, each a SQLite
file or a PostgreSQL URL or key=value string, in either direction. Rows
are copied as stored: secrets stay sealed, so both databases must use the
same secret key (the key of SRC, found as for --db); a DST sealed with
another key is refused. DST is created or migrated first; it must be
empty unless --replace, which deletes what it holds. Everything is
written in one transaction on DST: a copy that fails leaves it as it was.
The debugger's log is copied only with --debug; serve status is never
copied. Progress goes to stderr. Stop the serve instances on SRC first,
or token states renewed during the copy stay behind.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usagef("db copy needs --from and --to")
			}
			if from == to {
				return usagef("db copy: --from and --to name the same database")
			}
			ctx := cmd.Context()
			if !postgres.IsConnString(from) {
				if _, err := os.Stat(from); err != nil {
					return fmt.Errorf("db copy: source %w", err)
				}
			}
			a.dbFlag = from
			src, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			keyed, ok := src.(interface{ Key() *crypt.Key })
			if !ok {
				return fmt.Errorf("db copy: %s has no secret key", src.Path())
			}
			key := keyed.Key()
			// Create or migrate the destination, and check that the key
			// opens it.
			var dst openedStore
			if postgres.IsConnString(to) {
				dst, err = postgres.Open(ctx, to, key)
			} else {
				dst, err = db.OpenWith(ctx, to, key, db.Options{Log: a.log})
			}
			if err != nil {
				return err
			}
			dstName := dst.Path()
			dst.Close()
			res, err := dbcopy.Copy(ctx, from, to, key.ID(), dbcopy.Options{
				Debug:   debug,
				Replace: replace,
				Progress: func(table string, done, total int) {
					fmt.Fprintf(a.stderr, "%s: %d/%d\n", table, done, total)
				},
			})
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, map[string]any{"from": src.Path(), "to": dstName, "tables": res.Tables})
			}
			t := newTable(a.stdout, "TABLE", "ROWS")
			for _, c := range res.Tables {
				t.row(c.Table, strconv.Itoa(c.Rows))
			}
			if err := t.flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "copied %s to %s\n", src.Path(), dstName)
			return err
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the database to copy: a SQLite file or a PostgreSQL URL or key=value string")
	cmd.Flags().StringVar(&to, "to", "", "the database to copy into (created or migrated first)")
	cmd.Flags().BoolVar(&replace, "replace", false, "copy into a database that holds data, deleting what it holds first")
	cmd.Flags().BoolVar(&debug, "debug", false, "copy the debugger's log too")
	return cmd
}
