package grant

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// DefaultCallbackPath is the path of the loopback redirect URI. Most
// providers accept a native app's loopback redirect on any port only when
// the path is the registered one: register http://127.0.0.1/callback.
const DefaultCallbackPath = "/callback"

// ListenOptions configure the loopback callback server.
type ListenOptions struct {
	// Host is the host of the redirect URI: "127.0.0.1" (the default, as
	// RFC 8252 §7.3 recommends), "::1", or "localhost", which binds both
	// 127.0.0.1 and [::1] (the latter where the machine has IPv6).
	Host string
	// Port is the port to bind; 0 picks a free one.
	Port int
	// Path is the redirect URI's path; "" means DefaultCallbackPath.
	Path string
}

// Callback is a one-shot loopback callback server (RFC 8252 §7.3) for the
// authorization code flow. It answers the browser with a short page saying
// whether the login worked and that the window can be closed, and shuts
// down when Wait returns: after a success, a failure, the context's end
// (Ctrl-C, a timeout) or Close. A request with a wrong or missing state is
// refused with a page saying so, and the wait goes on.
type Callback struct {
	// RedirectURI is the redirect URI to send, e.g.
	// "http://127.0.0.1:43123/callback".
	RedirectURI string
	// Port is the bound port, for an `ssh -L port:127.0.0.1:port` line.
	Port int

	path      string
	v6Only    bool // listening on [::1] only
	srv       *http.Server
	requests  chan callbackRequest
	closed    chan struct{}
	closeOnce sync.Once
	served    sync.WaitGroup
}

type callbackRequest struct {
	query url.Values
	reply chan page
}

type page struct {
	status int
	title  string
	text   string
}

// Listen starts a callback server. It closes when ctx ends.
func Listen(ctx context.Context, opts ListenOptions) (*Callback, error) {
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	var binds []string
	switch host {
	case "127.0.0.1":
		binds = []string{"127.0.0.1"}
	case "::1":
		binds = []string{"::1"}
	case "localhost":
		binds = []string{"127.0.0.1", "::1"}
	default:
		return nil, fmt.Errorf("callback host %q: want 127.0.0.1, ::1 or localhost (RFC 8252 loopback)", opts.Host)
	}
	path := opts.Path
	if path == "" {
		path = DefaultCallbackPath
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}

	lns, port, err := bindLoopback(ctx, binds, opts.Port)
	if err != nil {
		return nil, err
	}
	cb := &Callback{
		RedirectURI: (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: path}).String(),
		Port:        port,
		path:        path,
		v6Only:      host == "::1",
		requests:    make(chan callbackRequest),
		closed:      make(chan struct{}),
	}
	cb.srv = &http.Server{
		Handler:           cb,
		ReadHeaderTimeout: 10 * time.Second,
	}
	for _, ln := range lns {
		cb.served.Add(1)
		go func() {
			defer cb.served.Done()
			_ = cb.srv.Serve(ln)
		}()
	}
	stop := context.AfterFunc(ctx, cb.Close)
	go func() {
		<-cb.closed
		stop()
	}()
	return cb, nil
}

// bindLoopback listens on each host at one port (port 0: a free one, the
// same on every host). [::1] is skipped where the machine has no IPv6
// unless it is the only host.
func bindLoopback(ctx context.Context, hosts []string, port int) ([]net.Listener, int, error) {
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		var lns []net.Listener
		p := port
		var err error
		for i, h := range hosts {
			var ln net.Listener
			ln, err = lc.Listen(ctx, "tcp", net.JoinHostPort(h, strconv.Itoa(p)))
			if err != nil {
				if i > 0 && h == "::1" && isNoIPv6(err) {
					err = nil
					continue
				}
				if port != 0 && errors.Is(err, syscall.EADDRINUSE) {
					err = fmt.Errorf("port %d on %s is taken (another program, or another login, listens there): "+
						"stop it, or choose another port in the redirect URI: %w", port, h, err)
				}
				break
			}
			lns = append(lns, ln)
			p = ln.Addr().(*net.TCPAddr).Port
		}
		if err == nil {
			return lns, p, nil
		}
		for _, ln := range lns {
			ln.Close()
		}
		// With a free port on the first host taken on the second, try
		// another free port.
		if port != 0 || len(lns) == 0 || attempt >= 5 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, 0, fmt.Errorf("callback server: %w", err)
		}
	}
}

func isNoIPv6(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

// Close stops the server, after the last page was written. It is safe to
// call more than once.
func (cb *Callback) Close() {
	cb.closeOnce.Do(func() {
		close(cb.closed)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if cb.srv.Shutdown(ctx) != nil {
			_ = cb.srv.Close()
		}
		cb.served.Wait()
	})
}

// ServeHTTP hands a callback to Wait and answers with the page Wait
// chooses.
func (cb *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != cb.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	req := callbackRequest{query: r.URL.Query(), reply: make(chan page, 1)}
	select {
	case cb.requests <- req:
	case <-cb.closed:
		writePage(w, page{http.StatusGone, "Login already finished", "This login has already finished. You can close this window."})
		return
	case <-r.Context().Done():
		return
	}
	select {
	case pg := <-req.reply:
		writePage(w, pg)
	case <-r.Context().Done():
	}
}

// Wait serves callbacks for flow f until one ends it, and returns the
// tokens. Callbacks with a wrong or missing state are refused and the wait
// goes on. When ctx ends first, the error wraps context.Cause(ctx)
// (context.DeadlineExceeded for a timeout, context.Canceled for Ctrl-C).
// The server is closed when Wait returns.
func (cb *Callback) Wait(ctx context.Context, f *AuthCodeFlow) (core.TokenSet, error) {
	defer cb.Close()
	for {
		select {
		case <-ctx.Done():
			return core.TokenSet{}, cb.ended(ctx, f)
		case <-cb.closed:
			return core.TokenSet{}, cb.ended(ctx, f)
		case req := <-cb.requests:
			set, err := f.Exchange(ctx, req.query)
			switch {
			case errors.Is(err, ErrStateMismatch):
				f.c.logger().Warn("grant: refused a callback with a wrong state", "account", f.a.Name, "err", err)
				req.reply <- page{http.StatusBadRequest, "Not this login",
					"This response does not belong to the login oidcctl is waiting for (wrong state), so it was ignored. " +
						"If you started a new login since, use its window."}
				continue
			case err != nil:
				req.reply <- page{http.StatusBadRequest, "Login failed", err.Error()}
				return core.TokenSet{}, err
			}
			req.reply <- page{http.StatusOK, "Login complete", "oidcctl has the tokens for " + f.a.Name + ". You can close this window."}
			return set, nil
		}
	}
}

// ended says why Wait stopped before a callback ended the login. The server
// closes when ctx ends, so Wait may see the close first: the cause of ctx
// comes before the close.
func (cb *Callback) ended(ctx context.Context, f *AuthCodeFlow) error {
	if ctx.Err() != nil {
		return fmt.Errorf("authorization_code for %s: waiting for the login at %s: %w", f.a.Name, cb.RedirectURI, context.Cause(ctx))
	}
	return fmt.Errorf("authorization_code for %s: the callback server was closed", f.a.Name)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>oidcctl: {{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto;">
<h1 id="title">{{.Title}}</h1>
<p id="message">{{.Text}}</p>
</body></html>
`))

func writePage(w http.ResponseWriter, pg page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(pg.status)
	_ = pageTemplate.Execute(w, struct{ Title, Text string }{pg.title, pg.text})
}

// ListenRedirect starts a callback server for a configured redirect URI
// (see core.CheckRedirectURI): on its host ("localhost" binds 127.0.0.1
// and [::1]), its port (none or 0: a free one) and its path ("" is "/").
// The server's RedirectURI is then exactly the configured one, with the
// bound port filled in when it was free. "" is the default,
// http://127.0.0.1:<free port>/callback. A fixed port that is taken gives
// an error naming it.
func ListenRedirect(ctx context.Context, redirectURI string) (*Callback, error) {
	if redirectURI == "" {
		return Listen(ctx, ListenOptions{})
	}
	if msg := core.CheckRedirectURI(redirectURI); msg != "" {
		return nil, fmt.Errorf("redirect URI %s", msg)
	}
	if core.IsServeRedirect(redirectURI) {
		return nil, fmt.Errorf("redirect URI %q is answered by `oidcctl serve`, not by a loopback callback: %w", redirectURI, ErrServeRedirect)
	}
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, fmt.Errorf("redirect URI %q: %w", redirectURI, err)
	}
	port := 0
	if s := u.Port(); s != "" {
		if port, err = strconv.Atoi(s); err != nil {
			return nil, fmt.Errorf("redirect URI %q: port: %w", redirectURI, err)
		}
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	cb, err := Listen(ctx, ListenOptions{Host: u.Hostname(), Port: port, Path: path})
	if err != nil {
		return nil, fmt.Errorf("redirect URI %s: %w", redirectURI, err)
	}
	if port != 0 {
		cb.RedirectURI = redirectURI
	} else {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(cb.Port))
		cb.RedirectURI = u.String()
	}
	return cb, nil
}

// AuthorizeLoopback runs a whole authorization code login: a callback
// server on the redirect URI of the account, else of its profile (see
// core.RedirectURIFor; by default 127.0.0.1 at a free port with path
// /callback), the authorization request, and the
// wait for the callback. open shows the authorization URL to the person
// and opens a browser where there is one; it runs alongside the wait and
// should return once the URL is shown; an error from it ends the login.
// timeout bounds the wait; 0 means the profile's state TTL
// (core.Misc.StateTTL), after which the state would be refused anyway.
func (c *Client) AuthorizeLoopback(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account,
	open func(authURL string) error, timeout time.Duration) (core.TokenSet, error) {
	if open == nil {
		return core.TokenSet{}, fmt.Errorf("authorization_code for %s: nothing to show the authorization URL with", a.Name)
	}
	if timeout <= 0 {
		timeout = p.Misc.StateTTL()
	}
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("gave up after %s: %w", timeout, context.DeadlineExceeded))
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	cb, err := ListenRedirect(ctx, core.RedirectURIFor(p, a))
	if err != nil {
		return core.TokenSet{}, fmt.Errorf("authorization_code for %s: %w", a.Name, err)
	}
	defer cb.Close()
	f, err := c.StartAuthCode(p, d, a, cb.RedirectURI)
	if err != nil {
		return core.TokenSet{}, err
	}
	go func() {
		if err := open(f.URL); err != nil {
			cancel(fmt.Errorf("opening the authorization URL: %w", err))
		}
	}()
	return cb.Wait(ctx, f)
}
