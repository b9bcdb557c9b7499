package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/logs"
	"oidcctl/core/serve"
	"oidcctl/db"
	"oidcctl/db/postgres"
	"oidcctl/tui"
)

// Exit codes that scripts can branch on.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a run of oidcctl gets from its process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// now is the clock of what is shown relative to now (token list);
	// time.Now when nil.
	now func() time.Time
}

// clock returns the time now, as env.now says.
func (e env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// app is the state shared by the commands of one run.
type app struct {
	env
	dbFlag   string
	output   string
	logLevel string
	// jqExpr is --jq; jq, when set, filters what the command writes.
	jqExpr string
	jq     *jqFilter
	log    *slog.Logger
	store  openedStore
	// svc are the services on store, built by open.
	svc *services
	// watch, when set before open (serve), hears of the tokens the token
	// manager obtains.
	watch *serve.TokenWatch
}

// openedStore is the database a run works on: a SQLite file (*db.DB) or
// a PostgreSQL database (*postgres.DB).
type openedStore interface {
	core.Store
	Close() error
	// Path says where the database is, for people: never a password.
	Path() string
	// Key is the key that seals its secrets.
	Key() *crypt.Key
}

// usageError marks an error in how oidcctl was called: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// run runs oidcctl with args and returns its exit code.
func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if a.jq != nil {
		if jerr := a.jq.close(); err == nil && jerr != nil {
			err = jerr
		}
	}
	if a.store != nil {
		if cerr := a.store.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	if err == nil {
		return exitOK
	}
	if err.Error() != "" {
		printError(e.stderr, err)
	}
	if isUsage(err) {
		return exitUsage
	}
	var code exitCodeError
	if errors.As(err, &code) {
		return code.code
	}
	return exitFailure
}

// exitCodeError ends a run with a given exit code after printing err.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || errors.Is(err, core.ErrInvalid)
}

// printError writes err for a person: a validation error one problem a line.
func printError(w io.Writer, err error) {
	var v *core.ValidationError
	if errors.As(err, &v) && err.Error() == v.Error() {
		fmt.Fprintf(w, "oidcctl: invalid %s %q:\n", v.Kind, v.Name)
		for _, p := range v.Problems {
			fmt.Fprintf(w, "  - %s %s\n", tui.Escape(p.Field), tui.Escape(p.Problem))
		}
		return
	}
	// An error may quote a provider or a file: escaped for the terminal.
	fmt.Fprintf(w, "oidcctl: %s\n", tui.EscapeText(err.Error()))
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "oidcctl",
		Short: "OpenID Connect for API calls in both directions",
		Long: `oidcctl manages OpenID Connect provider profiles and functional accounts,
obtains and refreshes their tokens for outgoing API calls, and validates
bearer tokens of incoming calls.

Without a command it opens the console on the database.`,
		Example: `  oidcctl profile add keycloak --discovery-url https://idp.example/realms/master/.well-known/openid-configuration \
      --client-id someapi --client-secret-file ./secret
  oidcctl profile test keycloak
  oidcctl account add billing --profile keycloak --grant-type client_credentials --scope "openid offline_access"`,
		Args:              noArgs,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: a.setup,
		RunE:              a.runConsole,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbFlag, "db", "", "database file, or a PostgreSQL URL or key=value string (default $OIDCCTL_DB, $STATE_DIRECTORY/oidcctl.db under systemd, db= in /etc/oidcctl/oidcctl.conf, else $XDG_DATA_HOME/oidcctl/oidcctl.db)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn or error (default warn; info for serve)")
	pf.StringVar(&a.jqExpr, "jq", "", "filter the JSON output with a jq expression (implies -o json; strings are printed without quotes)")
	root.AddCommand(a.profileCommand(), a.accountCommand(), a.tokenCommand(), a.userCommand(), a.importUser(), a.configCommand(), a.webserviceCommand(), a.debugCommand(), a.serveCommand())
	root.AddCommand(a.versionCommand(), a.manCommand(), a.dbCommand())
	a.finishCommands(root)
	return root
}

// setup checks the global flags and sets up logging.
func (a *app) setup(cmd *cobra.Command, _ []string) error {
	if a.output != "table" && a.output != "json" {
		return usagef("--output %q: want table or json", a.output)
	}
	if err := a.setupJQ(cmd); err != nil {
		return err
	}
	level := slog.LevelWarn
	if a.logLevel != "" {
		if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
			return usagef("--log-level %q: want debug, info, warn or error", a.logLevel)
		}
	}
	a.log = a.logger(level, logs.Text)
	return nil
}

// open opens the database, creating it and its key on first use, and
// builds the services on it, once per run, logging to a.log.
func (a *app) open(ctx context.Context) (core.Registry, error) {
	if a.svc == nil {
		store, err := a.openStore(ctx)
		if err != nil {
			return core.Registry{}, err
		}
		a.svc = newServices(store, a.log, a.watch)
	}
	return core.Registry{Store: a.store}, nil
}

// openStore opens the database, creating it and its key on first use.
func (a *app) openStore(ctx context.Context) (openedStore, error) {
	if a.store != nil {
		return a.store, nil
	}
	path, keyEnv, err := a.locate()
	if err != nil {
		return nil, err
	}
	if postgres.IsConnString(path) {
		return a.openPostgres(ctx, path, keyEnv)
	}
	keyPath, create := crypt.KeyLocation(path, keyEnv)
	// A database that holds sealed secrets needs its own key: a new one
	// would be left behind and then refused as "does not fit".
	sealedBy, err := db.SealedBy(ctx, path)
	if err != nil {
		return nil, err
	}
	key, err := crypt.LoadKey(keyPath, create && sealedBy == "")
	if errors.Is(err, fs.ErrNotExist) && sealedBy != "" {
		return nil, &crypt.MissingKeyError{Path: keyPath, Database: path, SealedBy: sealedBy}
	}
	if err != nil {
		return nil, err
	}
	if key.Warning != "" {
		a.log.Warn(key.Warning)
	}
	store, err := db.OpenWith(ctx, path, key, db.Options{Log: a.log})
	if err != nil {
		return nil, err
	}
	a.log.Debug("database open", "path", path, "key", keyPath, "key_id", key.ID())
	a.store = store
	return store, nil
}

// openPostgres opens the PostgreSQL database conn names. The key is
// looked for as for a SQLite file (systemd credential, OIDCCTL_KEY_FILE),
// else beside where the SQLite file would be by default ($STATE_DIRECTORY,
// the XDG data directory); it is created there only while the
// database holds no secrets, so that a second host without the key is
// refused instead of starting with a key of its own.
func (a *app) openPostgres(ctx context.Context, conn string, keyEnv func(string) string) (openedStore, error) {
	store, err := a.openPostgresKeyed(ctx, conn, keyEnv, true)
	if err != nil {
		return nil, err
	}
	a.store = store
	return store, nil
}

// openPostgresKeyed opens the PostgreSQL database conn with the run's key,
// looked for in keyEnv (the environment and the host-wide file, as
// locate returns it); mayCreate lets it make a key while the database
// holds no secrets yet.
func (a *app) openPostgresKeyed(ctx context.Context, conn string, keyEnv func(string) string, mayCreate bool) (*postgres.DB, error) {
	key, keyPath, err := a.postgresKey(ctx, conn, keyEnv, mayCreate)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("read secret key %s: %w", keyPath, fs.ErrNotExist)
	}
	store, err := postgres.Open(ctx, conn, key)
	if err != nil {
		return nil, err
	}
	a.log.Debug("database open", "database", store.Path(), "key", keyPath, "key_id", key.ID())
	return store, nil
}

// postgresKey loads the run's key for the PostgreSQL database conn (see
// openPostgres) in keyEnv and says where it looked. mayCreate lets it make
// a key while the database holds no secrets yet; without it, such a
// database with no key file gives a nil key and no error.
func (a *app) postgresKey(ctx context.Context, conn string, keyEnv func(string) string, mayCreate bool) (*crypt.Key, string, error) {
	home, err := db.ResolvePath("", func(k string) string {
		if k == "OIDCCTL_DB" {
			return ""
		}
		return keyEnv(k)
	})
	if err != nil {
		return nil, "", err
	}
	keyPath, create := crypt.KeyLocation(home, keyEnv)
	sealedBy, err := postgres.SealedBy(ctx, conn)
	if err != nil {
		return nil, "", err
	}
	key, err := crypt.LoadKey(keyPath, mayCreate && create && sealedBy == "")
	if errors.Is(err, fs.ErrNotExist) && sealedBy != "" {
		return nil, "", &crypt.MissingKeyError{Path: keyPath, Database: postgresName(conn), SealedBy: sealedBy}
	}
	if errors.Is(err, fs.ErrNotExist) && !mayCreate {
		return nil, keyPath, nil
	}
	if err != nil {
		return nil, "", err
	}
	if key.Warning != "" {
		a.log.Warn(key.Warning)
	}
	return key, keyPath, nil
}

// postgresName is where a PostgreSQL database is, for an error before it
// is open: the connection string with any password masked.
func postgresName(conn string) string {
	return "PostgreSQL " + postgres.Redact(conn)
}

// noArgs, exactArgs: cobra's argument checks, as usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q (see %s --help)", cmd.CommandPath(), strings.Join(args, " "), cmd.CommandPath())
	}
	return nil
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s needs %s (see %s --help)", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}
