package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"oidcctl/core"
	"oidcctl/core/buildinfo"
	"oidcctl/core/crypt"
	"oidcctl/db"
	"oidcctl/db/postgres"
)

// finishCommands does what concerns every command at once, once the
// tree is built: --version, mistyped commands, and shell completion of
// names and enumerations.
func (a *app) finishCommands(root *cobra.Command) {
	root.Version = buildinfo.Read().String()
	root.SetVersionTemplate("oidcctl {{.Version}}\n")
	// The completion command writes where the root writes when it is
	// made: here, not os.Stdout.
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.InitDefaultCompletionCmd()
	walk(root, func(c *cobra.Command) {
		if c.HasSubCommands() {
			refuseUnknown(c)
		}
		a.completeArgs(c)
		a.completeFlags(c)
		describeDurations(c)
		if c.Name() == "edit" {
			noDefaults(c)
		}
	})
	helpRefusesUnknown(root)
}

func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// refuseUnknown makes a command with sub-commands refuse a word that
// names none of them, with exit code 2 and the sub-commands it may have
// meant: cobra shows the help and exits 0 for a parent without Run,
// which a script takes for success. Without a word the parent shows its
// help, as before; the root keeps its own Run (the console).
func refuseUnknown(c *cobra.Command) {
	c.SuggestionsMinimumDistance = 2
	var own cobra.PositionalArgs
	if c.Runnable() {
		own = c.Args
	} // a command that runs itself (serve) checks its own arguments
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		suggestions := cmd.SuggestionsFor(args[0])
		if own != nil && cmd.HasParent() && len(suggestions) == 0 {
			return own(cmd, args)
		}
		return unknownCommand(cmd, args[0], suggestions)
	}
	if !c.Runnable() {
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
}

// unknownCommand is the usage error for a word that names no sub-command
// of cmd, with the ones it may have meant.
func unknownCommand(cmd *cobra.Command, word string, suggestions []string) error {
	msg := fmt.Sprintf("unknown command %q for %q", word, cmd.CommandPath())
	if len(suggestions) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", quoteOr(suggestions))
	}
	return usagef("%s (see %s --help)", msg, cmd.CommandPath())
}

// helpRefusesUnknown makes `oidcctl help WORD…` refuse a topic that names
// no command as a mistyped command is refused (exit code 2, "did you
// mean"): cobra's help prints "Unknown help topic" and exits 0.
func helpRefusesUnknown(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	help, _, err := root.Find([]string{"help"})
	if err != nil || help == root {
		return
	}
	help.Run = nil
	help.RunE = func(c *cobra.Command, args []string) error {
		cmd, rest, err := c.Root().Find(args)
		if err != nil {
			return usagef("%v (see %s --help)", err, c.Root().CommandPath())
		}
		if len(rest) > 0 && cmd.HasAvailableSubCommands() {
			return unknownCommand(cmd, rest[0], cmd.SuggestionsFor(rest[0]))
		}
		return cmd.Help()
	}
}

func quoteOr(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// nameKind is a kind of object whose names complete from the database.
type nameKind int

const (
	noNames nameKind = iota
	profileNames
	accountNames
	webserviceNames
	userNames
	settingKeys // config set and get: known without a database
)

// argKinds say what the positional arguments of a command name, by the
// words of its Use line; NAME and LOGIN depend on the parent. An add
// names a new object: nothing to complete.
func argKinds(c *cobra.Command) []nameKind {
	words := strings.Fields(c.Use)
	if len(words) < 2 || c.Name() == "add" && c.Parent() != nil && c.Parent().Name() != "credential" {
		return nil
	}
	parent := ""
	if c.Parent() != nil {
		parent = c.Parent().Name()
	}
	var kinds []nameKind
	for _, w := range words[1:] {
		w = strings.Trim(w, "[]")
		k := noNames
		switch w {
		case "ACCOUNT":
			k = accountNames
		case "WEBSERVICE":
			k = webserviceNames
		case "LOGIN":
			k = userNames
		case "KEY":
			k = settingKeys
		case "NAME":
			switch parent {
			case "profile":
				k = profileNames
			case "account":
				k = accountNames
			case "webservice":
				k = webserviceNames
			}
		default:
			if strings.HasPrefix(w, "-") || strings.ContainsAny(w, "|") {
				return kinds
			}
		}
		kinds = append(kinds, k)
	}
	return kinds
}

func (a *app) completeArgs(c *cobra.Command) {
	if c.ValidArgsFunction != nil || c.HasSubCommands() {
		return
	}
	kinds := argKinds(c)
	if len(kinds) == 0 || !slices.ContainsFunc(kinds, func(k nameKind) bool { return k != noNames }) {
		return
	}
	c.ValidArgsFunction = func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= len(kinds) || kinds[len(args)] == noNames {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return a.names(cmd.Context(), kinds[len(args)], prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// strs turns core's typed lists into words, leaving out "".
func strs[T ~string](values []T) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, string(v))
		}
	}
	return out
}

// flagValues are the values of the flags that take one of a few words,
// from core's lists where core has one.
var flagValues = map[string][]string{
	"output":             {"table", "json"},
	"grant-type":         strs(core.GrantTypes),
	"flavour":            strs(core.Flavours),
	"token-type":         {string(core.TokenAccess), string(core.TokenID)},
	"log-level":          {"debug", "info", "warn", "error"},
	"auth-debug":         {"refused", "all", "off"},
	"verdict":            {"accepted", "refused", "error"},
	"token-auth-method":  strs(core.TokenAuthMethods),
	"client-auth":        strs(core.TokenAuthMethods),
	"assertion-audience": {core.AudienceTokenEndpoint, core.AudienceIssuer},
	"alg":                core.ClientKeyAlgorithms,
	"uid-claim":          {"sub", "email", "preferred_username", "uid", "oid", "upn"},
	"method":             {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
}

// flagNames are the flags that name an object in the database.
var flagNames = map[string]nameKind{
	"profile":      profileNames,
	"auth-profile": profileNames,
	"prefill-from": profileNames,
	"account":      accountNames,
}

func (a *app) completeFlags(c *cobra.Command) {
	register := func(f *pflag.Flag) {
		if _, done := c.GetFlagCompletionFunc(f.Name); done {
			return
		}
		if vals, ok := flagValues[f.Name]; ok {
			if c.Name() == "import-user" && f.Name == "grant-type" {
				vals = []string{string(core.GrantPassword), string(core.GrantClientCredentials)}
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveKeepOrder))
			return
		}
		if kind, ok := flagNames[f.Name]; ok {
			_ = c.RegisterFlagCompletionFunc(f.Name, func(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return a.names(cmd.Context(), kind, prefix), cobra.ShellCompDirectiveNoFileComp
			})
		}
	}
	// Persistent flags are registered on the root only.
	if !c.HasParent() {
		c.PersistentFlags().VisitAll(register)
	}
	c.LocalNonPersistentFlags().VisitAll(register)
}

// names lists the names of one kind from the database that begin with
// prefix. Completion must never create, migrate or change a database,
// nor print anything but candidates: the store is opened read-only,
// with logs discarded, and any failure (no database yet, no key) gives
// no candidates.
func (a *app) names(ctx context.Context, kind nameKind, prefix string) []cobra.Completion {
	if kind == settingKeys {
		var out []cobra.Completion
		for _, s := range settings {
			if strings.HasPrefix(s.key, prefix) {
				out = append(out, cobra.CompletionWithDesc(s.key, s.help))
			}
		}
		return out
	}
	if ctx == nil {
		ctx = context.Background()
	}
	store, err := a.openQuietly(ctx)
	if err != nil {
		return nil
	}
	defer store.Close()
	var all []string
	switch kind {
	case profileNames:
		ps, err := store.Profiles(ctx)
		if err == nil {
			for _, p := range ps {
				all = append(all, p.Name)
			}
		}
	case accountNames:
		as, err := store.Accounts(ctx, "")
		if err == nil {
			for _, acc := range as {
				all = append(all, acc.Name)
			}
		}
	case webserviceNames:
		ws, err := store.Webservices(ctx)
		if err == nil {
			for _, w := range ws {
				all = append(all, w.Name)
			}
		}
	case userNames:
		us, err := store.Users(ctx)
		if err == nil {
			for _, u := range us {
				all = append(all, u.Login)
			}
		}
	}
	var out []cobra.Completion
	for _, n := range all {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// openQuietly opens the database read-only, without creating it or its
// key, and without logging.
func (a *app) openQuietly(ctx context.Context) (openedStore, error) {
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	// The same database and key as every other command (flag,
	// environment, host-wide file, default).
	path, keyEnv, err := a.locate()
	if err != nil {
		return nil, err
	}
	if postgres.IsConnString(path) {
		return a.openPostgresKeyed(ctx, path, keyEnv, false)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	keyPath, _ := crypt.KeyLocation(path, keyEnv)
	key, err := crypt.LoadKey(keyPath, false)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("no key")
	}
	return db.OpenWith(ctx, path, key, db.Options{ReadOnly: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}
