// Package users is the console's users and roles screen: the local API
// users that validated tokens map to, with their email, name, roles and
// where they came from (made by hand, or created from a profile's token);
// adding and editing them in a form; deleting them after a confirmation.
package users

import (
	"cmp"
	"context"
	"strings"

	"oidcctl/core"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Store is what the screen needs of core: the users, to list, read,
// create, change and delete; core's user store is just that.
type Store = core.UserStore

// Screen is the list of users.
type Screen = tui.List[string, core.User]

// New returns the users screen.
func New(d screens.Deps) *Screen { return NewWith(d.Styles, d.Registry.Store) }

// NewWith returns the users screen on store.
func NewWith(st tui.Styles, store Store) *Screen {
	return tui.NewList(st, tui.ListConfig[string, core.User]{
		Title: "Users",
		Short: "Users",
		Noun:  "users",
		Columns: []tui.Column{
			{Title: "LOGIN", Width: 12, Flex: 2},
			{Title: "EMAIL", Width: 12, Flex: 2},
			{Title: "NAME", Width: 10, Flex: 1},
			{Title: "ROLES", Width: 10, Flex: 2},
			{Title: "FROM", Width: 12},
		},
		Empty:      "No user yet: press a to add one, or let tokens create them (role map).",
		Key:        login,
		Row:        row,
		Load:       store.Users,
		Detail:     func(u core.User, width int) string { return detail(st, u, width, false) },
		DetailRows: 3,
		Actions: []tui.Action[core.User]{
			{Key: tui.ListKeys.Add, Open: func(context.Context, core.User) (tui.Screen, error) { return addForm(st, store), nil }},
			{Key: tui.ListKeys.Edit, OnItem: true, Open: tui.Reread(login, store.User, func(_ context.Context, u core.User) (tui.Screen, error) {
				return editForm(st, store, u), nil
			})},
			tui.DeleteAction("user", login, func(u core.User) string {
				detail := "Calls with its tokens are refused from then on"
				if u.Profile != "" {
					detail = "A token of profile " + u.Profile + " whose roles the role map maps creates it again"
				}
				return detail + " (serve picks the change up within a minute)."
			}, store.DeleteUser),
			tui.DetailsAction(st, login, func(u core.User, width int, wrap bool) string { return detail(st, u, width, wrap) }),
			tui.ReloadAction[core.User](),
		},
	})
}

func login(u core.User) string { return u.Login }

func row(u core.User) tui.Row {
	return tui.Row{
		Cells: []string{u.Login, cmp.Or(u.Email, "-"), cmp.Or(fullName(u), "-"), cmp.Or(strings.Join(u.Roles, " "), "-"), from(u)},
		Tones: []tui.Tone{tui.TonePrimary, 0, 0, 0, tui.ToneMuted},
	}
}

// detail describes a user in full: cut to the pane's rows, or wrapped
// for the page that enter opens.
func detail(st tui.Styles, u core.User, width int, wrap bool) string {
	label := st.Muted.Render
	roles := "none: its calls carry no role"
	if len(u.Roles) > 0 {
		roles = tui.Escape(strings.Join(u.Roles, ", "))
	}
	origin := "made by hand"
	if u.Profile != "" {
		origin = "from a token of profile " + tui.Escape(u.Profile)
	}
	origin += label(" · created ") + tui.Stamp(u.CreatedAt)
	if !u.UpdatedAt.Equal(u.CreatedAt) {
		origin += label(" · changed ") + tui.Stamp(u.UpdatedAt)
	}
	lines := []string{
		// Users are made from tokens: every value is escaped.
		label("user    ") + tui.Escape(u.Login) + label(" · ") + tui.Escape(cmp.Or(u.Email, "-")) + label(" · ") + tui.Escape(cmp.Or(fullName(u), "-")),
		label("roles   ") + roles,
		label("origin  ") + origin,
	}
	return tui.Fit(lines, width, wrap)
}

func fullName(u core.User) string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// from says where a user came from, as `oidcctl user list` does.
func from(u core.User) string {
	if u.Profile != "" {
		return "profile " + u.Profile
	}
	return "by hand"
}
