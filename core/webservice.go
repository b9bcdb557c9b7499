package core

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebserviceKind says which way a webservice's calls go.
type WebserviceKind string

// The kinds of webservice, as the manual's GenericInterface names them.
const (
	// Provider: incoming calls are validated and proxied to an upstream.
	Provider WebserviceKind = "provider"
	// Requester: a local caller's calls go out with a fresh bearer token.
	Requester WebserviceKind = "requester"
)

// Webservice is a named route of `oidcctl serve`.
type Webservice struct {
	Name string
	Kind WebserviceKind

	// Provider side: calls to /ws/<name><Route> are validated with Profile
	// and proxied to Upstream.
	Profile string
	// Route is matched against the rest of the path; ":name" matches one
	// segment ("/GetTicket/:TicketID").
	Route string
	// Methods are the allowed HTTP methods; others get 405.
	Methods []string
	// Upstream is the URL the call is proxied to; the route's path is
	// appended to it.
	Upstream string
	// PassAuthorization passes the caller's Authorization header on to the
	// upstream; by default it is removed.
	PassAuthorization bool

	// Requester side: calls to /invoke/<name> go to Endpoint + Path with
	// Method and a bearer token of Account.
	Account  string
	Endpoint string
	Path     string
	Method   string

	Debug DebugSettings

	CreatedAt time.Time
	UpdatedAt time.Time
}

// DebugSettings say what the debugger keeps of a webservice's calls.
type DebugSettings struct {
	Enabled bool
	// MaxBody is how many bytes of each body are kept.
	MaxBody int
	// MaxAge and MaxEntries bound retention; zero means the default.
	MaxAge     time.Duration
	MaxEntries int
}

// Debugger defaults.
const (
	DefaultDebugMaxBody    = 16 << 10
	DefaultDebugMaxAge     = 7 * 24 * time.Hour
	DefaultDebugMaxEntries = 1000
)

// NewWebservice returns a webservice with the defaults filled in.
func NewWebservice(name string, kind WebserviceKind) Webservice {
	return Webservice{
		Name: name,
		Kind: kind,
		Debug: DebugSettings{
			Enabled:    true,
			MaxBody:    DefaultDebugMaxBody,
			MaxAge:     DefaultDebugMaxAge,
			MaxEntries: DefaultDebugMaxEntries,
		},
	}
}

var httpMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// Validate reports every problem with the webservice as a
// *ValidationError. Whether its profile or account exists is the store's
// to check.
func (w *Webservice) Validate() error {
	var v ValidationError
	v.Kind, v.Name = "webservice", w.Name
	if msg := checkName(w.Name); msg != "" {
		v.add("name", msg)
	}
	v.checkNames("profile", w.Profile)
	v.checkNames("account", w.Account)
	v.checkNames("route", w.Route)
	v.checkNames("path", w.Path)
	switch w.Kind {
	case Provider:
		if w.Profile == "" {
			v.add("profile", "is required for a provider webservice")
		}
		if !strings.HasPrefix(w.Route, "/") {
			v.add("route", fmt.Sprintf("%q must start with /", w.Route))
		}
		for _, seg := range strings.Split(w.Route, "/") {
			if seg == ":" {
				v.add("route", fmt.Sprintf("%q has a parameter without a name", w.Route))
			}
		}
		if len(w.Methods) == 0 {
			v.add("methods", "at least one HTTP method is required")
		}
		for _, m := range w.Methods {
			if !slices.Contains(httpMethods, m) {
				v.add("methods", fmt.Sprintf("%q is not an HTTP method", m))
			}
		}
		if msg := checkHTTPURL(w.Upstream); msg != "" {
			v.add("upstream", msg)
		}
		if w.Account != "" || w.Endpoint != "" {
			v.add("account", "account and endpoint are for requester webservices")
		}
	case Requester:
		if w.Account == "" {
			v.add("account", "is required for a requester webservice")
		}
		if msg := checkHTTPURL(w.Endpoint); msg != "" {
			v.add("endpoint", msg)
		}
		if w.Path != "" && !strings.HasPrefix(w.Path, "/") {
			v.add("path", fmt.Sprintf("%q must start with /", w.Path))
		}
		if !slices.Contains(httpMethods, w.Method) {
			v.add("method", fmt.Sprintf("%q is not an HTTP method", w.Method))
		}
		if w.Profile != "" || w.Upstream != "" {
			v.add("profile", "profile and upstream are for provider webservices")
		}
	default:
		v.add("kind", fmt.Sprintf("%q: want provider or requester", w.Kind))
	}
	if w.Debug.MaxBody < 0 || w.Debug.MaxAge < 0 || w.Debug.MaxEntries < 0 {
		v.add("debug", "limits must not be negative")
	}
	return v.err()
}

func checkHTTPURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "is required"
	case err != nil:
		return fmt.Sprintf("%q is not a URL: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q must be an http(s) URL", raw)
	case u.Host == "":
		return fmt.Sprintf("%q has no host", raw)
	}
	return ""
}

// WebserviceStore keeps webservices.
type WebserviceStore interface {
	// CreateWebservice stores a new webservice; *ExistsError when the name
	// is taken, *NotFoundError when its profile or account does not exist.
	CreateWebservice(ctx context.Context, w Webservice) error
	// Webservice returns one webservice; *NotFoundError when there is none.
	Webservice(ctx context.Context, name string) (Webservice, error)
	// Webservices returns every webservice, ordered by name.
	Webservices(ctx context.Context) ([]Webservice, error)
	// UpdateWebservice reads, lets fn change and writes back a webservice
	// in one transaction; fn must not rename it.
	UpdateWebservice(ctx context.Context, name string, fn func(*Webservice) error) (Webservice, error)
	// DeleteWebservice removes a webservice, its debugger entries and its
	// invoke credentials.
	DeleteWebservice(ctx context.Context, name string) error
}

// Directions of a call in the debugger.
const (
	DirectionIncoming    = "incoming"     // provider webservice
	DirectionOutgoing    = "outgoing"     // requester webservice
	DirectionForwardAuth = "forward-auth" // a reverse proxy asking
)

// DebugEntry is one call through serve, as the debugger keeps it: headers
// and bodies with secrets and tokens already redacted.
type DebugEntry struct {
	ID              int64
	Time            time.Time
	RequestID       string
	Webservice      string // "" for forward-auth without a webservice
	Direction       string
	Method          string
	Path            string
	Status          int
	Duration        time.Duration
	User            string
	Verdict         string // "accepted", "refused", "error", "" when no token was involved
	Reason          string
	RequestHeader   http.Header
	RequestBody     []byte
	ResponseHeader  http.Header
	ResponseBody    []byte
	BodiesTruncated bool
	// TokenClaims is the incoming token's JOSE header and claims, never
	// its signature, as the JSON object {"header": …, "claims": …}, when
	// its profile has LogTokenClaims (the manual's LogIDToken); "" for
	// every other call.
	TokenClaims string
}

// DebugFilter selects debugger entries; zero fields select all.
type DebugFilter struct {
	Webservice string
	Since      time.Time
	Status     int // exact status, or 0
	Verdict    string
	Limit      int // newest first; 0 means 100
}

// DebugRetention bounds what is kept of one webservice's log when
// entries are written (DebugStore.AppendDebug).
type DebugRetention struct {
	// Before: entries older than it go; zero sets no bound on the age.
	Before time.Time
	// Keep: only the newest Keep entries stay; zero or less sets no
	// bound on the count.
	Keep int
}

// DebugStore keeps the debugger's log.
type DebugStore interface {
	// AddDebugEntries appends entries in one transaction (serve batches
	// them, so that the log never holds the database long).
	AddDebugEntries(ctx context.Context, entries []DebugEntry) error
	// AppendDebug appends entries as AddDebugEntries does and, in the
	// same transaction, prunes the log of every webservice named in
	// keep ("" for the calls without one) to its retention, so that the
	// limits hold after every write. It returns how many entries it
	// pruned.
	AppendDebug(ctx context.Context, entries []DebugEntry, keep map[string]DebugRetention) (pruned int, err error)
	// DebugEntries returns entries, newest first.
	DebugEntries(ctx context.Context, f DebugFilter) ([]DebugEntry, error)
	// DebugEntry returns one entry; *NotFoundError when there is none.
	DebugEntry(ctx context.Context, id int64) (DebugEntry, error)
	// ClearDebug removes the entries of a webservice, or all when "".
	ClearDebug(ctx context.Context, webservice string) (int, error)
	// PruneDebug removes a webservice's entries older than before and
	// beyond the newest keep.
	PruneDebug(ctx context.Context, webservice string, before time.Time, keep int) (int, error)
}

// ChangeCounter tells whether the configuration changed: any write to
// profiles, accounts, users or webservices increases it, so that `serve`
// picks up changes made by the console without a restart.
type ChangeCounter interface {
	ConfigVersion(ctx context.Context) (int64, error)
}
