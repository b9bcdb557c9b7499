package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/validate"
	"oidcctl/tui"
)

// importUser keeps the flags of the manual's Admin::OAuth2::ImportUser,
// with --profile in place of --openid-config.
func (a *app) importUser() *cobra.Command {
	var (
		profile, grantType, username               string
		resourceParam, tokenType, userMap, roleMap string
		userMapFile, roleMapFile                   string
		uid                                        string
		password                                   string
		scopes, resources                          []string
		dryRun, quiet, noANSI                      bool
		passwordIn                                 = secretFlag{name: "password", what: "password"}
	)
	cmd := &cobra.Command{
		Use:   "import-user --profile P --grant-type password|client_credentials [flags]",
		Short: "Log in at the provider, validate the token and create or update its user",
		Long: `Does the real handshake with the provider for a user (password grant) or a
client (client_credentials), validates the token the profile's way, and
prints the user and roles it maps to; without --dry-run it creates or updates
that user.

The flags are the manual's, and the spellings the rest of oidcctl uses work
too: --uid or --uid-claim; --role-map and --user-map (JSON or YAML, inline or
@FILE) or --role-map-file and --user-map-file (a file, - for standard input)
override the profile's maps for this run. The password (password grant) comes
from --password-file, --password-prompt, or a prompt when standard input is a
terminal; --password works as in the manual but warns, since a command line is
visible to the other local users (ps, /proc) and stays in the shell history.

Exit codes: 0 the user was (or would be) imported, 3 the token is refused,
1 other errors.`,
		Example: `  oidcctl import-user --profile keycloak --grant-type password --username svc --password-file p --scope openid --dry-run
  oidcctl import-user --profile keycloak --grant-type client_credentials --token-type access_token \
      --role-map '{"roles": {"reader": "ticket-reader"}}' --user-map '{"email": "Email"}'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if profile == "" {
				return usagef("import-user: --profile is required")
			}
			acc := core.NewAccount("import-user", profile)
			var err error
			if acc.GrantType, err = core.ParseGrantType(grantType); err != nil || acc.GrantType == core.GrantAuthorizationCode {
				return usagef("--grant-type %q: want password or client_credentials", grantType)
			}
			if acc.TokenType, err = core.ParseTokenType(tokenType); err != nil {
				return usageError{err}
			}
			acc.Scopes, acc.Resources, acc.ResourceParam = words(scopes), words(resources), resourceParam
			if acc.GrantType == core.GrantPassword {
				acc.Username = username
				if cmd.Flags().Changed("password") {
					if passwordIn.file != "" || passwordIn.prompt {
						return usagef("--password: give one of --password, --password-file and --password-prompt")
					}
					fmt.Fprintln(a.stderr, "warning: --password puts the password on the command line, which other local users can see (ps, /proc) and the shell history keeps; prefer --password-file or --password-prompt")
					acc.Password = core.NewSecret(password)
				} else if pw, ok, err := passwordIn.read(cmd, a.env, acc.Username != ""); err != nil {
					return err
				} else if ok {
					acc.Password = pw
				}
			}
			if err := acc.Validate(); err != nil {
				return err
			}
			if _, err := a.open(ctx); err != nil {
				return err
			}
			p, err := a.store.Profile(ctx, profile)
			if err != nil {
				return err
			}
			if err := oneOf(cmd, "uid", "uid-claim"); err != nil {
				return err
			}
			if err := oneOf(cmd, "role-map", "role-map-file"); err != nil {
				return err
			}
			if err := oneOf(cmd, "user-map", "user-map-file"); err != nil {
				return err
			}
			roleFlag, userFlag := "--role-map", "--user-map"
			if roleMapFile != "" {
				roleMap, roleFlag = "@"+roleMapFile, "--role-map-file"
			}
			if userMapFile != "" {
				userMap, userFlag = "@"+userMapFile, "--user-map-file"
			}
			if uid != "" {
				if err := core.CheckName(uid); err != nil {
					return usagef("--uid: %w", err)
				}
				p.UIDClaim = uid
			}
			if roleMap != "" {
				data, err := inlineOrFile(ctx, a.env, roleFlag, roleMap)
				if err != nil {
					return err
				}
				if p.RoleMap, err = core.ParseRoleMap(data); err != nil {
					return usagef("%s: %w", roleFlag, err)
				}
			}
			if userMap != "" {
				data, err := inlineOrFile(ctx, a.env, userFlag, userMap)
				if err != nil {
					return err
				}
				if p.UserMap, err = core.ParseUserMap(data); err != nil {
					return usagef("%s: %w", userFlag, err)
				}
			}
			d, err := a.svc.discovery.Get(ctx, p)
			if err != nil {
				return err
			}
			set, err := a.svc.grants.Obtain(ctx, p, d, acc)
			if err != nil {
				return err
			}
			tok := set.Token(acc.TokenType)
			if !tok.IsSet() {
				return fmt.Errorf("the provider sent no %s (ask for the openid scope to get an id_token)", acc.TokenType)
			}
			r := a.svc.validator.ValidateWith(ctx, p, tok.Reveal(), validate.Options{Detail: true, DryRun: dryRun})
			if !quiet {
				if err := a.printInspection([]*validate.Result{r}, true); err != nil {
					return err
				}
			}
			if !r.Accepted() {
				return inspectionExit([]*validate.Result{r})
			}
			if !quiet && a.output != "json" && r.User != nil {
				fmt.Fprintf(a.stdout, "\nUser %q %s with roles %s.\n", r.User.Login, userActionWords(r.UserAction), tui.Escape(cmp.Or(strings.Join(r.User.Roles, ", "), "-")))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&profile, "profile", "", "profile to log in with (the manual's --openid-config)")
	f.StringVar(&grantType, "grant-type", "password", "password or client_credentials")
	f.StringVar(&username, "username", "", "user name (password grant)")
	f.StringVar(&password, "password", "", "password (warns: other local users can see a command line; prefer --password-file or --password-prompt)")
	f.StringVar(&passwordIn.file, "password-file", "", "read the password from this file (- for standard input)")
	f.BoolVar(&passwordIn.prompt, "password-prompt", false, "ask for the password on the terminal (also done when no password is given and standard input is a terminal)")
	f.StringArrayVar(&scopes, "scope", nil, "scopes, space-separated or repeated")
	f.StringArrayVar(&resources, "resource", nil, "RFC 8707 resource indicators")
	f.StringVar(&resourceParam, "resource-param-name", core.DefaultResourceParam, "name of the resource parameter")
	f.StringVar(&tokenType, "token-type", string(core.TokenID), "token to validate: id_token (default, as the manual) or access_token")
	f.StringVar(&userMap, "user-map", "", "user map for this run: JSON/YAML inline or @FILE")
	f.StringVar(&userMapFile, "user-map-file", "", "user map for this run from a file (- for standard input); the same as --user-map @FILE")
	f.StringVar(&roleMap, "role-map", "", "role map for this run: JSON/YAML inline or @FILE")
	f.StringVar(&roleMapFile, "role-map-file", "", "role map for this run from a file (- for standard input); the same as --role-map @FILE")
	f.StringVar(&uid, "uid", "", "UID claim for this run (the manual's name for --uid-claim)")
	f.StringVar(&uid, "uid-claim", "", "UID claim for this run (the same as --uid)")
	f.BoolVar(&dryRun, "dry-run", false, "show what would be imported; change nothing")
	f.BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVar(&noANSI, "no-ansi", false, "no colours (oidcctl's output has none; kept for the manual's scripts)")
	return cmd
}

// inlineOrFile returns v, or the file it names as @FILE (an empty file
// is refused, as for --role-map-file).
func inlineOrFile(ctx context.Context, e env, flag, v string) ([]byte, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		return readMapFile(ctx, e, flag, name)
	}
	return []byte(v), nil
}

// oneOf refuses two flags that say the same thing given together.
func oneOf(cmd *cobra.Command, a, b string) error {
	if cmd.Flags().Changed(a) && cmd.Flags().Changed(b) {
		return usagef("--%s and --%s say the same: give one", a, b)
	}
	return nil
}

func userActionWords(a validate.UserAction) string {
	switch a {
	case validate.UserCreated:
		return "created"
	case validate.UserUpdated:
		return "updated"
	case validate.UserWouldCreate:
		return "would be created (dry run)"
	case validate.UserWouldUpdate:
		return "would be updated (dry run)"
	}
	return "exists, unchanged"
}
