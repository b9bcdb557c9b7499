// Package webservices is the console's webservice screen: the named routes
// of `oidcctl serve`, provider (incoming calls validated with a profile and
// proxied to an upstream) and requester (outgoing calls sent with a token
// of a functional account); adding and editing them in a form that shows
// the fields of their kind; deleting them after a confirmation.
package webservices

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Store is what the screen needs of core: the webservices, and the names
// of the profiles and accounts they may use.
type Store interface {
	core.WebserviceStore
	Profiles(ctx context.Context) ([]core.Profile, error)
	Accounts(ctx context.Context, profile string) ([]core.Account, error)
}

// Screen is the list of webservices.
type Screen = tui.List[string, core.Webservice]

// New returns the webservices screen.
func New(d screens.Deps) *Screen { return NewWith(d.Styles, d.Registry.Store) }

// NewWith returns the webservices screen on store.
func NewWith(st tui.Styles, store Store) *Screen {
	return tui.NewList(st, tui.ListConfig[string, core.Webservice]{
		Title: "Webservices",
		Short: "Web",
		Noun:  "webservices",
		Columns: []tui.Column{
			{Title: "NAME", Width: 10, Flex: 1},
			{Title: "KIND", Width: 9},
			{Title: "WITH", Width: 10, Flex: 1},
			{Title: "ROUTE / ENDPOINT", Width: 16, Flex: 3},
			{Title: "METHODS", Width: 8, Flex: 1},
			{Title: "DEBUG", Width: 5},
		},
		Empty:      "No webservice yet: press a to add one for oidcctl serve.",
		Key:        name,
		Row:        row,
		Load:       store.Webservices,
		Detail:     func(w core.Webservice, width int) string { return detail(st, w, width, false) },
		DetailRows: 4,
		Actions: []tui.Action[core.Webservice]{
			{Key: tui.ListKeys.Add, Open: func(ctx context.Context, _ core.Webservice) (tui.Screen, error) {
				profiles, accounts, err := names(ctx, store)
				if err != nil {
					return nil, err
				}
				if len(profiles) == 0 && len(accounts) == 0 {
					return nil, errors.New("a webservice needs a profile or an account: add one first (Profiles, Accounts)")
				}
				return addForm(st, store, profiles, accounts), nil
			}},
			{Key: tui.ListKeys.Edit, OnItem: true, Open: tui.Reread(name, store.Webservice, func(ctx context.Context, w core.Webservice) (tui.Screen, error) {
				profiles, accounts, err := names(ctx, store)
				if err != nil {
					return nil, err
				}
				return editForm(st, store, profiles, accounts, w), nil
			})},
			tui.DeleteAction("webservice", name, func(w core.Webservice) string {
				return "Its recorded calls go with it, and a running serve stops serving " + servedAt(w) + " within seconds."
			}, store.DeleteWebservice),
			tui.DetailsAction(st, name, func(w core.Webservice, width int, wrap bool) string { return detail(st, w, width, wrap) }),
			tui.ReloadAction[core.Webservice](),
		},
	})
}

// names are the names of the profiles and accounts, for the form.
func names(ctx context.Context, store Store) (profiles, accounts []string, err error) {
	ps, err := store.Profiles(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading profiles: %w", err)
	}
	as, err := store.Accounts(ctx, "")
	if err != nil {
		return nil, nil, fmt.Errorf("reading accounts: %w", err)
	}
	profiles = make([]string, len(ps))
	for i, p := range ps {
		profiles[i] = p.Name
	}
	accounts = make([]string, len(as))
	for i, a := range as {
		accounts[i] = a.Name
	}
	return profiles, accounts, nil
}

func name(w core.Webservice) string { return w.Name }

func row(w core.Webservice) tui.Row {
	with, at, methods := w.Profile, w.Route, strings.Join(w.Methods, " ")
	if w.Kind == core.Requester {
		with, at, methods = w.Account, w.Endpoint+w.Path, w.Method
	}
	debug, tone := "off", tui.ToneMuted
	if w.Debug.Enabled {
		debug, tone = "on", tui.ToneNormal
	}
	return tui.Row{
		Cells: []string{w.Name, string(w.Kind), with, at, methods, debug},
		Tones: []tui.Tone{tui.TonePrimary, tui.ToneMuted, 0, 0, 0, tone},
	}
}

// servedAt is where serve takes a webservice's calls.
func servedAt(w core.Webservice) string {
	if w.Kind == core.Requester {
		return "/invoke/" + w.Name
	}
	return "/ws/" + w.Name + w.Route
}

// detail describes the selected webservice: under the table, cut to its
// rows, or whole and wrapped (with what the columns show) on the page that
// enter opens.
func detail(st tui.Styles, w core.Webservice, width int, wrap bool) string {
	label := st.Muted.Render
	var call, auth string
	if w.Kind == core.Requester {
		call = servedAt(w) + label(" → ") + w.Method + " " + w.Endpoint + w.Path
		auth = "a token of account " + w.Account + " is attached"
	} else {
		call = servedAt(w) + label(" → ") + w.Upstream
		auth = "tokens validated with profile " + w.Profile + " · Authorization "
		if w.PassAuthorization {
			auth += "passed on"
		} else {
			auth += "not passed on"
		}
	}
	debug := label("off")
	if w.Debug.Enabled {
		debug = fmt.Sprintf("on · keeps %s of each body, %s, at most %d calls",
			config.FormatSize(int64(w.Debug.MaxBody)), config.FormatDays(orDefault(w.Debug.MaxAge, core.DefaultDebugMaxAge)), orDefault(w.Debug.MaxEntries, core.DefaultDebugMaxEntries))
	}
	var lines []string
	if wrap {
		methods := strings.Join(w.Methods, " ")
		if w.Kind == core.Requester {
			methods = w.Method
		}
		lines = append(lines, label("name     ")+w.Name+label(" · ")+string(w.Kind)+label(" · methods ")+cmp.Or(methods, "any"))
	}
	lines = append(lines,
		label("call     ")+call,
		label("auth     ")+auth,
		label("debugger ")+debug,
		label("changed  ")+tui.Stamp(w.UpdatedAt)+label(" · created ")+tui.Stamp(w.CreatedAt))
	return tui.Fit(lines, width, wrap)
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
