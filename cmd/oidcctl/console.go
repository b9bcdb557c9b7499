package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// runConsole is what oidcctl does without a command. Until the console
// exists it shows what the database holds and the next step to take.
func (a *app) runConsole(cmd *cobra.Command, _ []string) error {
	reg, err := a.open(cmd.Context())
	if err != nil {
		return err
	}
	profiles, err := reg.Profiles(cmd.Context())
	if err != nil {
		return err
	}
	accounts, err := reg.Accounts(cmd.Context(), "")
	if err != nil {
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "oidcctl: %d profiles, %d functional accounts in %s\n\n", len(profiles), len(accounts), a.store.Path())
	switch {
	case len(profiles) == 0:
		fmt.Fprint(w, `No profile yet. A profile is one OpenID provider plus one client registration:

  oidcctl profile add keycloak \
      --discovery-url https://idp.example/realms/master/.well-known/openid-configuration \
      --client-id someapi --client-secret-file ./secret
  oidcctl profile test keycloak

`)
	case len(accounts) == 0:
		fmt.Fprintf(w, `No functional account yet. Add one that obtains tokens from profile %q:

  oidcctl account add billing --profile %s --grant-type client_credentials --scope openid

`, profiles[0].Name, profiles[0].Name)
	default:
		fmt.Fprintln(w, "Profiles:")
		t := newTable(w)
		for _, p := range profiles {
			t.row("  "+p.Name, p.ClientID, p.DiscoveryURL)
		}
		t.flush()
		fmt.Fprintln(w, "\nFunctional accounts:")
		t = newTable(w)
		for _, acc := range accounts {
			t.row("  "+acc.Name, acc.Profile, string(acc.GrantType))
		}
		t.flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "See oidcctl --help for every command.")
	return nil
}
