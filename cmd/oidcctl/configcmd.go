package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"oidcctl/assets"
	"oidcctl/core"
	"oidcctl/core/config"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Export and import the whole setup as YAML; get and set shared settings",
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
		Short: "Write the whole setup as YAML, to keep it in git",
		Long: `Writes the whole setup as YAML (format version 2): the settings that are set
(refresh.schedule, refresh.interval), every profile, account, webservice and
user. Durations are numbers of seconds in fields ending in _seconds.

Secrets are left out unless --with-secrets is given: each secret a profile or
account has (or still needs) is written as {required: true}, so that the file
can go into git and still says which secrets to give. A file written with
secrets is created 0600. Invoke credentials of webservices are not exported
(only their hashes are kept; issue new ones with webservice credential add).

Importing the export into an empty database and exporting again gives the
same file, byte for byte.`,
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
			fmt.Fprintf(a.stderr, "Wrote %d profiles, %d accounts, %d webservices and %d users to %s.\n",
				len(doc.Profiles), len(doc.Accounts), len(doc.Webservices), len(doc.Users), file)
			return nil
		},
	}
	cmd.Flags().BoolVar(&withSecrets, "with-secrets", false, "include client secrets, key passwords and account passwords in plaintext")
	cmd.Flags().StringVar(&file, "file", "", "write to this file (mode 0600) instead of standard output")
	return cmd
}

func (a *app) configImport() *cobra.Command {
	var dryRun, prune, noRevoke bool
	cmd := &cobra.Command{
		Use:   "import FILE [--dry-run] [--prune [--no-revoke]]",
		Short: "Create, update (and with --prune remove) settings, profiles, accounts, webservices and users from YAML",
		Long: `Creates what FILE (- for standard input) has and the database lacks, and
updates what both have. With --prune it also removes the settings, profiles,
accounts, webservices and users that the file does not have (users that
tokens created included). An account it removes has its tokens revoked at
the provider first, as account rm does; when they cannot be revoked the
import stops there with the account kept (exit 1), and --no-revoke removes
it anyway, its tokens forgotten but valid at the provider until they
expire. --dry-run says which of the two each removed account's tokens get.
Everything is checked before anything is written.

FILE is a document of config export: version 2, or version 1 (durations as
"30m", profiles and accounts only), which is still read.

A secret (client_secret, tls.client_key_password, password) may be:
  the plaintext               client_secret: s3cret (keep such a file out of git)
  a reference, read now       client_secret: {file: ./secret}      (relative to FILE)
                              client_secret: {env: OP_SECRET}
                              client_secret: {credential: op-secret}
                                ($CREDENTIALS_DIRECTORY/op-secret, systemd's LoadCredential=)
  left out of the file        client_secret: {required: true}
A secret left out is kept as stored; when none is stored the profile or
account is imported all the same and marked "needs secret": lists show it,
token list --check fails for it, and it gets no tokens until the secret is
given (account edit NAME --password-file FILE, profile edit NAME
--client-secret-file FILE). A password-grant account without a password is
always marked so.

The output is a diff: + created, ~ updated (each changed field, before →
after), - removed, = unchanged. Secrets are shown as set or missing, never
their values.`,
		Example: "  oidcctl config import oidcctl.yaml --dry-run\n  oidcctl config import oidcctl.yaml\n  oidcctl config export | ssh other oidcctl config import --prune -",
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
			opt := config.Options{DryRun: dryRun, Prune: prune, NoRevoke: noRevoke, Getenv: a.getenv, Accounts: a.svc.tokens}
			if args[0] != "-" {
				opt.Dir = filepath.Dir(args[0])
			}
			changes, err := config.Import(cmd.Context(), reg, doc, opt)
			if err != nil {
				return err
			}
			if a.output == "json" {
				if changes == nil {
					changes = []config.Change{}
				}
				return writeJSON(a.stdout, changes)
			}
			return writeChanges(a.stdout, changes, dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would change; write nothing")
	cmd.Flags().BoolVar(&prune, "prune", false, "also remove what the database has and the file does not (the tokens of removed accounts revoked at the provider first)")
	cmd.Flags().BoolVar(&noRevoke, "no-revoke", false, "with --prune: forget the tokens of removed accounts without revoking them; they stay valid at the provider until they expire")
	return cmd
}

// writeChanges writes what an import did (or, dryRun, would do) as a
// diff.
func writeChanges(w io.Writer, changes []config.Change, dryRun bool) error {
	signs := map[string]string{config.ActionCreate: "+", config.ActionUpdate: "~", config.ActionDelete: "-", config.ActionUnchanged: "="}
	count := map[string]int{}
	for _, c := range changes {
		count[c.Action]++
		line := fmt.Sprintf("%s %s %s", signs[c.Action], c.Kind, c.Name)
		if c.NeedsSecret {
			line += "  (" + core.StateNeedsSecret + ")"
		}
		fmt.Fprintln(w, line)
		for _, f := range c.Fields {
			switch {
			case c.Action == config.ActionCreate:
				fmt.Fprintf(w, "    %s: %s\n", f.Field, f.To)
			case c.Action == config.ActionDelete:
				fmt.Fprintf(w, "    %s: %s\n", f.Field, f.From)
			default:
				fmt.Fprintf(w, "    %s: %s → %s\n", f.Field, cmp.Or(f.From, "(none)"), cmp.Or(f.To, "(none)"))
			}
		}
	}
	summary := fmt.Sprintf("Created %d, updated %d, removed %d; %d unchanged.",
		count[config.ActionCreate], count[config.ActionUpdate], count[config.ActionDelete], count[config.ActionUnchanged])
	if dryRun {
		summary = fmt.Sprintf("Would create %d, update %d, remove %d; %d unchanged. Dry run: nothing was written.",
			count[config.ActionCreate], count[config.ActionUpdate], count[config.ActionDelete], count[config.ActionUnchanged])
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}
