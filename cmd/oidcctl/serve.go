package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"oidcctl/assets"
	"oidcctl/core"
	"oidcctl/core/buildinfo"
	"oidcctl/core/config"
	"oidcctl/core/logs"
	"oidcctl/core/serve"
	"oidcctl/core/tokens"
	"oidcctl/db/postgres"
	"oidcctl/tui"
)

// serveFlags are the flags of oidcctl serve.
type serveFlags struct {
	listen, socket, authProfile, authDebug string
	userHeader, rolesHeader, subjectHeader string
	maxBody, maxInvokeBody                 string
	debugRate                              int
	readHeaderTimeout, upstreamTimeout     time.Duration
	shutdownTimeout, reloadInterval        time.Duration
	noScheduler, printUnit                 bool
	socketGroup                            string
	invokeOpen                             bool
}

func (a *app) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--socket PATH] [--auth-profile PROFILE] [--print-unit]",
		Short: "Run the daemon: forward-auth, provider and requester webservices, token socket, refresh",
		Long: `Runs until SIGTERM or SIGINT (then it finishes the calls in flight, for up
to --shutdown-timeout), under systemd as a Type=notify service:
--print-unit prints the unit, with the key and database of
/etc/oidcctl/oidcctl.conf when it names them.

On --listen it serves:

  /auth                forward-auth for nginx auth_request, Traefik
                       ForwardAuth, Caddy forward_auth, Envoy ext_authz:
                       200 with X-Auth-User, X-Auth-Roles, X-Auth-Subject,
                       or 401/403 with an RFC 6750 WWW-Authenticate (the
                       error code; why is in the debugger and the log).
                       The profile is ?profile=NAME in the proxy's auth
                       URL, or --auth-profile.
  /ws/NAME/ROUTE       provider webservices: the token is validated, the
                       call proxied to the upstream with the user; the
                       caller's X-Auth-*, X-Forwarded-*, X-Real-IP and
                       Forwarded headers are dropped, in any spelling.
  /invoke/NAME         requester webservices: the call goes to the
                       endpoint with the account's bearer token. The
                       caller presents an invoke credential issued for
                       the webservice in the X-Oidcctl-Credential header
                       (oidcctl webservice credential add NAME CALLER),
                       or 401; --invoke-open-to-anyone-on-tcp drops that.
  /healthz /readyz     liveness; readiness (database, provider keys)
  /metrics             Prometheus metrics
  PATH of an https     the browser's return of a login that oidcctl account
  --redirect-uri       authorize started (put serve behind the proxy that
                       terminates TLS for that host): the code is exchanged,
                       the tokens stored, the command told.

and on --socket, a unix socket only its owner can use (0600), or its
owner and the members of --socket-group (0660): GET /token/ACCOUNT prints
the account's token, for local scripts; /invoke/NAME works as above,
without a credential.

The refresh scheduler runs inside (oidcctl config set refresh.schedule,
refresh.interval); serve refuses to start (exit 2) with a schedule that
never fires. Changes made with the console or the command line, the
schedule included, are picked up within the reload interval, or at once on
SIGHUP. Logs are JSON when standard error is not a terminal; under systemd
(JOURNAL_STREAM) each line starts with its priority (<4> for a warning), so
journalctl -p warning finds them. --log-level is info for serve unless given.`,
		Example: `  oidcctl serve --listen 127.0.0.1:8085 --socket /run/oidcctl/token.sock --auth-profile keycloak
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8085/ws/tickets/GetTicket/1
  curl -H "X-Oidcctl-Credential: $CREDENTIAL" -d @article.json http://127.0.0.1:8085/invoke/echo
  curl --unix-socket /run/oidcctl/token.sock http://x/token/billing
  oidcctl serve --print-unit > /etc/systemd/system/oidcctl.service`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.printUnit {
				host, err := a.hostConfig()
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(unit(assets.SystemdUnit, host))
				return err
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			return a.serve(cmd, f, cfg)
		},
	}
	f.register(cmd)
	cmd.AddCommand(a.serveStatus())
	return cmd
}

// register defines the flags of oidcctl serve on cmd.
func (f *serveFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8085", "address of the HTTP server (host:port)")
	fs.StringVar(&f.socket, "socket", "", "path of the token socket (none when empty); its directory must exist")
	fs.StringVar(&f.socketGroup, "socket-group", "", "group (name or id) whose members may use the token socket too (mode 0660): they get tokens and make requester calls")
	fs.BoolVar(&f.invokeOpen, "invoke-open-to-anyone-on-tcp", false, "requester webservices take calls on --listen without an invoke credential: every local user can call with the accounts' tokens (not for shared machines)")
	fs.StringVar(&f.authProfile, "auth-profile", "", "profile of forward-auth calls that name none")
	fs.StringVar(&f.authDebug, "auth-debug", serve.DebugRefused, "what the debugger keeps of forward-auth calls: refused, all or off")
	fs.StringVar(&f.userHeader, "user-header", "X-Auth-User", "header that carries the user of an accepted token (not one serve reads, such as Authorization or X-Forwarded-*)")
	fs.StringVar(&f.rolesHeader, "roles-header", "X-Auth-Roles", "header that carries the user's roles, comma-separated")
	fs.StringVar(&f.subjectHeader, "subject-header", "X-Auth-Subject", "header that carries the token's subject")
	fs.StringVar(&f.maxBody, "max-body", "10MiB", "largest body of a call to a provider webservice (413 beyond)")
	fs.StringVar(&f.maxInvokeBody, "max-invoke-body", "1MiB", "largest body of a call to a requester webservice (kept for a retry)")
	fs.IntVar(&f.debugRate, "debug-rate", serve.DefaultDebugRate, "calls per second per webservice the debugger records at most (0: no bound)")
	fs.Var(newDuration(&f.readHeaderTimeout, serve.DefaultReadHeaderTimeout), "read-header-timeout", "time a client has to send its request headers")
	fs.Var(newDuration(&f.upstreamTimeout, serve.DefaultUpstreamTimeout), "upstream-timeout", "time an upstream or endpoint has to start its answer")
	fs.Var(newDuration(&f.shutdownTimeout, serve.DefaultShutdownTimeout), "shutdown-timeout", "time the calls in flight have to finish on SIGTERM")
	fs.Var(newDuration(&f.reloadInterval, serve.DefaultReloadInterval), "reload-interval", "how often the database is asked for configuration changes")
	fs.BoolVar(&f.noScheduler, "no-scheduler", false, "do not refresh tokens on the schedule (another process does)")
	fs.BoolVar(&f.printUnit, "print-unit", false, "print the systemd unit and exit")
}

// serveStatusJSON is the -o json form of a serve instance's status.
type serveStatusJSON struct {
	Instance       string     `json:"instance"`
	Host           string     `json:"host"`
	PID            int        `json:"pid,omitempty"`
	Running        bool       `json:"running"`
	Listen         string     `json:"listen"`
	Socket         string     `json:"socket,omitempty"`
	Version        string     `json:"version,omitempty"`
	StartedAt      time.Time  `json:"started_at"`
	Heartbeat      time.Time  `json:"heartbeat"`
	LastRefreshRun *time.Time `json:"last_refresh_run,omitempty"`
	Renewed        int        `json:"last_refresh_renewed"`
	Failed         int        `json:"last_refresh_failed"`
	Stopped        bool       `json:"stopped"`
}

func (a *app) serveStatus() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the oidcctl serve processes on this database and whether they run",
		Long: `Every oidcctl serve reports itself in the database every few seconds: its
host and pid, its version, where it listens, since when, and how its last
token refresh run went. On a PostgreSQL database shared by several hosts this
lists the instances of every host. A process that has not reported for half
a minute is shown as gone. Exits 1 when none runs.`,
		Example: "  oidcctl serve status\n  oidcctl serve status -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			all, err := a.store.ServeStatuses(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now()
			running := 0
			out := make([]serveStatusJSON, len(all))
			for i, s := range all {
				host, pid := splitInstance(s.Instance)
				out[i] = serveStatusJSON{Instance: s.Instance, Host: host, PID: pid, Running: s.Alive(now), Listen: s.Listen, Socket: s.Socket, Version: s.Version,
					StartedAt: jsonTime(s.StartedAt), Heartbeat: jsonTime(s.Heartbeat), LastRefreshRun: optTime(s.LastRefreshRun),
					Renewed: s.LastRefreshRenewed, Failed: s.LastRefreshFailed, Stopped: s.Stopped}
				if out[i].Running {
					running++
				}
			}
			if a.output == "json" {
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else if len(out) > 0 {
				t := newTable(a.stdout, "HOST", "PID", "STATE", "VERSION", "LISTEN", "SOCKET", "STARTED", "LAST SEEN", "LAST REFRESH RUN")
				for i, s := range all {
					state := "gone"
					switch {
					case out[i].Running:
						state = "running"
					case s.Stopped:
						state = "stopped"
					}
					run := tui.Relative(s.LastRefreshRun, now)
					if !s.LastRefreshRun.IsZero() {
						run += fmt.Sprintf(" (%d renewed, %d failed)", s.LastRefreshRenewed, s.LastRefreshFailed)
					}
					pid := "-"
					if out[i].PID != 0 {
						pid = strconv.Itoa(out[i].PID)
					}
					t.row(out[i].Host, pid, state, cmp.Or(s.Version, "-"), s.Listen, cmp.Or(s.Socket, "-"), tui.Relative(s.StartedAt, now), tui.Relative(s.Heartbeat, now), run)
				}
				t.flush()
			}
			if running == 0 {
				return exitCodeError{exitFailure, errors.New("no oidcctl serve runs on this database")}
			}
			return nil
		},
	}
}

// splitInstance splits a serve instance's name, "host:pid", into its
// host and pid; a name of another form is the host, with pid 0.
func splitInstance(instance string) (host string, pid int) {
	i := strings.LastIndexByte(instance, ':')
	if i < 0 {
		return instance, 0
	}
	n, err := strconv.Atoi(instance[i+1:])
	if err != nil || n <= 0 {
		return instance, 0
	}
	return instance[:i], n
}

// config checks the flags and turns them into a serve.Config (without
// the store and what hangs on it).
func (f *serveFlags) config() (serve.Config, error) {
	var cfg serve.Config
	if _, port, err := net.SplitHostPort(f.listen); err != nil || port == "" {
		return cfg, usagef("--listen %q: want host:port, such as 127.0.0.1:8085", f.listen)
	}
	switch f.authDebug {
	case serve.DebugRefused, serve.DebugAll, serve.DebugOff:
	default:
		return cfg, usagef("--auth-debug %q: want refused, all or off", f.authDebug)
	}
	for name, v := range map[string]string{"--user-header": f.userHeader, "--roles-header": f.rolesHeader, "--subject-header": f.subjectHeader} {
		if !validHeaderName(v) {
			return cfg, usagef("%s %q is not a header name", name, v)
		}
	}
	headers := serve.HeaderNames{User: f.userHeader, Roles: f.rolesHeader, Subject: f.subjectHeader}
	if err := serve.CheckHeaderNames(headers, func(which string) string { return "--" + which + "-header" }); err != nil {
		return cfg, usageError{err}
	}
	maxBody, err := positiveSize(f.maxBody)
	if err != nil {
		return cfg, usagef("--max-body %q: %v", f.maxBody, err)
	}
	maxInvoke, err := positiveSize(f.maxInvokeBody)
	if err != nil {
		return cfg, usagef("--max-invoke-body %q: %v", f.maxInvokeBody, err)
	}
	for name, d := range map[string]time.Duration{"--read-header-timeout": f.readHeaderTimeout, "--upstream-timeout": f.upstreamTimeout,
		"--shutdown-timeout": f.shutdownTimeout, "--reload-interval": f.reloadInterval} {
		if d <= 0 {
			return cfg, usagef("%s %v: want a positive duration", name, d)
		}
	}
	if f.socketGroup != "" && f.socket == "" {
		return cfg, usagef("--socket-group %q: give --socket too", f.socketGroup)
	}
	if f.debugRate < 0 {
		return cfg, usagef("--debug-rate %d: want 0 (no bound) or more", f.debugRate)
	}
	cfg.DebugRate = f.debugRate
	if f.debugRate == 0 {
		cfg.DebugRate = -1
	}
	cfg.DefaultProfile = f.authProfile
	cfg.ForwardAuthDebug.Mode = f.authDebug
	cfg.ForwardAuthDebug.DebugSettings = core.NewWebservice("", core.Provider).Debug
	cfg.Headers = headers
	cfg.MaxBodySize, cfg.MaxInvokeBodySize = maxBody, maxInvoke
	cfg.Timeouts = serve.Timeouts{ReadHeader: f.readHeaderTimeout, Upstream: f.upstreamTimeout, Shutdown: f.shutdownTimeout}
	cfg.ReloadInterval = f.reloadInterval
	cfg.NoScheduler = f.noScheduler
	cfg.InvokeOpenOnTCP = f.invokeOpen
	return cfg, nil
}

// serve opens everything and runs the server until the context ends.
func (a *app) serve(cmd *cobra.Command, f serveFlags, cfg serve.Config) error {
	ctx := cmd.Context()
	a.log = a.serveLogger()
	a.watch = serve.NewTokenWatch()
	if _, err := a.open(ctx); err != nil {
		return err
	}
	if cfg.DefaultProfile != "" {
		if _, err := a.store.Profile(ctx, cfg.DefaultProfile); err != nil {
			return fmt.Errorf("--auth-profile: %w", err)
		}
	}
	cfg.Store = a.store
	// Every instance on this database holds its key: each accepts the
	// DPoP nonces the others issue.
	cfg.NonceKey = a.store.Key().Derive("dpop nonce")
	if _, several := a.store.(*postgres.DB); several {
		// Instances on several hosts: a DPoP proof used at one is
		// refused at the others, for one database write per DPoP call.
		// One SQLite file has one serve, whose memory is enough.
		cfg.SharedReplay = a.store
	}
	cfg.Validator = a.svc.validator
	cfg.Tokens, cfg.TokenWatch = a.svc.tokens, a.watch
	cfg.Grants = a.svc.grants // logins whose https redirect URI serve answers
	cfg.Logger = a.log
	cfg.Version = buildinfo.Read().Short()
	srv, err := serve.New(ctx, cfg)
	if errors.Is(err, tokens.ErrBadSchedule) {
		// A setting to fix, not a failure to retry: exit 2 with the reason.
		return usageError{err}
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var sock net.Listener
	if f.socket != "" {
		if sock, err = serve.ListenUnixGroup(f.socket, f.socketGroup); err != nil {
			ln.Close()
			return err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				a.log.Info("SIGHUP: reloading the configuration")
				if err := srv.Reload(runCtx); err != nil {
					a.log.Error("reload failed", "err", err)
				}
			}
		}
	}()
	return srv.Run(ctx, ln, sock)
}

// serveLogger logs as JSON when standard error is not a terminal
// (journald, files), as text when it is; at info unless --log-level says
// otherwise.
func (a *app) serveLogger() *slog.Logger {
	level := slog.LevelInfo
	if a.logLevel != "" {
		_ = level.UnmarshalText([]byte(a.logLevel)) // checked by setup
	}
	format := logs.JSON
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		format = logs.Text
	}
	return a.logger(level, format)
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

// positiveSize reads a size that must be more than zero.
func positiveSize(s string) (int64, error) {
	n, err := config.ParseSize(s)
	if err == nil && n == 0 {
		err = errors.New("want a positive size such as 1048576, 512KiB or 10MiB")
	}
	return n, err
}
