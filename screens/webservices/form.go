package webservices

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"charm.land/huh/v2"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/tui"
)

// methods are the HTTP methods a webservice may use.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}

// values are the form's fields as text.
type values struct {
	edit bool

	name string
	kind core.WebserviceKind

	profile, route, methods, upstream string
	passAuthorization                 bool

	account, endpoint, path, method string

	debug                       bool
	maxBody, maxAge, maxEntries string
}

func valuesOf(w core.Webservice) *values {
	v := &values{
		name: w.Name, kind: w.Kind,
		profile: w.Profile, route: w.Route, methods: strings.Join(w.Methods, " "), upstream: w.Upstream, passAuthorization: w.PassAuthorization,
		account: w.Account, endpoint: w.Endpoint, path: w.Path, method: w.Method,
		debug: w.Debug.Enabled, maxBody: config.FormatSize(int64(w.Debug.MaxBody)), maxAge: config.FormatDays(w.Debug.MaxAge),
	}
	if w.Debug.MaxEntries > 0 {
		v.maxEntries = strconv.Itoa(w.Debug.MaxEntries)
	}
	if w.Debug.MaxBody == 0 {
		v.maxBody = ""
	}
	if v.method == "" {
		v.method = http.MethodPost
	}
	if v.methods == "" {
		v.methods = http.MethodGet
	}
	return v
}

// apply writes the form onto w and validates it (core.Webservice.Validate);
// whether its profile or account exists is the store's to check.
func (v *values) apply(w *core.Webservice) error {
	var problems []core.FieldError
	bad := func(field, problem string) {
		problems = append(problems, core.FieldError{Field: field, Problem: problem})
	}
	if !v.edit {
		w.Name = strings.TrimSpace(v.name)
		w.Kind = v.kind
	}
	// The fields of the other kind are cleared: Validate refuses them.
	w.Profile, w.Route, w.Methods, w.Upstream, w.PassAuthorization = "", "", nil, "", false
	w.Account, w.Endpoint, w.Path, w.Method = "", "", "", ""
	switch w.Kind {
	case core.Provider:
		w.Profile = v.profile
		w.Route = strings.TrimSpace(v.route)
		for _, m := range strings.FieldsFunc(v.methods, func(r rune) bool { return r == ',' || r == ' ' }) {
			w.Methods = append(w.Methods, strings.ToUpper(m))
		}
		w.Upstream = strings.TrimSpace(v.upstream)
		w.PassAuthorization = v.passAuthorization
	case core.Requester:
		w.Account = v.account
		w.Endpoint = strings.TrimRight(strings.TrimSpace(v.endpoint), "/")
		w.Path = strings.TrimSpace(v.path)
		w.Method = v.method
	}
	w.Debug.Enabled = v.debug
	if n, err := optional(v.maxBody, config.ParseSize); err != nil || n > 1<<30 {
		bad("debug max body", "want a size such as 16KiB or 1MiB, at most 1GiB")
	} else {
		w.Debug.MaxBody = int(n)
	}
	if d, err := optional(v.maxAge, config.ParseDuration); err != nil || d < 0 {
		bad("debug max age", "want a duration such as 7d or 36h")
	} else {
		w.Debug.MaxAge = d
	}
	if n, err := parseCount(v.maxEntries); err != nil {
		bad("debug max entries", err.Error())
	} else {
		w.Debug.MaxEntries = n
	}
	err := w.Validate()
	if len(problems) == 0 {
		return err
	}
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		problems = append(ve.Problems, problems...)
	}
	return &core.ValidationError{Kind: "webservice", Name: w.Name, Problems: problems}
}

func options(names []string) []huh.Option[string] {
	opts := make([]huh.Option[string], len(names))
	for i, n := range names {
		opts[i] = huh.NewOption(n, n)
	}
	return opts
}

// choose is a select of names, or a text field when there is none to
// choose from (the store then says that it does not exist).
func choose(title string, names []string, v *string) huh.Field {
	if len(names) == 0 {
		return tui.Input(title, v).Placeholder("(none yet)")
	}
	return huh.NewSelect[string]().Title(title).Options(options(names)...).Value(v).Height(min(len(names)+2, 6))
}

func (v *values) build(profiles, accounts []string) *huh.Form {
	first := []huh.Field{}
	if !v.edit {
		first = append(first,
			tui.Input("Name", &v.name).Placeholder("(e.g. tickets; part of the path serve takes calls at)").Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("a name is required")
				}
				return core.CheckName(s)
			}),
			huh.NewSelect[core.WebserviceKind]().Title("Kind").Inline(true).
				Options(huh.NewOption("provider (incoming)", core.Provider), huh.NewOption("requester (outgoing)", core.Requester)).
				Value(&v.kind),
		)
	}
	methodOpts := make([]huh.Option[string], len(methods))
	for i, m := range methods {
		methodOpts[i] = huh.NewOption(m, m)
	}
	groups := []*huh.Group{}
	if len(first) > 0 {
		groups = append(groups, huh.NewGroup(first...).Title("Webservice"))
	}
	groups = append(groups,
		huh.NewGroup(
			choose("Profile (validates the tokens)", profiles, &v.profile),
			tui.Input("Route", &v.route).Placeholder("(after /ws/<name>, e.g. /GetTicket/:TicketID)").Validate(core.CheckName),
			tui.Input("Methods", &v.methods).Placeholder("(space-separated, e.g. GET POST)"),
			tui.Input("Upstream URL", &v.upstream).Placeholder("(calls are proxied here, the route appended)"),
			tui.YesNo("Pass the caller's Authorization header on", &v.passAuthorization),
		).Title("Provider: incoming calls at /ws/"+v.nameOr()).WithHideFunc(func() bool { return v.kind != core.Provider }),
		huh.NewGroup(
			choose("Account (its token is attached)", accounts, &v.account),
			tui.Input("Endpoint", &v.endpoint).Placeholder("(the remote system, e.g. https://echo.example)"),
			tui.Input("Path", &v.path).Placeholder("(e.g. /rest/api/endpoint)").Validate(core.CheckName),
			huh.NewSelect[string]().Title("Method").Inline(true).Options(methodOpts...).Value(&v.method),
		).Title("Requester: outgoing calls from /invoke/"+v.nameOr()).WithHideFunc(func() bool { return v.kind != core.Requester }),
		huh.NewGroup(
			tui.YesNo("Record calls in the debugger", &v.debug),
			tui.Input("Keep of each body", &v.maxBody).Placeholder(fmt.Sprintf("(default %s; e.g. 64KiB)", config.FormatSize(core.DefaultDebugMaxBody))),
			tui.Input("Keep calls for", &v.maxAge).Placeholder(fmt.Sprintf("(default %s; e.g. 36h, 30d)", config.FormatDays(core.DefaultDebugMaxAge))),
			tui.Input("Keep at most (calls)", &v.maxEntries).Placeholder(fmt.Sprintf("(default %d)", core.DefaultDebugMaxEntries)),
		).Title("Debugger"),
	)
	return huh.NewForm(groups...)
}

func (v *values) nameOr() string {
	if n := strings.TrimSpace(v.name); n != "" && v.edit {
		return n
	}
	return "<name>"
}

func addForm(st tui.Styles, store Store, profiles, accounts []string) *tui.Form {
	v := valuesOf(core.NewWebservice("", core.Provider))
	if len(profiles) == 0 {
		v.kind = core.Requester
	}
	if len(profiles) > 0 {
		v.profile = profiles[0]
	}
	if len(accounts) > 0 {
		v.account = accounts[0]
	}
	return tui.NewForm(st, "Add webservice", func() *huh.Form { return v.build(profiles, accounts) },
		tui.Create(func() core.Webservice { return core.NewWebservice("", v.kind) }, v.apply, store.CreateWebservice, name,
			func(w core.Webservice) string { return fmt.Sprintf("Webservice %s added (%s).", w.Name, servedAt(w)) })).Watch(v)
}

func editForm(st tui.Styles, store Store, profiles, accounts []string, w core.Webservice) *tui.Form {
	v := valuesOf(w)
	v.edit = true
	if w.Kind == core.Provider && !slices.Contains(profiles, w.Profile) {
		profiles = append([]string{w.Profile}, profiles...)
	}
	if w.Kind == core.Requester && !slices.Contains(accounts, w.Account) {
		accounts = append([]string{w.Account}, accounts...)
	}
	return tui.NewForm(st, "Edit "+w.Name, func() *huh.Form { return v.build(profiles, accounts) },
		tui.Change("Webservice", w.Name, store.UpdateWebservice, v.apply)).Watch(v)
}

// optional parses s, or gives the zero value (the default) for "".
func optional[T any](s string, parse func(string) (T, error)) (T, error) {
	var zero T
	if strings.TrimSpace(s) == "" {
		return zero, nil
	}
	return parse(s)
}

func parseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive number")
	}
	return n, nil
}
