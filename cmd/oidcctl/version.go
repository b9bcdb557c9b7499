package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"oidcctl/core/buildinfo"
)

// versionCommand prints the build information: the same as --version,
// and with -o json the fields one by one.
func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this oidcctl",
		Long: `Prints the module version (a tag such as v1.2.0, or "(devel)" for a build
from a checkout), the commit it was built from (with -dirty when the checkout
had uncommitted changes), the Go version and the platform, as the Go
toolchain recorded them in the binary. oidcctl --version prints the same line.`,
		Example: "  oidcctl version\n  oidcctl version -o json --jq .revision",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildinfo.Read()
			if a.output == "json" {
				return writeJSON(a.stdout, info)
			}
			_, err := fmt.Fprintf(a.stdout, "oidcctl %s\n", info)
			return err
		},
	}
}
