package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	cobradoc "github.com/spf13/cobra/doc"
)

// manCommand writes the manual pages of every command, generated from the
// commands themselves, so that they say what --help says.
func (a *app) manCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write the manual pages of oidcctl and its commands into DIR",
		Long: `Writes one manual page (section 1) per command, oidcctl.1,
oidcctl-profile.1, oidcctl-profile-add.1 and so on, generated from the
commands' help, into DIR (created when missing). make install puts them
under PREFIX/share/man/man1.`,
		Example: "  oidcctl man ./man && man ./man/oidcctl-token-get.1",
		Args:    exactArgs(1, "a directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // the same pages for the same commands
			header := &cobradoc.GenManHeader{Title: "OIDCCTL", Section: "1", Source: "oidcctl", Manual: "oidcctl manual"}
			if err := cobradoc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man %s: %w", dir, err)
			}
			if a.output != "json" {
				fmt.Fprintf(a.stderr, "Manual pages written to %s.\n", dir)
			}
			return nil
		},
	}
}
