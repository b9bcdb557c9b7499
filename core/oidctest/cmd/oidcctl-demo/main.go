// Command oidcctl-demo is `make demo`: it starts the repository's test
// OpenID provider (package oidctest) and a small API behind it on
// 127.0.0.1, creates a demo database beside them with the oidcctl binary
// (a profile for people and one for services, a client_credentials
// account, an authorization_code account, a user and a provider
// webservice), prints what to try, and serves until ctrl+c. Then it stops
// both servers and removes the demo database; the user's own database is
// never opened.
//
// It is a program of its own, not an oidcctl command: the provider is
// zitadel/oidc's example server with fixed users and secrets, test code
// that does not belong in the binary administrators install.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"oidcctl/core/crypt"
	"oidcctl/core/oidctest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run starts the demo, prints what to try on stdout and serves until ctx
// ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("oidcctl-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("oidcctl", "bin/oidcctl", "the oidcctl binary that creates the demo database")
	dir := fs.String("dir", "", "directory for the demo database and key (default: a new temporary one, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d, err := start(ctx, *bin, *dir)
	if err != nil {
		fmt.Fprintln(stderr, "oidcctl-demo:", err)
		return 1
	}
	defer d.close()
	fmt.Fprint(stdout, d.instructions())
	<-ctx.Done()
	fmt.Fprintln(stdout, "\noidcctl-demo: stopped; the demo database is removed, your own was not touched.")
	return 0
}

// demo is a running demo.
type demo struct {
	provider  *oidctest.Provider
	api       *http.Server
	apiURL    string
	bin       string // absolute
	dir       string
	removeDir bool
}

// The names the demo creates, which the README's "Try it" tour uses.
const (
	profilePeople   = "demo"
	profileServices = "demo-service"
	accountService  = "billing"
	accountPerson   = "support-bot"
	webservice      = "tickets"
)

func start(ctx context.Context, bin, dir string) (_ *demo, err error) {
	d := &demo{}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.bin, err = filepath.Abs(bin); err != nil {
		return nil, err
	}
	if _, err := os.Stat(d.bin); err != nil {
		return nil, fmt.Errorf("the oidcctl binary: %w (run make build, or pass --oidcctl)", err)
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "oidcctl-demo-"); err != nil {
			return nil, err
		}
		d.removeDir = true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if d.dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(d.dbPath()); err == nil {
		return nil, fmt.Errorf("%s exists already: give --dir a new directory", d.dbPath())
	}
	if d.provider, err = oidctest.New(oidctest.WithDevicePollInterval(time.Second), oidctest.WithAccessTokenLifetime(time.Hour)); err != nil {
		return nil, fmt.Errorf("the test provider: %w", err)
	}
	if err := d.startAPI(); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, content string }{
		{"web-secret", oidctest.WebClientSecret},
		{"service-secret", oidctest.ServiceClientSecret},
	} {
		if err := os.WriteFile(filepath.Join(d.dir, f.name), []byte(f.content+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	// A key of the demo's own, made before the database: the environment
	// may name the user's key in OIDCCTL_KEY_FILE.
	if _, err := crypt.LoadKey(d.keyPath(), true); err != nil {
		return nil, err
	}
	for _, args := range d.setup() {
		cmd := exec.CommandContext(ctx, d.bin, args...)
		cmd.Env = append(os.Environ(), d.env()...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("oidcctl %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return d, nil
}

func (d *demo) dbPath() string  { return filepath.Join(d.dir, "oidcctl.db") }
func (d *demo) keyPath() string { return filepath.Join(d.dir, "oidcctl.key") }

// env points oidcctl at the demo database and its key, whatever the
// environment says otherwise.
func (d *demo) env() []string {
	return []string{"OIDCCTL_DB=" + d.dbPath(), "OIDCCTL_KEY_FILE=" + d.keyPath()}
}

// setup are the oidcctl commands that create the demo database.
func (d *demo) setup() [][]string {
	p := d.provider
	return [][]string{
		{"profile", "add", profilePeople, "--discovery-url", p.DiscoveryURL, "--client-id", oidctest.WebClientID,
			"--client-secret-file", filepath.Join(d.dir, "web-secret"), "--scope", "openid"},
		{"profile", "add", profileServices, "--discovery-url", p.DiscoveryURL, "--client-id", oidctest.ServiceClientID,
			"--client-secret-file", filepath.Join(d.dir, "service-secret")},
		{"account", "add", accountService, "--profile", profileServices, "--grant-type", "client_credentials", "--scope", "tickets.read"},
		{"account", "add", accountPerson, "--profile", profilePeople, "--grant-type", "authorization_code", "--scope", "openid offline_access"},
		// The service client's tokens name it as their subject: its user.
		{"user", "add", oidctest.ServiceClientID, "--email", "billing@demo.example", "--role", "ticket-reader"},
		{"webservice", "add", webservice, "--provider", "--profile", profileServices, "--route", "/GetTicket/:TicketID",
			"--method", "GET", "--upstream", d.apiURL + "/tickets"},
	}
}

// startAPI serves a small API that says whom oidcctl let through.
func (d *demo) startAPI() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("the demo API: %w", err)
	}
	d.apiURL = "http://" + ln.Addr().String()
	d.api = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"path\":%q,\"user\":%q,\"roles\":%q}\n", r.URL.Path, r.Header.Get("X-Auth-User"), r.Header.Get("X-Auth-Roles"))
	})}
	go func() {
		if err := d.api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "oidcctl-demo: the demo API:", err)
		}
	}()
	return nil
}

// close stops the servers and removes the demo directory it made.
func (d *demo) close() {
	if d.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.api.Shutdown(ctx)
		cancel()
	}
	if d.provider != nil {
		d.provider.Close()
	}
	if d.removeDir && d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

// instructions say what runs and what to try.
func (d *demo) instructions() string {
	var b strings.Builder
	fmt.Fprintf(&b, `oidcctl demo
  test provider  %s
                 users %s and %s, password %s
  demo API       %s (behind webservice %q)
  database       %s (your own is not touched)

Created: profiles %q (client %s, for people) and %q (client %s, for
services), accounts %q (client_credentials) and %q
(authorization_code), user %q, provider webservice %q.

Try it in another terminal (the README's "Try it" tour):

  export %s %s
  alias oidcctl=%s

  oidcctl profile test %s
  oidcctl token get %s
  oidcctl token inspect --profile %s "$(oidcctl token get %s)"
  oidcctl account authorize %s --device     # log in as %s / %s
  oidcctl serve --auth-profile %s &
  curl -H "Authorization: Bearer $(oidcctl token get %s)" http://127.0.0.1:8085/ws/%s/GetTicket/1
  oidcctl                                      # the console

ctrl+c here stops the provider and the API and removes the demo database.
`, d.provider.Issuer, d.provider.Username(), oidctest.Username2, oidctest.Password, d.apiURL, webservice, d.dbPath(),
		profilePeople, oidctest.WebClientID, profileServices, oidctest.ServiceClientID, accountService, accountPerson,
		oidctest.ServiceClientID, webservice,
		d.env()[0], d.env()[1], d.bin,
		profilePeople, accountService, profileServices, accountService, accountPerson, d.provider.Username(), oidctest.Password,
		profileServices, accountService, webservice)
	return b.String()
}
