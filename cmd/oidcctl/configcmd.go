package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"oidcctl/assets"
	"oidcctl/core/config"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Export and import profiles and accounts as YAML; get and set shared settings",
		Args:  noArgs,
	}
	cmd.AddCommand(a.configExport(), a.configImport(), a.configExample(), a.configSet(), a.configGet())
	return cmd
}

func (a *app) configExample() *cobra.Command {
	return &cobra.Command{
		Use:     "example",
		Short:   "Print an example setup to start from",
		Example: "  oidcctl config example > oidcctl.yaml && $EDITOR oidcctl.yaml && oidcctl config import oidcctl.yaml",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := a.stdout.Write(assets.ExampleConfig)
			return err
		},
	}
}

func (a *app) configExport() *cobra.Command {
	var withSecrets bool
	var file string
	cmd := &cobra.Command{
		Use:   "export [--with-secrets] [--file FILE]",
		Short: "Write every profile and account as YAML, to keep a setup in git",
		Long: `Writes every profile and account as YAML. Secrets are left out unless
--with-secrets is given; a file written with secrets is created 0600.`,
		Example: "  oidcctl config export > oidcctl.yaml\n  oidcctl config export --with-secrets --file backup.yaml",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			doc, err := config.Export(cmd.Context(), reg, withSecrets)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, doc)
			}
			out, err := yaml.Marshal(doc)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if file == "" {
				_, err = a.stdout.Write(out)
				return err
			}
			if err := os.WriteFile(file, out, 0o600); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			fmt.Fprintf(a.stderr, "Wrote %d profiles and %d accounts to %s.\n", len(doc.Profiles), len(doc.Accounts), file)
			return nil
		},
	}
	cmd.Flags().BoolVar(&withSecrets, "with-secrets", false, "include client secrets, key passwords and account passwords in plaintext")
	cmd.Flags().StringVar(&file, "file", "", "write to this file (mode 0600) instead of standard output")
	return cmd
}

func (a *app) configImport() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Create or update profiles and accounts from YAML",
		Long: `Creates the profiles and accounts of FILE (- for standard input) that the
database lacks and updates those it has. Secrets the file leaves out are kept
as stored. Everything is checked before anything is written.`,
		Example: "  oidcctl config import oidcctl.yaml --dry-run\n  oidcctl config import oidcctl.yaml",
		Args:    exactArgs(1, "a file (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd.Context(), a.env, args[0])
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			doc, err := config.Parse(data)
			if err != nil {
				return usageError{err}
			}
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			changes, err := config.Import(cmd.Context(), reg, doc, dryRun)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, changes)
			}
			t := newTable(a.stdout, "KIND", "NAME", "ACTION")
			for _, c := range changes {
				action := c.Action
				if dryRun && action != "unchanged" {
					action = "would " + action
				}
				t.row(c.Kind, c.Name, action)
			}
			return t.flush()
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only say what would change")
	return cmd
}
