package main

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/config"
)

// webserviceFlags are the flags of webservice add and edit.
type webserviceFlags struct {
	provider, requester       bool
	profile, route, upstream  string
	passAuthorization         bool
	account, endpoint, path   string
	methods                   []string
	debug                     bool
	debugMaxBody, debugMaxAge string
	debugMaxEntries           int
}

func (f *webserviceFlags) register(cmd *cobra.Command, add bool) {
	fs := cmd.Flags()
	if add {
		fs.BoolVar(&f.provider, "provider", false, "incoming calls: validated with --profile, proxied to --upstream")
		fs.BoolVar(&f.requester, "requester", false, "outgoing calls: sent to --endpoint with a token of --account")
	}
	fs.StringVar(&f.profile, "profile", "", "provider: the profile that validates the calls' tokens")
	fs.StringVar(&f.route, "route", "", "provider: the route after /ws/NAME, \":name\" matching one segment (\"/GetTicket/:TicketID\")")
	fs.StringVar(&f.upstream, "upstream", "", "provider: the URL calls are proxied to; the route's path is appended")
	fs.BoolVar(&f.passAuthorization, "pass-authorization", false, "provider: pass the caller's Authorization header on to the upstream")
	fs.StringVar(&f.account, "account", "", "requester: the functional account whose token is attached")
	fs.StringVar(&f.endpoint, "endpoint", "", "requester: the remote system, without a trailing slash (\"https://echo.example\")")
	fs.StringVar(&f.path, "path", "", "requester: the path of the call at the endpoint (\"/rest/api/endpoint\")")
	fs.StringArrayVar(&f.methods, "method", nil, "provider: allowed HTTP methods (repeat, or comma-separated); requester: the one method (default POST)")
	fs.BoolVar(&f.debug, "debug", true, "record calls in the debugger (--debug=false switches it off)")
	fs.StringVar(&f.debugMaxBody, "debug-max-body", "16KiB", "bytes of each body the debugger keeps")
	fs.Var(newDurationText(&f.debugMaxAge, "7d"), "debug-max-age", "how long the debugger keeps calls")
	fs.IntVar(&f.debugMaxEntries, "debug-max-entries", core.DefaultDebugMaxEntries, "how many calls the debugger keeps")
}

// apply sets the fields whose flags were given on w.
func (f *webserviceFlags) apply(cmd *cobra.Command, w *core.Webservice) error {
	set := cmd.Flags().Changed
	for _, name := range []string{"profile", "route", "upstream", "pass-authorization", "account", "endpoint", "path"} {
		forProvider := name == "profile" || name == "route" || name == "upstream" || name == "pass-authorization"
		if set(name) && forProvider != (w.Kind == core.Provider) {
			return usagef("--%s is not for a %s webservice", name, w.Kind)
		}
	}
	if set("profile") {
		w.Profile = strings.TrimSpace(f.profile)
	}
	if set("route") {
		w.Route = strings.TrimSpace(f.route)
	}
	if set("upstream") {
		w.Upstream = strings.TrimSpace(f.upstream)
	}
	if set("pass-authorization") {
		w.PassAuthorization = f.passAuthorization
	}
	if set("account") {
		w.Account = strings.TrimSpace(f.account)
	}
	if set("endpoint") {
		w.Endpoint = strings.TrimRight(strings.TrimSpace(f.endpoint), "/")
	}
	if set("path") {
		w.Path = strings.TrimSpace(f.path)
	}
	if set("method") {
		var methods []string
		for _, m := range f.methods {
			for _, part := range strings.FieldsFunc(m, func(r rune) bool { return r == ',' || r == ' ' }) {
				methods = append(methods, strings.ToUpper(part))
			}
		}
		if w.Kind == core.Requester {
			if len(methods) != 1 {
				return usagef("--method: a requester webservice sends one method, got %d", len(methods))
			}
			w.Method = methods[0]
		} else {
			w.Methods = methods
		}
	}
	if set("debug") {
		w.Debug.Enabled = f.debug
	}
	if set("debug-max-body") {
		n, err := config.ParseSize(f.debugMaxBody)
		if err != nil || n > 1<<30 {
			return usagef("--debug-max-body %q: want a size such as 16KiB, at most 1GiB", f.debugMaxBody)
		}
		w.Debug.MaxBody = int(n)
	}
	if set("debug-max-age") {
		d, err := config.ParseDuration(f.debugMaxAge)
		if err != nil || d <= 0 {
			return usagef("--debug-max-age %q: want a duration such as 7d or 36h", f.debugMaxAge)
		}
		w.Debug.MaxAge = d
	}
	if set("debug-max-entries") {
		if f.debugMaxEntries <= 0 {
			return usagef("--debug-max-entries %d: want a positive number", f.debugMaxEntries)
		}
		w.Debug.MaxEntries = f.debugMaxEntries
	}
	return nil
}

func (a *app) webserviceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webservice",
		Aliases: []string{"webservices", "ws"},
		Short:   "Manage the webservices of oidcctl serve",
		Long: `A provider webservice takes incoming calls at /ws/NAME/ROUTE, validates
their bearer tokens with a profile and proxies them to an upstream with the
user passed on. A requester webservice takes a local caller's calls at
/invoke/NAME and sends them to a remote endpoint with a bearer token of a
functional account; over TCP the caller presents an invoke credential
(oidcctl webservice credential). A running oidcctl serve picks up changes
within seconds.`,
		Args: noArgs,
	}
	cmd.AddCommand(a.webserviceAdd(), a.webserviceEdit(), a.webserviceShow(), a.webserviceList(), a.webserviceRemove())
	cmd.AddCommand(a.credentialCommand())
	return cmd
}

func (a *app) webserviceAdd() *cobra.Command {
	var f webserviceFlags
	cmd := &cobra.Command{
		Use:   "add NAME (--provider --profile P --route R --method M --upstream URL | --requester --account A --endpoint URL --path P [--method M])",
		Short: "Add a provider or requester webservice",
		Example: `  oidcctl webservice add tickets --provider --profile keycloak --route '/GetTicket/:TicketID' --method GET \
      --upstream http://127.0.0.1:8080/otobo/nph-genericinterface.pl/Webservice/Test
  oidcctl webservice add echo --requester --account billing --endpoint https://echo.example \
      --path /rest/api/endpoint --method POST`,
		Args: exactArgs(1, "a webservice name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.provider == f.requester {
				return usagef("webservice add %s: give --provider or --requester", args[0])
			}
			kind := core.Provider
			if f.requester {
				kind = core.Requester
			}
			w := core.NewWebservice(args[0], kind)
			if kind == core.Requester {
				w.Method = "POST"
			}
			if err := f.apply(cmd, &w); err != nil {
				return err
			}
			if err := w.Validate(); err != nil {
				return err
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			if err := a.store.CreateWebservice(cmd.Context(), w); err != nil {
				return err
			}
			stored, err := a.store.Webservice(cmd.Context(), w.Name)
			if err != nil {
				return err
			}
			return a.printWebservice(stored, "added")
		},
	}
	f.register(cmd, true)
	return cmd
}

func (a *app) webserviceEdit() *cobra.Command {
	var f webserviceFlags
	cmd := &cobra.Command{
		Use:   "edit NAME [flags]",
		Short: "Change the given settings of a webservice, keeping the rest",
		Example: `  oidcctl webservice edit tickets --method GET --method POST
  oidcctl webservice edit tickets --debug=false
  oidcctl webservice edit echo --debug-max-entries 5000 --debug-max-age 30d`,
		Args: exactArgs(1, "a webservice name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().NFlag() == 0 {
				return usagef("webservice edit %s: nothing to change; give the flags of the settings to change (see --help)", args[0])
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			w, err := a.store.UpdateWebservice(cmd.Context(), args[0], func(w *core.Webservice) error {
				if err := f.apply(cmd, w); err != nil {
					return err
				}
				return w.Validate()
			})
			if err != nil {
				return err
			}
			return a.printWebservice(w, "changed")
		},
	}
	f.register(cmd, false)
	return cmd
}

func (a *app) webserviceShow() *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a webservice",
		Example: "  oidcctl webservice show tickets -o json",
		Args:    exactArgs(1, "a webservice name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			w, err := a.store.Webservice(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printWebservice(w, "")
		},
	}
}

func (a *app) webserviceList() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the webservices",
		Example: "  oidcctl webservice list\n  oidcctl webservice list -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			ws, err := a.store.Webservices(cmd.Context())
			if err != nil {
				return err
			}
			if a.output == "json" {
				out := make([]webserviceJSON, len(ws))
				for i, w := range ws {
					out[i] = toWebserviceJSON(w)
				}
				return writeJSON(a.stdout, out)
			}
			if len(ws) == 0 {
				fmt.Fprintln(a.stdout, "No webservices yet. Add one with: oidcctl webservice add NAME --provider ... or --requester ...")
				return nil
			}
			t := newTable(a.stdout, "NAME", "KIND", "SERVED AT", "METHODS", "GOES TO", "WITH", "DEBUG")
			for _, w := range ws {
				j := toWebserviceJSON(w)
				methods, to, with := strings.Join(w.Methods, ","), w.Upstream, "profile "+w.Profile
				if w.Kind == core.Requester {
					methods, to, with = w.Method, w.Endpoint+w.Path, "account "+w.Account
				}
				t.row(w.Name, string(w.Kind), j.ServedAt, methods, to, with, onOff(w.Debug.Enabled, "off"))
			}
			return t.flush()
		},
	}
}

func (a *app) webserviceRemove() *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove", "delete"},
		Short:   "Remove a webservice and its debugger entries",
		Example: "  oidcctl webservice rm tickets",
		Args:    exactArgs(1, "a webservice name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			if err := a.store.DeleteWebservice(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.printDone("removed", "webservice", args[0])
		},
	}
}

// webserviceJSON is the -o json form of a webservice.
type webserviceJSON struct {
	Name              string    `json:"name"`
	Kind              string    `json:"kind"`
	ServedAt          string    `json:"served_at"` // the path on oidcctl serve
	Profile           string    `json:"profile,omitempty"`
	Route             string    `json:"route,omitempty"`
	Methods           []string  `json:"methods,omitempty"`
	Upstream          string    `json:"upstream,omitempty"`
	PassAuthorization bool      `json:"pass_authorization,omitempty"`
	Account           string    `json:"account,omitempty"`
	Endpoint          string    `json:"endpoint,omitempty"`
	Path              string    `json:"path,omitempty"`
	Method            string    `json:"method,omitempty"`
	Debug             debugJSON `json:"debug"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

type debugJSON struct {
	Enabled       bool  `json:"enabled"`
	MaxBodyBytes  int   `json:"max_body_bytes"`
	MaxAgeSeconds int64 `json:"max_age_seconds"`
	MaxEntries    int   `json:"max_entries"`
}

func toWebserviceJSON(w core.Webservice) webserviceJSON {
	j := webserviceJSON{
		Name: w.Name, Kind: string(w.Kind), Profile: w.Profile, Route: w.Route, Methods: w.Methods, Upstream: w.Upstream,
		PassAuthorization: w.PassAuthorization, Account: w.Account, Endpoint: w.Endpoint, Path: w.Path, Method: w.Method,
		Debug:     debugJSON{Enabled: w.Debug.Enabled, MaxBodyBytes: w.Debug.MaxBody, MaxAgeSeconds: int64(w.Debug.MaxAge.Seconds()), MaxEntries: w.Debug.MaxEntries},
		CreatedAt: jsonTime(w.CreatedAt), UpdatedAt: jsonTime(w.UpdatedAt),
	}
	if w.Kind == core.Requester {
		j.ServedAt = "/invoke/" + w.Name
	} else {
		j.ServedAt = "/ws/" + w.Name + w.Route
	}
	return j
}

func (a *app) printWebservice(w core.Webservice, verb string) error {
	if a.output == "json" {
		return writeJSON(a.stdout, toWebserviceJSON(w))
	}
	if verb != "" {
		fmt.Fprintf(a.stdout, "Webservice %q %s.\n", w.Name, verb)
	}
	j := toWebserviceJSON(w)
	kv := newTable(a.stdout)
	kv.row("name:", w.Name)
	kv.row("kind:", string(w.Kind))
	kv.row("served at:", j.ServedAt)
	if w.Kind == core.Requester {
		kv.row("account:", w.Account)
		kv.row("endpoint:", w.Endpoint)
		kv.row("path:", cmp.Or(w.Path, "-"))
		kv.row("method:", w.Method)
	} else {
		kv.row("profile:", w.Profile)
		kv.row("route:", w.Route)
		kv.row("methods:", strings.Join(w.Methods, ", "))
		kv.row("upstream:", w.Upstream)
		kv.row("authorization:", onOff(w.PassAuthorization, "removed before the upstream"))
	}
	kv.row("debugger:", onOff(w.Debug.Enabled, "off"))
	kv.row("debug max body:", fmt.Sprintf("%d bytes", w.Debug.MaxBody))
	kv.row("debug max age:", fmtDuration(w.Debug.MaxAge))
	kv.row("debug max entries:", fmt.Sprint(w.Debug.MaxEntries))
	return kv.flush()
}
