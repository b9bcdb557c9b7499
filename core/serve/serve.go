package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/jwks"
	"oidcctl/core/serve/debuglog"
	"oidcctl/core/tokens"
	"oidcctl/core/validate"
)

// Store is what serve needs of the database; *db.DB is one.
type Store interface {
	core.ProfileStore
	core.AccountStore
	core.DiscoveryCache
	core.TokenStore
	core.SettingStore
	core.WebserviceStore
	core.CredentialStore
	core.DebugStore
	core.ChangeCounter
}

// HeaderNames name the headers that carry the user of an accepted token:
// in forward-auth answers, and to provider upstreams.
type HeaderNames struct {
	User    string // default X-Auth-User
	Roles   string // default X-Auth-Roles (comma-separated)
	Subject string // default X-Auth-Subject
}

// Timeouts of the HTTP server and of calls to upstreams and endpoints.
type Timeouts struct {
	ReadHeader time.Duration // default 10s: a client that sends its headers slower is cut
	Read       time.Duration // default 2m: the whole request, body included
	Write      time.Duration // default 5m: from the end of the request headers to the end of the answer
	Idle       time.Duration // default 2m: keep-alive
	// Upstream bounds the wait for the response headers of an upstream or
	// endpoint; default 60s.
	Upstream time.Duration
	// Shutdown bounds the wait for requests in flight when Run stops;
	// default 30s.
	Shutdown time.Duration
}

// Defaults of a Config.
const (
	DefaultMaxBodySize       = 10 << 20
	DefaultMaxInvokeBodySize = 1 << 20
	DefaultReloadInterval    = 3 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 2 * time.Minute
	DefaultWriteTimeout      = 5 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultUpstreamTimeout   = 60 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
)

// Config is what a Server is built from. Store and Validator are
// required, and TokenWatch with Tokens. New changes none of them: the
// caller builds them right, once (cmd/oidcctl's services).
type Config struct {
	Store Store
	// Validator validates incoming tokens (build it with validate.New,
	// with a discovery.Client on Store); serve fetches the keys of the
	// profiles in use with its discovery source and key cache ahead of the
	// first call (/readyz).
	Validator *validate.Validator
	// Tokens hands out the tokens of requester webservices and the token
	// socket, and is what the refresh scheduler runs. Nil: no requester
	// webservices, no token socket, no scheduler.
	Tokens *tokens.Manager
	// TokenWatch is the watch whose Observe Tokens was built with
	// (tokens.Config.Observe): it counts the manager's calls to the
	// provider for /metrics and has the debugger redact the tokens they
	// bring. Required with Tokens; nil without means a watch of the
	// server's own (for the secrets of the profiles and accounts).
	TokenWatch *TokenWatch
	// NoScheduler leaves refreshing to another process. Without it, New
	// refuses a stored refresh schedule that cannot be run (one that
	// never fires: tokens.ErrBadSchedule).
	NoScheduler bool
	// SchedulerConcurrency bounds the accounts refreshed at once; 0 means 4.
	SchedulerConcurrency int

	// DefaultProfile is the profile of forward-auth calls that name none.
	DefaultProfile string
	// Headers names the user headers; zero fields mean the defaults.
	Headers HeaderNames
	// ForwardAuthDebug is the debugger's setting for forward-auth calls;
	// the zero value records refusals only, with the default limits.
	ForwardAuthDebug ForwardAuthDebug

	// InvokeOpenOnTCP lets requester webservices take calls on the TCP
	// listener without an invoke credential: anyone who can reach it (every
	// local user, for a loopback address) calls with the accounts' tokens.
	// Run logs a warning. Off, a TCP caller must present a credential
	// issued for the webservice (core.CredentialHeader); callers on the
	// token socket never need one, its file permissions decide.
	InvokeOpenOnTCP bool

	// NonceKey is the key of the DPoP nonces serve issues (--dpop-nonce
	// profiles): every serve with the same key accepts the nonces of the
	// others, as instances behind one load balancer must (cmd/oidcctl
	// derives it from the database's sealing key, which they share). Nil:
	// a random key of this process, whose nonces only it accepts.
	NonceKey []byte
	// SharedReplay, when set, is asked about every DPoP proof that this
	// process has not seen, so that a proof used at one instance is
	// refused at every other on the same database (cmd/oidcctl sets it
	// on PostgreSQL): one database write per DPoP call. When it fails,
	// the call is judged by this process's memory alone, as without it,
	// and the failure is counted (oidcctl_dpop_replay_store_errors_total)
	// and logged at most once a minute. Nil: each process remembers the
	// proofs it saw, and a proof can be used once at each instance.
	SharedReplay core.ReplayStore

	// MaxBodySize bounds the body of a call to a provider webservice (413
	// beyond); 0 means DefaultMaxBodySize.
	MaxBodySize int64
	// MaxInvokeBodySize bounds the body of a call to a requester
	// webservice, which is buffered for a retry; 0 means
	// DefaultMaxInvokeBodySize.
	MaxInvokeBodySize int64
	Timeouts          Timeouts
	// ReloadInterval is how often the store's ConfigVersion is polled; 0
	// means DefaultReloadInterval. A new refresh schedule takes effect
	// within it too: the scheduler reads the schedule at every reload.
	ReloadInterval time.Duration
	// Transport carries calls to upstreams and endpoints; nil means a
	// clone of http.DefaultTransport with the Upstream timeout.
	Transport http.RoundTripper

	// DebugWriter tunes the debugger's writer; zero fields mean the
	// defaults of package debuglog.
	DebugWriter DebugWriter
	// DebugRate bounds the calls the debugger records per second, per
	// webservice and for forward-auth (bursts of four times as many); 0
	// means DefaultDebugRate, negative no bound.
	DebugRate int

	// Grants completes logins through serve: the browser's return to the
	// https redirect URI of an account or profile (see login.go). Nil:
	// such returns are answered with a page saying that logins are not
	// served here.
	Grants *grant.Client

	// Version is reported in the serve status (core.ServeStatus).
	Version string

	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// DebugWriter tunes how debugger entries are written (see
// debuglog.Recorder).
type DebugWriter struct {
	QueueSize     int
	BatchSize     int
	FlushInterval time.Duration
	PruneInterval time.Duration
}

// ForwardAuthDebug says what the debugger keeps of forward-auth calls.
type ForwardAuthDebug struct {
	// Mode is "refused" (the default: refusals and errors), "all" or
	// "off".
	Mode string
	core.DebugSettings
}

// Forward-auth debugger modes.
const (
	DebugRefused = "refused"
	DebugAll     = "all"
	DebugOff     = "off"
)

// Server is `oidcctl serve`. It is an http.Handler; Run serves it.
type Server struct {
	cfg       Config
	store     Store
	validator *validate.Validator
	docs      validate.Discoverer
	keys      *jwks.Cache
	log       *slog.Logger
	headers   HeaderNames // canonical names (withDefaults)
	transport http.RoundTripper
	client    *http.Client
	metrics   *metrics
	tokens    tokenSource
	debugRate *debugLimiter
	recorder  *debuglog.Recorder
	secrets   *secretBook // what the debugger redacts by value: the TokenWatch's
	dpop      *dpopGuard  // DPoP proofs of incoming tokens (dpop.go)
	logins    *loginGuard // browser returns with unknown states (loginguard.go)

	table    atomic.Pointer[routeTable]
	reloadMu sync.Mutex
	// reloaded tells the refresh scheduler that the configuration was
	// loaded again, so that it reads the schedule again.
	reloaded chan struct{}
	warm     warmer
	reporter *statusReporter
	stopping atomic.Bool // Run is stopping: /readyz says no
}

// New builds a server and loads its routes from the store. It changes
// nothing in cfg's validator, discovery client, key cache and token
// manager: it uses them as they were built.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.check(ctx); err != nil {
		return nil, err
	}
	if cfg.ForwardAuthDebug.Mode == "" {
		cfg.ForwardAuthDebug.Mode = DebugRefused
	}
	watch := cfg.TokenWatch
	if watch == nil {
		watch = NewTokenWatch()
	}
	s := &Server{
		cfg: cfg, store: cfg.Store, validator: cfg.Validator, docs: cfg.Validator.Discovery(), keys: cfg.Validator.Keys(),
		log:       cmp.Or(cfg.Logger, slog.Default()),
		headers:   cfg.Headers.withDefaults(),
		transport: cfg.Transport,
		secrets:   &watch.book,
		tokens:    noTokens{},
		debugRate: newDebugLimiter(debugRate(cfg.DebugRate)),
		logins:    newLoginGuard(),
		reloaded:  make(chan struct{}, 1),
	}
	if s.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = orDefault(cfg.Timeouts.Upstream, DefaultUpstreamTimeout)
		t.MaxIdleConnsPerHost = 64
		s.transport = t
	}
	s.client = &http.Client{
		Transport: s.transport,
		// The token must not follow a redirect elsewhere: the caller
		// gets the redirect.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.metrics = newMetrics(cfg.Store, watch.refreshes, s.log, s.now)
	s.metrics.registerCache(cfg.Validator)
	if cfg.Tokens != nil {
		s.tokens = secretTokens{tokenSource: cfg.Tokens, book: s.secrets}
	}
	rec := cfg.DebugWriter
	s.recorder = &debuglog.Recorder{
		Store:         cfg.Store,
		Settings:      s.debugSettings,
		Secrets:       s.secrets.Secrets,
		Now:           cfg.Now,
		Logger:        s.log,
		QueueSize:     rec.QueueSize,
		BatchSize:     rec.BatchSize,
		FlushInterval: rec.FlushInterval,
		PruneInterval: rec.PruneInterval,
		Written:       func(n int) { s.metrics.debugWritten.Add(float64(n)) },
		Dropped:       func(n int) { s.metrics.debugDropped.Add(float64(n)) },
	}
	var err error
	if s.dpop, err = newDPoPGuard(s.now, cfg.NonceKey); err != nil {
		return nil, err
	}
	if cfg.SharedReplay != nil {
		s.dpop.useShared(cfg.SharedReplay, s.log, s.metrics.dpopReplayErrors)
	}
	s.warm.s = s
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// check refuses a Config that lacks what New needs, or whose stored
// refresh schedule cannot be run.
func (cfg *Config) check(ctx context.Context) error {
	if cfg.Store == nil {
		return errors.New("serve: no store")
	}
	if cfg.Validator == nil {
		return errors.New("serve: no validator")
	}
	if cfg.Tokens != nil && cfg.TokenWatch == nil {
		// Without it, tokens the manager obtains would reach the debugger
		// unredacted until the next poll of the token store.
		return errors.New("serve: a token manager needs its TokenWatch (tokens.Config.Observe)")
	}
	switch cfg.ForwardAuthDebug.Mode {
	case "", DebugRefused, DebugAll, DebugOff:
	default:
		return fmt.Errorf("serve: forward-auth debug mode %q: want refused, all or off", cfg.ForwardAuthDebug.Mode)
	}
	if cfg.Tokens != nil && !cfg.NoScheduler {
		// A schedule that cannot be run is refused here, with the reason,
		// rather than found by the scheduler after READY=1.
		if _, err := tokens.LoadSchedule(ctx, cfg.Store); err != nil {
			return fmt.Errorf("serve: %w (change it with oidcctl config set)", err)
		}
	}
	return nil
}

// withDefaults fills in the default names of the fields that are "", in
// canonical form, so that an answer's header map takes them as they are.
func (h HeaderNames) withDefaults() HeaderNames {
	return HeaderNames{
		User:    http.CanonicalHeaderKey(cmp.Or(h.User, "X-Auth-User")),
		Roles:   http.CanonicalHeaderKey(cmp.Or(h.Roles, "X-Auth-Roles")),
		Subject: http.CanonicalHeaderKey(cmp.Or(h.Subject, "X-Auth-Subject")),
	}
}

// debugRate is the debugger's rate for Config.DebugRate: 0 means
// DefaultDebugRate, negative no bound (0 for newDebugLimiter).
func debugRate(rate int) int {
	switch {
	case rate == 0:
		return DefaultDebugRate
	case rate < 0:
		return 0
	}
	return rate
}

// Recorder returns the server's debugger writer (tests Sync it).
func (s *Server) Recorder() *debuglog.Recorder { return s.recorder }

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// since is the time from t to now on the server's clock. With the real
// clock it reads only the monotonic clock (time.Since), where now().Sub
// would read the wall clock too: the same duration for half the clock
// reads, twice on every call.
func (s *Server) since(t time.Time) time.Duration {
	if s.cfg.Now != nil {
		return s.cfg.Now().Sub(t)
	}
	return time.Since(t)
}

func orDefault[T ~int64 | ~int](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// httpServer returns an http.Server for h with the configured timeouts.
func (s *Server) httpServer(h http.Handler) *http.Server {
	t := s.cfg.Timeouts
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDefault(t.ReadHeader, DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(t.Read, DefaultReadTimeout),
		WriteTimeout:      orDefault(t.Write, DefaultWriteTimeout),
		IdleTimeout:       orDefault(t.Idle, DefaultIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// Requests do not inherit Run's context: a SIGTERM must let the
		// calls in flight finish, not cancel them.
		BaseContext: func(net.Listener) context.Context { return context.Background() },
	}
}

// Run serves ln (and the token socket sock, when not nil) until ctx ends:
// it starts the debugger's writer, the reload poller, the refresh
// scheduler, the key prefetch and the systemd watchdog, tells systemd
// READY=1, and, when ctx ends, STOPPING=1; then it drains requests in
// flight for up to Timeouts.Shutdown and writes what the debugger still
// holds. It returns nil after a clean stop.
func (s *Server) Run(ctx context.Context, ln net.Listener, sock net.Listener) error {
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var wg sync.WaitGroup
	recCtx, stopRec := context.WithCancel(context.WithoutCancel(ctx))
	recDone := make(chan struct{})
	go func() { defer close(recDone); s.recorder.Run(recCtx) }()
	wg.Go(func() { s.pollReload(bg) })
	wg.Go(func() { s.pollTokenSecrets(bg) })
	s.reporter = s.newStatusReporter(ln, sock)
	wg.Go(func() { s.reporter.run(bg) })
	if s.cfg.Tokens != nil && !s.cfg.NoScheduler {
		wg.Go(func() { s.runScheduler(bg) })
	}
	wg.Go(func() { s.warm.run(bg) })

	srv := s.httpServer(s)
	errc := make(chan error, 2)
	go func() { errc <- serveErr("http", srv.Serve(ln)) }()
	var sockSrv *http.Server
	if sock != nil {
		sockSrv = s.SocketServer()
		go func() { errc <- serveErr("token socket", sockSrv.Serve(sock)) }()
	}
	s.log.Info("serving", "listen", ln.Addr().String(), "socket", sockAddr(sock), "webservices", len(s.routes().webservices))
	if s.cfg.InvokeOpenOnTCP {
		s.log.Warn("requester webservices are open to anyone who can reach the listen address: every local user can make calls with the accounts' tokens, without an invoke credential",
			"listen", ln.Addr().String())
	}
	notify(s.log, "READY=1\nSTATUS="+s.status())
	wg.Go(func() { s.watchdog(bg) })

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		s.log.Error("serving failed", "err", err)
	}
	s.stopping.Store(true)
	notify(s.log, "STOPPING=1")
	s.log.Info("stopping: draining requests in flight", "timeout", orDefault(s.cfg.Timeouts.Shutdown, DefaultShutdownTimeout).String())
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(s.cfg.Timeouts.Shutdown, DefaultShutdownTimeout))
	defer cancel()
	if serr := srv.Shutdown(shutdown); serr != nil {
		s.log.Warn("requests still in flight after the shutdown timeout were cut", "err", serr)
		srv.Close()
	}
	if sockSrv != nil {
		if serr := sockSrv.Shutdown(shutdown); serr != nil {
			sockSrv.Close()
		}
	}
	stopBG()
	wg.Wait()
	stopRec()
	<-recDone
	s.reporter.stopped(ctx)
	s.log.Info("stopped")
	return err
}

func serveErr(what string, err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func sockAddr(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

func (s *Server) status() string {
	t := s.routes()
	return fmt.Sprintf("serving %d webservices, configuration version %d", len(t.webservices), t.version)
}

// runScheduler runs the refresh scheduler, starting it again after a
// minute when it fails (the schedule could not be read). The scheduler
// reads the schedule again after every reload of the configuration, so a
// new schedule takes effect within ReloadInterval (at once on SIGHUP).
func (s *Server) runScheduler(ctx context.Context) {
	// The requests' manager: its per-account locks keep the scheduler's
	// renewals and those of requests apart, its lease other processes.
	sch := &tokens.Scheduler{
		Manager:     s.cfg.Tokens,
		Settings:    s.store,
		Concurrency: orDefault(s.cfg.SchedulerConcurrency, 4),
		Changed:     s.reloaded,
		Ran:         s.reporter.ran,
	}
	for {
		err := sch.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Error("refresh scheduler stopped; starting it again in a minute", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}
