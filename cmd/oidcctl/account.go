package main

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/core/grant"
	"oidcctl/core/tokens"
	"oidcctl/tui"
)

// accountFlags are the flags of account add and edit.
type accountFlags struct {
	profile, grantType, username string
	resourceParam, tokenType     string
	redirectURI                  string
	scopes, resources            []string
	dpop                         bool
	password                     secretFlag

	// What loadPassword read.
	passwordValue core.Secret
	passwordSet   bool
}

// loadPassword reads the password the flags name, or asks for it on a
// terminal when acc, as the flags leave it, needs one and has none. It runs
// before a store's transaction opens, so that nobody waits for a person.
func (f *accountFlags) loadPassword(cmd *cobra.Command, e env, acc core.Account) error {
	ask := acc.GrantType == core.GrantPassword && !acc.Password.IsSet()
	var err error
	f.passwordValue, f.passwordSet, err = f.password.read(cmd, e, ask)
	return err
}

func (f *accountFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.profile, "profile", "", "profile the account obtains tokens from")
	fs.StringVar(&f.grantType, "grant-type", string(core.GrantClientCredentials), "client_credentials, password or authorization_code")
	fs.StringVar(&f.username, "username", "", "user name (password grant only)")
	fs.StringArrayVar(&f.scopes, "scope", nil, "scopes to request, space-separated or repeated (often \"openid offline_access\")")
	fs.StringArrayVar(&f.resources, "resource", nil, "RFC 8707 resource indicators, space-separated or repeated")
	fs.StringVar(&f.resourceParam, "resource-param-name", core.DefaultResourceParam, "name of the resource parameter")
	fs.StringVar(&f.tokenType, "token-type", string(core.TokenAccess), "token to hand out: access_token or id_token")
	fs.StringVar(&f.redirectURI, "redirect-uri", "", "redirect URI of browser logins: loopback, e.g. http://127.0.0.1:8400/callback\n"+
		"(127.0.0.1, localhost or [::1]; no port or :0 = a free one; any path), or https, e.g.\n"+
		"https://oidcctl.example.org/callback, answered by oidcctl serve at that path; \"\" takes the profile's")
	fs.BoolVar(&f.dpop, "dpop", false, "obtain DPoP-bound tokens (RFC 9449) with a key of the account's own, made and sealed in the database;\n"+
		"--dpop=false drops the key")
	f.password = secretFlag{name: "password", what: "password"}
	f.password.register(cmd)
}

// apply sets the fields whose flags were given on acc, and the password
// loadPassword read.
func (f *accountFlags) apply(cmd *cobra.Command, acc *core.Account) error {
	set := cmd.Flags().Changed
	var err error
	if set("profile") {
		acc.Profile = strings.TrimSpace(f.profile)
	}
	if set("grant-type") {
		if acc.GrantType, err = core.ParseGrantType(f.grantType); err != nil {
			return usageError{err}
		}
		if acc.GrantType != core.GrantPassword && !set("username") {
			// Leaving the password grant drops what only it uses.
			acc.Username, acc.Password = "", core.Secret{}
		}
	}
	if set("username") {
		acc.Username = strings.TrimSpace(f.username)
	}
	if set("scope") {
		acc.Scopes = words(f.scopes)
	}
	if set("resource") {
		acc.Resources = words(f.resources)
	}
	if set("resource-param-name") {
		acc.ResourceParam = strings.TrimSpace(f.resourceParam)
	}
	if set("token-type") {
		if acc.TokenType, err = core.ParseTokenType(f.tokenType); err != nil {
			return usageError{err}
		}
	}
	if set("redirect-uri") {
		acc.RedirectURI = strings.TrimSpace(f.redirectURI)
	}
	if set("dpop") {
		acc.DPoP = f.dpop
	}
	if f.passwordSet {
		acc.Password = f.passwordValue
	}
	return nil
}

func (a *app) accountCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "account",
		Aliases: []string{"accounts"},
		Short:   "Manage functional accounts",
		Long:    "A functional account is a named identity that obtains tokens from a profile with one grant type.",
		Args:    noArgs,
	}
	cmd.AddCommand(a.accountAdd(), a.accountEdit(), a.accountShow(), a.accountList(), a.accountRemove(), a.accountAuthorize())
	return cmd
}

func (a *app) accountAdd() *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "add NAME --profile PROFILE [flags]",
		Short: "Add a functional account",
		Example: `  oidcctl account add billing --profile keycloak --grant-type client_credentials \
      --scope "openid offline_access" --resource https://api.example --token-type access_token
  oidcctl account add svc --profile keycloak --grant-type password --username svc --password-file ./pw
  oidcctl account add support-bot --profile keycloak --grant-type authorization_code --scope "openid offline_access"`,
		Args: exactArgs(1, "an account name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("profile") {
				return usagef("account add %s: --profile is required", args[0])
			}
			acc := core.NewAccount(args[0], "")
			if err := f.apply(cmd, &acc); err != nil {
				return err
			}
			if err := f.loadPassword(cmd, a.env, acc); err != nil {
				return err
			}
			if err := f.apply(cmd, &acc); err != nil {
				return err
			}
			if err := reg.AddAccount(cmd.Context(), acc); err != nil {
				return err
			}
			stored, err := reg.Account(cmd.Context(), acc.Name)
			if err != nil {
				return err
			}
			return a.printAccount(stored, "added")
		},
	}
	f.register(cmd)
	return cmd
}

func (a *app) accountEdit() *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "edit NAME [flags]",
		Short: "Change the given settings of an account, keeping the rest",
		Example: `  oidcctl account edit billing --scope "openid offline_access api"
  oidcctl account edit svc --password-file ./new-password`,
		Args: exactArgs(1, "an account name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if cmd.Flags().NFlag() == 0 {
				return usagef("account edit %s: nothing to change; give the flags of the settings to change (see --help)", args[0])
			}
			// Read the password before the transaction: what the flags make
			// of the account as stored says whether to ask for one.
			cur, err := reg.Account(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := f.apply(cmd, &cur); err != nil {
				return err
			}
			if err := f.loadPassword(cmd, a.env, cur); err != nil {
				return err
			}
			acc, err := reg.EditAccount(cmd.Context(), args[0], func(acc *core.Account) error {
				return f.apply(cmd, acc)
			})
			if err != nil {
				return err
			}
			return a.printAccount(acc, "changed")
		},
	}
	f.register(cmd)
	return cmd
}

func (a *app) accountShow() *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show an account (the password only as set or not set)",
		Example: "  oidcctl account show billing -o json",
		Args:    exactArgs(1, "an account name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			acc, err := reg.Account(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printAccount(acc, "")
		},
	}
}

func (a *app) accountList() *cobra.Command {
	var profile string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List functional accounts",
		Example: "  oidcctl account list\n  oidcctl account list --profile keycloak -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if profile != "" {
				if _, err := reg.Profile(cmd.Context(), profile); err != nil {
					return err
				}
			}
			accounts, err := reg.Accounts(cmd.Context(), profile)
			if err != nil {
				return err
			}
			needs, err := core.SecretsNeeded(cmd.Context(), reg)
			if err != nil {
				return err
			}
			if a.output == "json" {
				docs := make([]config.Account, len(accounts))
				for i, acc := range accounts {
					docs[i] = config.FromAccount(acc, false)
					if needs[acc.Name] != "" {
						docs[i].State = core.StateNeedsSecret
					}
				}
				return writeJSON(a.stdout, docs)
			}
			if len(accounts) == 0 {
				fmt.Fprintln(a.stdout, "No accounts yet. Add one with: oidcctl account add NAME --profile PROFILE --grant-type client_credentials")
				return nil
			}
			t := newTable(a.stdout, "NAME", "PROFILE", "GRANT TYPE", "SCOPES", "TOKEN TYPE", "STATE")
			for _, acc := range accounts {
				state := "ok"
				if needs[acc.Name] != "" {
					state = core.StateNeedsSecret
				}
				t.row(acc.Name, acc.Profile, string(acc.GrantType), cmp.Or(strings.Join(acc.Scopes, " "), "-"), string(acc.TokenType), state)
			}
			if err := t.flush(); err != nil {
				return err
			}
			for _, acc := range accounts {
				if fix := needs[acc.Name]; fix != "" {
					fmt.Fprintf(a.stderr, "oidcctl: %s: %s\n", acc.Name, fix)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&profile, "profile", "", "only the accounts of this profile")
	return cmd
}

func (a *app) accountRemove() *cobra.Command {
	var yes, noRevoke bool
	cmd := &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove", "delete"},
		Short:   "Revoke an account's tokens at the provider, then remove the account",
		Long: `Revokes the account's tokens at the provider (RFC 7009, as oidcctl token
revoke does) and then removes the account and its tokens. When the tokens
cannot be revoked the account is kept (exit 1); --no-revoke removes it
anyway, and its tokens stay valid at the provider until they expire.

Asks first on a terminal; without one (a script) it needs --yes.`,
		Example: "  oidcctl account rm billing\n  oidcctl account rm billing --yes",
		Args:    exactArgs(1, "an account name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), args[0]
			_, err := a.open(ctx)
			if err != nil {
				return err
			}
			st, err := a.store.TokenState(ctx, name)
			if err != nil {
				return err
			}
			held := tokens.Held(st)
			question := fmt.Sprintf("Remove account %q?", name)
			if held && !noRevoke {
				question = fmt.Sprintf("Revoke the tokens of account %q at the provider and remove it?", name)
			}
			if err := a.confirm(cmd, yes, tui.EscapeText(question)); err != nil {
				return err
			}
			r, err := a.svc.tokens.RemoveAccount(ctx, name, !noRevoke)
			if err != nil {
				if !noRevoke && held {
					return fmt.Errorf("%w (--no-revoke removes it anyway)", err)
				}
				return err
			}
			if r.Unsupported {
				fmt.Fprintf(a.stderr, "The provider offers no token revocation; the tokens are only forgotten here.\n")
			}
			return a.printDone("removed", "account", name)
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask (needed without a terminal)")
	cmd.Flags().BoolVar(&noRevoke, "no-revoke", false, "remove the account without revoking its tokens, which stay valid at the provider until they expire")
	return cmd
}

func (a *app) printAccount(acc core.Account, verb string) error {
	if a.output == "json" {
		return writeJSON(a.stdout, config.FromAccount(acc, false))
	}
	if verb != "" {
		fmt.Fprintf(a.stdout, "Account %q %s.\n", acc.Name, verb)
	}
	kv := newTable(a.stdout)
	kv.row("name:", acc.Name)
	kv.row("profile:", acc.Profile)
	kv.row("grant type:", string(acc.GrantType))
	if acc.GrantType == core.GrantPassword {
		kv.row("username:", acc.Username)
		kv.row("password:", secretState(acc.Password, acc.MissingSecrets, core.SecretPassword))
	}
	kv.row("scopes:", cmp.Or(strings.Join(acc.Scopes, " "), "-"))
	kv.row("resources:", cmp.Or(strings.Join(acc.Resources, " "), "-"))
	kv.row("resource param:", acc.ResourceParam)
	kv.row("token type:", string(acc.TokenType))
	if acc.GrantType == core.GrantAuthorizationCode || acc.RedirectURI != "" {
		kv.row("redirect URI:", cmp.Or(acc.RedirectURI, "- (the profile's)"))
	}
	kv.row("DPoP:", accountDPoPText(acc))
	return kv.flush()
}

// accountDPoPText says whether an account obtains DPoP-bound tokens, and
// with which key (its thumbprint, the cnf.jkt of its tokens).
func accountDPoPText(acc core.Account) string {
	if !acc.DPoP {
		return "off"
	}
	k, err := grant.AccountKey(acc)
	if err != nil {
		return "on, " + err.Error()
	}
	return fmt.Sprintf("on, key %s jkt %s", k.Alg(), k.Thumbprint())
}
