package users

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/huh/v2"

	"oidcctl/core"
	"oidcctl/tui"
)

// values are the form's fields as text.
type values struct {
	edit bool

	login, email, firstName, lastName, roles string
}

func valuesOf(u core.User) *values {
	return &values{login: u.Login, email: u.Email, firstName: u.FirstName, lastName: u.LastName, roles: strings.Join(u.Roles, " ")}
}

// apply writes the form onto u and validates it. Roles are separated by
// spaces (or commas), sorted and kept once each.
func (v *values) apply(u *core.User) error {
	if !v.edit {
		u.Login = strings.TrimSpace(v.login)
	}
	u.Email = strings.TrimSpace(v.email)
	u.FirstName = strings.TrimSpace(v.firstName)
	u.LastName = strings.TrimSpace(v.lastName)
	u.Roles = strings.FieldsFunc(v.roles, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	slices.Sort(u.Roles)
	u.Roles = slices.Compact(u.Roles)
	return u.Validate()
}

func (v *values) build() *huh.Form {
	var fields []huh.Field
	if !v.edit {
		fields = append(fields, tui.Input("Login", &v.login).
			Placeholder("(the token's UID claim, e.g. its sub)").
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return fmt.Errorf("a login is required")
				}
				return core.CheckName(s)
			}))
	}
	fields = append(fields,
		tui.Input("Email", &v.email).Validate(core.CheckName),
		tui.Input("First name", &v.firstName).Validate(core.CheckName),
		tui.Input("Last name", &v.lastName).Validate(core.CheckName),
		tui.Input("Roles", &v.roles).Placeholder("(space-separated, e.g. ticket-reader ticket-writer)").Validate(core.CheckName),
	)
	title := "User"
	if v.edit {
		title = "User " + v.login
	}
	return huh.NewForm(huh.NewGroup(fields...).Title(title).
		Description("A token whose UID claim equals the login is this user; its roles go to the API."))
}

func addForm(st tui.Styles, store Store) *tui.Form {
	v := &values{}
	return tui.NewForm(st, "Add user", v.build,
		tui.Create(func() core.User { return core.User{} }, v.apply, store.CreateUser, login,
			func(u core.User) string { return fmt.Sprintf("User %s added.", u.Login) })).Watch(v)
}

func editForm(st tui.Styles, store Store, u core.User) *tui.Form {
	v := valuesOf(u)
	v.edit = true
	return tui.NewForm(st, "Edit "+u.Login, v.build, tui.Change("User", u.Login, store.UpdateUser, v.apply)).Watch(v)
}
