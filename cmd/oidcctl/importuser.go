package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"oidcctl/core"
	"oidcctl/core/validate"
	"oidcctl/tui"
)

// importUserFlags holds the flags of import-user.
type importUserFlags struct {
	profile, grantType, username               string
	resourceParam, tokenType, userMap, roleMap string
	userMapFile, roleMapFile                   string
	uid                                        string
	password                                   string
	scopes, resources                          []string
	dryRun, quiet, noANSI                      bool
	passwordIn                                 secretFlag
}

// importUser keeps the flags of the manual's Admin::OAuth2::ImportUser,
// with --profile in place of --openid-config.
func (a *app) importUser() *cobra.Command {
	fl := &importUserFlags{passwordIn: secretFlag{name: "password", what: "password"}}
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
override the profile's maps for this run. A profile with --userinfo-claims
reads the claims the token lacks from the userinfo endpoint, with the access
token of the same login (also when the id_token is validated). The password (password grant) comes
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
			return a.runImportUser(cmd, fl)
		},
	}
	fl.register(cmd.Flags())
	return cmd
}

// register declares the flags of import-user on f.
func (fl *importUserFlags) register(f *pflag.FlagSet) {
	f.StringVar(&fl.profile, "profile", "", "profile to log in with (the manual's --openid-config)")
	f.StringVar(&fl.grantType, "grant-type", "password", "password or client_credentials")
	f.StringVar(&fl.username, "username", "", "user name (password grant)")
	f.StringVar(&fl.password, "password", "", "password (warns: other local users can see a command line; prefer --password-file or --password-prompt)")
	f.StringVar(&fl.passwordIn.file, "password-file", "", "read the password from this file (- for standard input)")
	f.BoolVar(&fl.passwordIn.prompt, "password-prompt", false, "ask for the password on the terminal (also done when no password is given and standard input is a terminal)")
	f.StringArrayVar(&fl.scopes, "scope", nil, "scopes, space-separated or repeated")
	f.StringArrayVar(&fl.resources, "resource", nil, "RFC 8707 resource indicators")
	f.StringVar(&fl.resourceParam, "resource-param-name", core.DefaultResourceParam, "name of the resource parameter")
	f.StringVar(&fl.tokenType, "token-type", string(core.TokenID), "token to validate: id_token (default, as the manual) or access_token")
	f.StringVar(&fl.userMap, "user-map", "", "user map for this run: JSON/YAML inline or @FILE")
	f.StringVar(&fl.userMapFile, "user-map-file", "", "user map for this run from a file (- for standard input); the same as --user-map @FILE")
	f.StringVar(&fl.roleMap, "role-map", "", "role map for this run: JSON/YAML inline or @FILE")
	f.StringVar(&fl.roleMapFile, "role-map-file", "", "role map for this run from a file (- for standard input); the same as --role-map @FILE")
	f.StringVar(&fl.uid, "uid", "", "UID claim for this run (the manual's name for --uid-claim)")
	f.StringVar(&fl.uid, "uid-claim", "", "UID claim for this run (the same as --uid)")
	f.BoolVar(&fl.dryRun, "dry-run", false, "show what would be imported; change nothing")
	f.BoolVarP(&fl.quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVar(&fl.noANSI, "no-ansi", false, "no colours (oidcctl's output has none; kept for the manual's scripts)")
}

// runImportUser runs import-user: the account from the flags, the
// profile with this run's overrides, the login and validation, the
// printout.
func (a *app) runImportUser(cmd *cobra.Command, fl *importUserFlags) error {
	ctx := cmd.Context()
	if fl.profile == "" {
		return usagef("import-user: --profile is required")
	}
	acc, err := a.importAccount(cmd, fl)
	if err != nil {
		return err
	}
	if _, err := a.open(ctx); err != nil {
		return err
	}
	p, err := a.store.Profile(ctx, fl.profile)
	if err != nil {
		return err
	}
	if err := a.overrideProfile(cmd, fl, &p); err != nil {
		return err
	}
	r, err := a.loginAndValidate(ctx, p, acc, fl.dryRun)
	if err != nil {
		return err
	}
	return a.printImport(r, fl.quiet)
}

// importAccount builds the throwaway account import-user logs in with,
// reading the password (password grant) the way the flags say.
func (a *app) importAccount(cmd *cobra.Command, fl *importUserFlags) (core.Account, error) {
	acc := core.NewAccount("import-user", fl.profile)
	var err error
	if acc.GrantType, err = core.ParseGrantType(fl.grantType); err != nil || acc.GrantType == core.GrantAuthorizationCode {
		return core.Account{}, usagef("--grant-type %q: want password or client_credentials", fl.grantType)
	}
	if acc.TokenType, err = core.ParseTokenType(fl.tokenType); err != nil {
		return core.Account{}, usageError{err}
	}
	acc.Scopes, acc.Resources, acc.ResourceParam = words(fl.scopes), words(fl.resources), fl.resourceParam
	if acc.GrantType == core.GrantPassword {
		acc.Username = fl.username
		if cmd.Flags().Changed("password") {
			if fl.passwordIn.file != "" || fl.passwordIn.prompt {
				return core.Account{}, usagef("--password: give one of --password, --password-file and --password-prompt")
			}
			fmt.Fprintln(a.stderr, "warning: --password puts the password on the command line, which other local users can see (ps, /proc) and the shell history keeps; prefer --password-file or --password-prompt")
			acc.Password = core.NewSecret(fl.password)
		} else if pw, ok, err := fl.passwordIn.read(cmd, a.env, acc.Username != ""); err != nil {
			return core.Account{}, err
		} else if ok {
			acc.Password = pw
		}
	}
	if err := acc.Validate(); err != nil {
		return core.Account{}, err
	}
	return acc, nil
}

// overrideProfile applies this run's --uid, --role-map and --user-map
// (inline, @FILE or their -file spellings) to p.
func (a *app) overrideProfile(cmd *cobra.Command, fl *importUserFlags, p *core.Profile) error {
	ctx := cmd.Context()
	for _, pair := range [][2]string{{"uid", "uid-claim"}, {"role-map", "role-map-file"}, {"user-map", "user-map-file"}} {
		if err := oneOf(cmd, pair[0], pair[1]); err != nil {
			return err
		}
	}
	roleMap, roleFlag := fl.roleMap, "--role-map"
	if fl.roleMapFile != "" {
		roleMap, roleFlag = "@"+fl.roleMapFile, "--role-map-file"
	}
	userMap, userFlag := fl.userMap, "--user-map"
	if fl.userMapFile != "" {
		userMap, userFlag = "@"+fl.userMapFile, "--user-map-file"
	}
	if fl.uid != "" {
		if err := core.CheckName(fl.uid); err != nil {
			return usagef("--uid: %w", err)
		}
		p.UIDClaim = fl.uid
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
	return nil
}

// loginAndValidate obtains acc's token from p's provider and validates
// it the profile's way (with the user and role detail).
func (a *app) loginAndValidate(ctx context.Context, p core.Profile, acc core.Account, dryRun bool) (*validate.Result, error) {
	d, err := a.svc.discovery.Get(ctx, p)
	if err != nil {
		return nil, err
	}
	set, err := a.svc.grants.Obtain(ctx, p, d, acc)
	if err != nil {
		return nil, err
	}
	tok := set.Token(acc.TokenType)
	if !tok.IsSet() {
		return nil, fmt.Errorf("the provider sent no %s (ask for the openid scope to get an id_token)", acc.TokenType)
	}
	// A profile with userinfo claims calls userinfo with the access
	// token of the same login, also when the id_token is validated.
	return a.svc.validator.ValidateWith(ctx, p, tok.Reveal(), validate.Options{Detail: true, DryRun: dryRun,
		UserinfoToken: set.AccessToken.Reveal()}), nil
}

// printImport prints the inspection and the user line (unless quiet)
// and turns a refused token into its exit code.
func (a *app) printImport(r *validate.Result, quiet bool) error {
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
