package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/tui"
)

func (a *app) credentialCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "credential",
		Aliases: []string{"credentials", "cred"},
		Short:   "Issue, list and revoke the invoke credentials of requester webservices",
		Long: `A requester webservice makes calls with a functional account's token, so
oidcctl serve lets a caller use it over TCP (--listen) only with an invoke
credential issued for that webservice, sent in the ` + core.CredentialHeader + `
header (removed before the call goes on):

  curl -H "` + core.CredentialHeader + `: $CREDENTIAL" -X POST -d @article.json http://127.0.0.1:8085/invoke/echo

The secret is printed once, when it is issued; oidcctl keeps only its
SHA-256. Revoking it takes effect in a running serve within seconds (at once
on SIGHUP). Callers on the token socket (--socket) need none: the socket's
file permissions decide who may use it.`,
		Args: noArgs,
	}
	cmd.AddCommand(a.credentialAdd(), a.credentialList(), a.credentialRemove())
	return cmd
}

// credentialJSON is the -o json form of an invoke credential; Secret only
// when it is issued.
type credentialJSON struct {
	Webservice string    `json:"webservice"`
	Name       string    `json:"name"`
	Secret     string    `json:"secret,omitempty"`
	Hint       string    `json:"hint"`
	Header     string    `json:"header"`
	CreatedAt  time.Time `json:"created_at"`
}

func (a *app) credentialAdd() *cobra.Command {
	return &cobra.Command{
		Use:   "add WEBSERVICE NAME",
		Short: "Issue an invoke credential for a requester webservice and print it, once",
		Long: `Issues a new invoke credential for a requester webservice and prints its
secret. It is not shown again: store it where the caller reads it (a file
only the caller can read, a systemd credential). NAME tells the callers of
one webservice apart, for revoking one of them.`,
		Example: `  oidcctl webservice credential add echo cron-billing
  oidcctl webservice credential add echo ci --jq .secret > /etc/ci/oidcctl-echo.credential`,
		Args: exactArgs(2, "a webservice name and a credential name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, secret, err := core.NewInvokeCredential(args[0], args[1])
			if err != nil {
				return err
			}
			if err := c.Validate(); err != nil {
				return err
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			if err := a.store.CreateCredential(cmd.Context(), c); err != nil {
				return err
			}
			if a.output == "json" {
				out := credentialJSON{Webservice: c.Webservice, Name: c.Name, Secret: secret.Reveal(), Hint: c.Hint, Header: core.CredentialHeader}
				stored, err := a.store.Credentials(cmd.Context(), c.Webservice)
				if err != nil {
					return err
				}
				for _, s := range stored {
					if s.Name == c.Name {
						out.CreatedAt = jsonTime(s.CreatedAt)
					}
				}
				return writeJSON(a.stdout, out)
			}
			fmt.Fprintf(a.stdout, "Credential %q of webservice %q issued. Its secret, shown this once:\n\n  %s\n\n", c.Name, c.Webservice, secret.Reveal())
			fmt.Fprintf(a.stdout, "Callers send it in the %s header to /invoke/%s.\n", core.CredentialHeader, c.Webservice)
			return nil
		},
	}
}

func (a *app) credentialList() *cobra.Command {
	return &cobra.Command{
		Use:     "list [WEBSERVICE]",
		Aliases: []string{"ls"},
		Short:   "List the invoke credentials of a webservice, or of all",
		Example: "  oidcctl webservice credential list echo\n  oidcctl webservice credential list -o json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most a webservice name (see %s --help)", cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ws := ""
			if len(args) == 1 {
				ws = args[0]
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			cs, err := a.store.Credentials(cmd.Context(), ws)
			if err != nil {
				return err
			}
			if a.output == "json" {
				out := make([]credentialJSON, len(cs))
				for i, c := range cs {
					out[i] = credentialJSON{Webservice: c.Webservice, Name: c.Name, Hint: c.Hint, Header: core.CredentialHeader, CreatedAt: jsonTime(c.CreatedAt)}
				}
				return writeJSON(a.stdout, out)
			}
			if len(cs) == 0 {
				fmt.Fprintln(a.stdout, "No invoke credentials. Issue one with: oidcctl webservice credential add WEBSERVICE NAME")
				return nil
			}
			now := time.Now()
			t := newTable(a.stdout, "WEBSERVICE", "NAME", "STARTS WITH", "ISSUED")
			for _, c := range cs {
				t.row(c.Webservice, c.Name, c.Hint, tui.Relative(c.CreatedAt, now))
			}
			return t.flush()
		},
	}
}

func (a *app) credentialRemove() *cobra.Command {
	return &cobra.Command{
		Use:     "rm WEBSERVICE NAME",
		Aliases: []string{"remove", "revoke"},
		Short:   "Revoke an invoke credential",
		Example: "  oidcctl webservice credential rm echo cron-billing",
		Args:    exactArgs(2, "a webservice name and a credential name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			if err := a.store.DeleteCredential(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			return a.printDone("revoked", "credential", args[0]+"/"+args[1])
		},
	}
}
