package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aymanbagabas/go-osc52/v2"
	"github.com/cli/browser"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/tui"
)

func (a *app) accountAuthorize() *cobra.Command {
	var device, noBrowser bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "authorize ACCOUNT [--device | --no-browser]",
		Short: "Log in for an authorization_code account and store its tokens",
		Long: `Runs the login that an authorization_code account needs a person for, and
stores the tokens it yields.

By default oidcctl opens a local browser and waits on a loopback callback
(http://127.0.0.1:PORT/callback: register http://127.0.0.1/callback with the
provider). Over SSH, where there is no local browser, it uses the device flow
when the provider offers it; otherwise it prints the URL (and copies it to
your terminal's clipboard by OSC 52), the ssh -L line that makes the callback
reachable from your own browser, and also takes the final redirect URL
pasted back.`,
		Example: `  oidcctl account authorize support-bot
  oidcctl account authorize support-bot --device
  oidcctl account authorize support-bot --no-browser`,
		Args: exactArgs(1, "an account name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if device && noBrowser {
				return usagef("--device and --no-browser exclude each other")
			}
			ctx := cmd.Context()
			if _, err := a.open(ctx); err != nil {
				return err
			}
			acc, err := a.store.Account(ctx, args[0])
			if err != nil {
				return err
			}
			if acc.GrantType != core.GrantAuthorizationCode {
				return usagef("account %s uses the %s grant, which needs no login: use oidcctl token get %s", acc.Name, acc.GrantType, acc.Name)
			}
			p, err := a.store.Profile(ctx, acc.Profile)
			if err != nil {
				return err
			}
			d, err := a.svc.discovery.Get(ctx, p)
			if err != nil {
				return err
			}
			if timeout <= 0 {
				timeout = p.Misc.RandTTL
			}
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var set core.TokenSet
			switch grant.ChooseMethod(d, a.getenv, device, noBrowser) {
			case grant.MethodDevice:
				set, err = a.authorizeDevice(ctx, p, d, acc)
			case grant.MethodBrowser:
				set, err = a.svc.grants.AuthorizeLoopback(ctx, p, d, acc, func(url string) error {
					fmt.Fprintf(a.stderr, "Opening the login page in your browser. If it does not open, visit:\n\n  %s\n\nWaiting for the login (Ctrl-C to cancel)...\n", url)
					if err := browser.OpenURL(url); err != nil {
						fmt.Fprintf(a.stderr, "Could not open a browser (%v): open the URL above yourself.\n", err)
					}
					return nil
				}, timeout)
			default:
				set, err = a.authorizeRemote(ctx, p, d, acc)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no login within %s: %w", timeout, err)
			}
			if err != nil {
				return fmt.Errorf("authorize %s: %w", acc.Name, err)
			}
			if err := a.store.SaveTokens(context.WithoutCancel(ctx), acc.Name, "", set); err != nil {
				return err
			}
			what := "access token"
			if set.RefreshToken.IsSet() {
				what += " and refresh token"
			}
			return a.printDone(fmt.Sprintf("authorized: %s stored, expires %s", what, tui.Relative(set.Expiry, time.Now())), "account", acc.Name)
		},
	}
	cmd.Flags().BoolVar(&device, "device", false, "use the device flow (RFC 8628): a code to enter on any device")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the URL instead of opening a browser; take the pasted redirect URL")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait for the login (default: the profile's rand TTL)")
	return cmd
}

func (a *app) authorizeDevice(ctx context.Context, p core.Profile, d *discovery.Document, acc core.Account) (core.TokenSet, error) {
	f, err := a.svc.grants.StartDevice(ctx, p, d, acc)
	if err != nil {
		return core.TokenSet{}, err
	}
	// The provider wrote these: escaped.
	fmt.Fprintf(a.stderr, "On any device, open\n\n  %s\n\nand enter the code\n\n  %s\n\n", tui.Escape(f.VerificationURI), tui.Escape(f.UserCode))
	if f.VerificationURIComplete != "" {
		fmt.Fprintf(a.stderr, "(or open %s, which carries the code)\n\n", tui.Escape(f.VerificationURIComplete))
	}
	fmt.Fprintf(a.stderr, "Waiting for the login (Ctrl-C to cancel)...\n")
	return f.Wait(ctx)
}

// authorizeRemote serves the loopback callback for a browser on another
// machine (through ssh -L) and at the same time takes the final redirect
// URL pasted on standard input; the first to arrive is used.
func (a *app) authorizeRemote(ctx context.Context, p core.Profile, d *discovery.Document, acc core.Account) (core.TokenSet, error) {
	cb, err := grant.Listen(ctx, grant.ListenOptions{})
	if err != nil {
		return core.TokenSet{}, err
	}
	defer cb.Close()
	f, err := a.svc.grants.StartAuthCode(p, d, acc, cb.RedirectURI)
	if err != nil {
		return core.TokenSet{}, err
	}
	fmt.Fprintf(a.stderr, "Open this URL in a browser and log in:\n\n  %s\n\n", tui.Escape(f.URL))
	if copyToClipboard(a.stderr, a.getenv, f.URL) {
		fmt.Fprintf(a.stderr, "(copied to your terminal's clipboard where it supports OSC 52)\n\n")
	}
	fmt.Fprintf(a.stderr, "The provider then redirects to %s. Either make that reachable from your\n"+
		"browser by connecting to this machine with\n\n  %s\n\n"+
		"or paste the address the browser ends on (it fails to load) here:\n", cb.RedirectURI, grant.ForwardCommand(cb.Port, a.getenv))

	type result struct {
		set core.TokenSet
		err error
	}
	done := make(chan result, 2)
	go func() {
		set, err := cb.Wait(ctx, f)
		done <- result{set, err}
	}()
	go func() {
		sc := bufio.NewScanner(a.stdin)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			set, err := f.ExchangeRedirect(ctx, line)
			done <- result{set, err}
			return
		}
	}()
	r := <-done
	return r.set, r.err
}

// copyToClipboard puts text on the clipboard of the terminal that w is,
// through OSC 52, which reaches the admin's own machine over SSH. It does
// nothing when w is no terminal.
func copyToClipboard(w io.Writer, getenv func(string) string, text string) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	seq := osc52.New(text)
	if getenv("TMUX") != "" {
		seq = seq.Tmux()
	} else if strings.HasPrefix(getenv("TERM"), "screen") {
		seq = seq.Screen()
	}
	_, err := seq.WriteTo(w)
	return err == nil
}
