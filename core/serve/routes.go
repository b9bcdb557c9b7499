package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"oidcctl/core"
)

// routeTable is the configuration one request is served with: built by
// Reload, never changed afterwards.
type routeTable struct {
	version     int64
	loadedAt    time.Time
	profiles    map[string]core.Profile
	accounts    map[string]core.Account
	webservices map[string]*route
	// validation are the series of oidcctl_validation_duration_seconds
	// by profile, each looked up on its first use with this table.
	validation map[string]*lazy[prometheus.Observer]
}

// validationObserver is the validation histogram's series of a profile.
func (s *Server) validationObserver(t *routeTable, profile string) prometheus.Observer {
	if l := t.validation[profile]; l != nil {
		return l.get(func() prometheus.Observer { return s.metrics.validation.WithLabelValues(profile) })
	}
	return s.metrics.validation.WithLabelValues(profile)
}

// route is a webservice ready to serve.
type route struct {
	core.Webservice
	segments []string // provider: the route split at "/"
	upstream *url.URL // provider
	proxy    *httputil.ReverseProxy
	endpoint *url.URL // requester: Endpoint + Path
	// credentials are the invoke credentials of a requester webservice.
	credentials []core.InvokeCredential
	// series are the webservice's request metrics, looked up on first
	// use with this table.
	series callSeries
}

func (s *Server) routes() *routeTable { return s.table.Load() }

// Reload reads profiles, accounts and webservices and swaps in a new
// route table, and reads the secrets the debugger redacts (see
// secretBook); requests in flight keep the table they started with. A
// webservice that cannot be served (a bad upstream URL) is left out and
// logged; a failure to read the store keeps the current table.
func (s *Server) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	t, err := s.load(ctx)
	if err != nil {
		s.metrics.reloads.WithLabelValues("failure").Inc()
		return fmt.Errorf("serve: load configuration: %w", err)
	}
	// The secrets the debugger redacts, before a call can see them.
	s.secrets.setConfig(t.profiles, t.accounts)
	if err := s.loadTokenSecrets(ctx); err != nil {
		s.log.Warn("debugger: cannot read the token store; tokens refreshed elsewhere may not be redacted", "err", err)
	}
	old := s.table.Swap(t)
	s.metrics.reloads.WithLabelValues("success").Inc()
	s.metrics.configVersion.Set(float64(t.version))
	if old != nil {
		// A user may have changed: results cached by the validator must
		// not outlive that.
		s.validator.Purge()
		s.log.Info("configuration reloaded", "version", t.version, "webservices", len(t.webservices))
		notify(s.log, "STATUS="+s.status())
	}
	s.warm.update(t)
	select {
	case s.reloaded <- struct{}{}:
	default: // the scheduler has not taken the last one yet: one will do
	}
	return nil
}

func (s *Server) load(ctx context.Context) (*routeTable, error) {
	// The version first: a change made while loading shows as a newer
	// version at the next poll, never as a missed one.
	version, err := s.store.ConfigVersion(ctx)
	if err != nil {
		return nil, err
	}
	profiles, err := s.store.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	accounts, err := s.store.Accounts(ctx, "")
	if err != nil {
		return nil, err
	}
	webservices, err := s.store.Webservices(ctx)
	if err != nil {
		return nil, err
	}
	credentials, err := s.store.Credentials(ctx, "")
	if err != nil {
		return nil, err
	}
	t := &routeTable{
		version:     version,
		loadedAt:    s.now(),
		profiles:    make(map[string]core.Profile, len(profiles)),
		accounts:    make(map[string]core.Account, len(accounts)),
		webservices: make(map[string]*route, len(webservices)),
		validation:  make(map[string]*lazy[prometheus.Observer], len(profiles)),
	}
	for _, p := range profiles {
		t.profiles[p.Name] = p
		t.validation[p.Name] = &lazy[prometheus.Observer]{}
	}
	for _, a := range accounts {
		t.accounts[a.Name] = a
	}
	for _, w := range webservices {
		r, err := s.newRoute(w)
		if err != nil {
			s.log.Error("webservice left out", "webservice", w.Name, "err", err)
			continue
		}
		t.webservices[w.Name] = r
	}
	for _, c := range credentials {
		if r := t.webservices[c.Webservice]; r != nil {
			r.credentials = append(r.credentials, c)
		}
	}
	return t, nil
}

func (s *Server) newRoute(w core.Webservice) (*route, error) {
	r := &route{Webservice: w}
	switch w.Kind {
	case core.Provider:
		u, err := url.Parse(w.Upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("upstream %q is not an http(s) URL", w.Upstream)
		}
		r.upstream = u
		r.segments = splitPath(w.Route)
		r.proxy = s.newProxy(r)
	case core.Requester:
		u, err := url.Parse(strings.TrimRight(w.Endpoint, "/") + w.Path)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("endpoint %q with path %q is not an http(s) URL", w.Endpoint, w.Path)
		}
		r.endpoint = u
	default:
		return nil, fmt.Errorf("unknown kind %q", w.Kind)
	}
	return r, nil
}

// splitPath splits "/a/b" into ["a", "b"]; "/" gives none.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match matches the path after /ws/NAME against the route and returns
// its parameters.
func (r *route) match(rest string) (map[string]string, bool) {
	segs := splitPath(rest)
	if len(segs) != len(r.segments) || (rest != "" && !strings.HasPrefix(rest, "/")) {
		return nil, false
	}
	var params map[string]string
	for i, want := range r.segments {
		got := segs[i]
		if got == "" || got == "." || got == ".." {
			return nil, false
		}
		if name, ok := strings.CutPrefix(want, ":"); ok {
			if params == nil {
				params = make(map[string]string)
			}
			params[name] = got
			continue
		}
		if got != want {
			return nil, false
		}
	}
	return params, true
}

// allows reports whether the provider webservice takes a method.
func (r *route) allows(method string) bool {
	for _, m := range r.Methods {
		if m == method {
			return true
		}
	}
	return false
}

// debugSettings returns the debugger's settings by webservice, for the
// recorder's pruning.
func (s *Server) debugSettings() map[string]core.DebugSettings {
	t := s.routes()
	out := make(map[string]core.DebugSettings, len(t.webservices)+1)
	for name, r := range t.webservices {
		out[name] = r.Debug
	}
	out[""] = s.cfg.ForwardAuthDebug.DebugSettings
	return out
}

// pollReload reloads when the store's configuration version changes: it
// reads the version every ReloadInterval and, when the store is a
// core.ChangeNotifier (PostgreSQL's LISTEN/NOTIFY), also at once after
// each of its signals, so that a change made on another host arrives
// within a second. The poll stays as the fallback for the time the
// store cannot listen.
func (s *Server) pollReload(ctx context.Context) {
	every := orDefault(s.cfg.ReloadInterval, DefaultReloadInterval)
	tick := time.NewTicker(every)
	defer tick.Stop()
	var changes <-chan struct{}
	if n, ok := s.store.(core.ChangeNotifier); ok {
		changes = n.ConfigChanges(ctx)
	}
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case _, ok := <-changes:
			if !ok {
				changes = nil // the poll goes on alone
				continue
			}
		}
		v, err := s.store.ConfigVersion(ctx)
		if err != nil {
			if !failing && ctx.Err() == nil {
				s.log.Warn("cannot read the configuration version; serving the configuration loaded before", "err", err)
			}
			failing = true
			continue
		}
		failing = false
		if v == s.routes().version {
			continue
		}
		if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reload failed; serving the configuration loaded before", "err", err)
		}
	}
}

// newProxy builds the reverse proxy of a provider webservice.
func (s *Server) newProxy(r *route) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) { s.rewrite(r, pr) },
		Transport:    s.transport,
		ErrorHandler: s.proxyError,
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}
