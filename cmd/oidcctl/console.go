package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/cli/browser"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"oidcctl/core"
	"oidcctl/screens"
	"oidcctl/screens/accounts"
	"oidcctl/screens/debugger"
	"oidcctl/screens/home"
	"oidcctl/screens/inspector"
	"oidcctl/screens/profiles"
	"oidcctl/screens/servestatus"
	"oidcctl/screens/tokenstore"
	"oidcctl/screens/users"
	"oidcctl/screens/webservices"
	"oidcctl/tui"
)

// runConsole is what oidcctl does without a command: the console when
// standard input and output are a terminal; otherwise (a pipe, CI, cron) a
// short text summary of what the database holds and the next step to take.
func (a *app) runConsole(cmd *cobra.Command, _ []string) error {
	reg, err := a.open(cmd.Context())
	if err != nil {
		return err
	}
	if !isTerminal(a.stdin) || !isTerminal(a.stdout) {
		return a.summary(cmd.Context(), reg)
	}
	return a.console(cmd.Context(), reg)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// console runs the console on the open store until the person quits.
func (a *app) console(ctx context.Context, reg core.Registry) error {
	// Log lines on standard error would tear the screen; what goes wrong
	// is shown on the screen instead.
	a.log = slog.New(slog.DiscardHandler)
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	d := a.consoleDeps(reg)
	return tui.Run(ctx, a.stdin, a.stdout, tui.Options{Getenv: a.getenv, Styles: &d.Styles}, consoleScreens(d)...)
}

// consoleDeps builds what the screens are made with, sharing one
// discovery client (and its cache) and one key cache between them.
func (a *app) consoleDeps(reg core.Registry) screens.Deps {
	disc := a.discovery()
	grants := a.grants()
	m := a.tokenManager()
	m.Discovery, m.Grants = disc, grants
	v := a.validatorWith(disc)
	return screens.Deps{
		Registry:    reg,
		Discovery:   disc,
		Tokens:      m,
		Grants:      grants,
		Validator:   v,
		Styles:      tui.StylesFromEnv(a.getenv),
		Getenv:      a.getenv,
		OpenBrowser: browser.OpenURL,
	}
}

// consoleScreens are the console's tabs, in order: the digits 1-9 choose
// them.
func consoleScreens(d screens.Deps) []tui.Screen {
	return []tui.Screen{
		home.New(d),
		profiles.New(d),
		accounts.New(d),
		tokenstore.New(d),
		inspector.New(d),
		users.New(d),
		webservices.New(d),
		debugger.New(d),
		servestatus.New(d),
	}
}

// summary shows what the database holds and the next step to take, for
// scripts and for a person at a pipe.
func (a *app) summary(ctx context.Context, reg core.Registry) error {
	profiles, err := reg.Profiles(ctx)
	if err != nil {
		return err
	}
	accounts, err := reg.Accounts(ctx, "")
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
	fmt.Fprintln(w, "Run oidcctl in a terminal for the console; see oidcctl --help for every command.")
	return nil
}
