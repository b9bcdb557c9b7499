package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aymanbagabas/go-osc52/v2"
	"github.com/cli/browser"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"oidcctl/core/grant"
	"oidcctl/core/login"
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
provider), or on exactly the --redirect-uri of the account, else of its
profile (a fixed port, localhost, [::1], another path). Over SSH, where there is no local browser, it uses the device flow
when the provider offers it; otherwise it prints the URL (and copies it to
your terminal's clipboard by OSC 52), the ssh -L line that makes the callback
reachable from your own browser, and also takes the final redirect URL
pasted back (a line that is not this login's redirect is refused, and the
next one read).

With an https --redirect-uri (https://oidcctl.example.org/callback) the
browser returns to an oidcctl serve that answers that path, on any host that
shares this database: authorize stores the request (state, PKCE verifier,
nonce) as a pending login, prints the URL (and opens a local browser where
there is one, unless --no-browser), and waits until serve has completed the
login and stored the tokens, or reports why serve refused it. A pending login
lasts ten minutes and is used once; Ctrl-C or --timeout abandon it.

The console's authorize screen runs the same login.`,
		Example: `  oidcctl account authorize support-bot
  oidcctl account authorize support-bot --device
  oidcctl account authorize support-bot --no-browser`,
		Args: exactArgs(1, "an account name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if device && noBrowser {
				return usagef("--device and --no-browser exclude each other")
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			opts := login.Options{Timeout: timeout}
			switch {
			case device:
				opts.Method = grant.MethodDevice
			case noBrowser:
				opts.Method = grant.MethodRemote
			}
			set, err := a.logins().Run(cmd.Context(), args[0], opts, &cliPrompter{w: a.stderr, stdin: a.stdin, getenv: a.getenv})
			if ge := (*login.GrantError)(nil); errors.As(err, &ge) {
				return usagef("%v: use oidcctl token get %s", ge, ge.Account)
			}
			if err != nil {
				return err
			}
			what := "access token"
			if set.RefreshToken.IsSet() {
				what += " and refresh token"
			}
			return a.printDone(fmt.Sprintf("authorized: %s stored, expires %s", what, tui.Relative(set.Expiry, time.Now())), "account", args[0])
		},
	}
	cmd.Flags().BoolVar(&device, "device", false, "use the device flow (RFC 8628): a code to enter on any device")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the URL instead of opening a browser; take the pasted redirect URL")
	cmd.Flags().Var(newDuration(&timeout, 0), "timeout", "how long to wait for the login (default: the profile's rand TTL; ten minutes through serve)")
	return cmd
}

// logins returns the login runner of this run: the browser method opens
// the system's browser.
func (a *app) logins() *login.Runner {
	return &login.Runner{Store: a.store, Discovery: a.svc.discovery, Grants: a.svc.grants, Getenv: a.getenv, OpenBrowser: browser.OpenURL}
}

// cliPrompter prints the steps of a login on w and reads pasted redirect
// addresses from stdin, a line each.
type cliPrompter struct {
	w      io.Writer
	stdin  io.Reader
	getenv func(string) string

	once  sync.Once
	lines chan string
}

// Event prints one step of the login. What the provider wrote (URLs,
// codes) is escaped for the terminal.
func (c *cliPrompter) Event(ev login.Event) {
	switch ev := ev.(type) {
	case login.ShowURL:
		if ev.Method == grant.MethodBrowser {
			fmt.Fprintf(c.w, "Opening the login page in your browser. If it does not open, visit:\n\n  %s\n\n", tui.Escape(ev.URL))
			return
		}
		fmt.Fprintf(c.w, "Open this URL in a browser and log in:\n\n  %s\n\n", tui.Escape(ev.URL))
		if copyToClipboard(c.w, c.getenv, ev.URL) {
			fmt.Fprintf(c.w, "(copied to your terminal's clipboard where it supports OSC 52)\n\n")
		}
		if ev.Method == grant.MethodServe {
			fmt.Fprintf(c.w, "The provider then returns the browser to %s, where oidcctl serve\n"+
				"completes the login (on any host that shares this database).\n", tui.Escape(ev.RedirectURI))
			return
		}
		fmt.Fprintf(c.w, "The provider then redirects to %s. Either make that reachable from your\n"+
			"browser by connecting to this machine with\n\n  %s\n\n"+
			"or paste the address the browser ends on (it fails to load) here:\n", ev.RedirectURI, ev.Forward)
	case login.ShowDeviceCode:
		fmt.Fprintf(c.w, "On any device, open\n\n  %s\n\nand enter the code\n\n  %s\n\n", tui.Escape(ev.VerificationURI), tui.Escape(ev.UserCode))
		if ev.VerificationURIComplete != "" {
			fmt.Fprintf(c.w, "(or open %s, which carries the code)\n\n", tui.Escape(ev.VerificationURIComplete))
		}
	case login.Waiting:
		if ev.Method != grant.MethodRemote { // the remote text already says what to do
			fmt.Fprintf(c.w, "Waiting for the login (Ctrl-C to cancel)...\n")
		}
	case login.BrowserFailed:
		fmt.Fprintf(c.w, "Could not open a browser (%v): open the URL above yourself.\n", ev.Err)
	case login.PollFailed:
		fmt.Fprintf(c.w, "A poll failed (%s); retrying in %s (%d of %d failed in a row).\n", tui.EscapeText(ev.Err.Error()), ev.Retry, ev.Failures, ev.MaxFailures)
	case login.PasteRefused:
		fmt.Fprintf(c.w, "%s\nPaste the address the browser ends on again:\n", tui.EscapeText(ev.Err.Error()))
	case login.Done:
		// The command prints the outcome.
	}
}

// Pasted returns the next non-empty line of stdin; io.EOF at its end.
func (c *cliPrompter) Pasted(ctx context.Context) (string, error) {
	c.once.Do(func() {
		c.lines = make(chan string)
		go func() {
			defer close(c.lines)
			sc := bufio.NewScanner(c.stdin)
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); line != "" {
					c.lines <- line
				}
			}
		}()
	})
	select {
	case line, ok := <-c.lines:
		if !ok {
			return "", io.EOF
		}
		return line, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
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
