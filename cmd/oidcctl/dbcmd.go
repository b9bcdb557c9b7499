package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"oidcctl/db/postgres"
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
existing one to what this oidcctl knows. Every command, the console and
serve do the same when they open the database; migrate does only that,
for a deployment step. Several processes may migrate one database at
once. On a SQLite file it also checks that the secret key fits, making
the key beside a new file. On PostgreSQL it checks the key only when the
database is tied to one already, and makes none: a new database is tied
to a key by the first other command, or by db copy to the key of the
database it copies.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, err := a.migrate(cmd.Context())
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, map[string]string{"database": name, "status": "migrated"})
			}
			_, err = fmt.Fprintf(a.stdout, "database %s: schema up to date\n", name)
			return err
		},
	})
	cmd.AddCommand(a.dbCopyCommand())
	return cmd
}

// migrate is db migrate: it opens a SQLite file as every command does, and
// only migrates a PostgreSQL database, with the key checked when one is
// there but neither made nor stored, so that db copy may fill a new
// database with the secrets of another, sealed with that one's key. It
// returns the database as shown to people.
func (a *app) migrate(ctx context.Context) (string, error) {
	path, keyEnv, err := a.locate()
	if err != nil {
		return "", err
	}
	if !postgres.IsConnString(path) {
		store, err := a.openStore(ctx)
		if err != nil {
			return "", err
		}
		return store.Path(), nil
	}
	key, keyPath, err := a.postgresKey(ctx, path, keyEnv, false)
	if err != nil {
		return "", err
	}
	name, err := postgres.Migrate(ctx, path, key)
	if err != nil {
		return "", err
	}
	a.log.Debug("database migrated", "database", name, "key", keyPath, "key_found", key != nil)
	return name, nil
}
