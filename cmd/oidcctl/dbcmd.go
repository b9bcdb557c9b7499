package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// dbCommand is `oidcctl db`: the database itself.
func (a *app) dbCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the database itself",
		Args:  noArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database's schema",
		Long: `migrate creates the schema of a new database or upgrades that of an
existing one to what this oidcctl knows, and checks that the secret key
fits. Every command, the console and serve do the same when they open the
database; migrate does only that, for a deployment step. Several
processes may migrate one database at once.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, map[string]string{"database": store.Path(), "status": "migrated"})
			}
			_, err = fmt.Fprintf(a.stdout, "database %s: schema up to date\n", store.Path())
			return err
		},
	})
	cmd.AddCommand(a.dbCopyCommand())
	return cmd
}
