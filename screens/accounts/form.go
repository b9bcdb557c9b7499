package accounts

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/huh/v2"

	"oidcctl/core"
	"oidcctl/tui"
)

// values are the form's fields as text. The password starts empty and is
// never filled from the store: empty keeps the stored one.
type values struct {
	edit bool

	name, profile string
	grant         core.GrantType
	scopes        string
	advanced      bool

	username, password string
	passwordSet        bool

	resources, resourceParam string
	tokenType                core.TokenType
	redirectURI              string
	dpop                     bool
}

func valuesOf(a core.Account) *values {
	v := &values{
		name: a.Name, profile: a.Profile, grant: a.GrantType, scopes: strings.Join(a.Scopes, " "),
		username: a.Username, passwordSet: a.Password.IsSet(),
		resources: strings.Join(a.Resources, " "), resourceParam: a.ResourceParam, tokenType: a.TokenType,
		redirectURI: a.RedirectURI, dpop: a.DPoP,
	}
	if v.resourceParam == "" {
		v.resourceParam = core.DefaultResourceParam
	}
	if v.tokenType == "" {
		v.tokenType = core.TokenAccess
	}
	// Show the advanced page when something on it is not the default.
	v.advanced = v.resources != "" || v.resourceParam != core.DefaultResourceParam || v.tokenType != core.TokenAccess ||
		v.redirectURI != "" || v.dpop
	return v
}

// apply writes the form onto a; an empty password keeps a's.
func (v *values) apply(a *core.Account) error {
	if !v.edit {
		a.Name = strings.TrimSpace(v.name)
	}
	a.Profile = v.profile
	a.GrantType = v.grant
	a.Scopes = strings.Fields(v.scopes)
	if v.grant == core.GrantPassword {
		a.Username = strings.TrimSpace(v.username)
		if v.password != "" {
			a.Password = core.NewSecret(v.password)
		}
	} else {
		// Only the password grant uses them; keeping them would be refused.
		a.Username, a.Password = "", core.Secret{}
	}
	a.Resources = strings.Fields(v.resources)
	a.ResourceParam = strings.TrimSpace(v.resourceParam)
	a.TokenType = v.tokenType
	a.RedirectURI = strings.TrimSpace(v.redirectURI)
	a.DPoP = v.dpop // the registry makes or drops the key
	return nil
}

func (v *values) build(profiles []string) *huh.Form {
	opts := make([]huh.Option[string], len(profiles))
	for i, p := range profiles {
		opts[i] = huh.NewOption(p, p)
	}
	grants := make([]huh.Option[core.GrantType], len(core.GrantTypes))
	for i, g := range core.GrantTypes {
		grants[i] = huh.NewOption(string(g), g)
	}
	first := []huh.Field{}
	if !v.edit {
		first = append(first, tui.Input("Name", &v.name).Placeholder("(e.g. billing)").Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return fmt.Errorf("a name is required")
			}
			return core.CheckName(s)
		}))
	}
	first = append(first,
		huh.NewSelect[string]().Title("Profile").Options(opts...).Value(&v.profile).Height(min(len(opts)+2, 6)),
		huh.NewSelect[core.GrantType]().Title("Grant type").Inline(true).Options(grants...).Value(&v.grant),
		tui.Input("Scopes", &v.scopes).Placeholder("(space-separated, e.g. openid offline_access)").Validate(core.CheckName),
		tui.YesNo("Show advanced settings (resources, token type)", &v.advanced),
	)
	pwHint := "(required)"
	if v.edit && v.passwordSet {
		pwHint = "(set: leave empty to keep)"
	}
	return huh.NewForm(
		huh.NewGroup(first...).Title("Account"),
		huh.NewGroup(
			tui.Input("Username", &v.username).Validate(core.CheckName),
			tui.Input("Password", &v.password).EchoMode(huh.EchoModePassword).Placeholder(pwHint),
		).Title("Password grant").WithHideFunc(func() bool { return v.grant != core.GrantPassword }),
		huh.NewGroup(
			tui.Input("Resources", &v.resources).Placeholder("(RFC 8707 URIs, space-separated)"),
			tui.Input("Resource parameter name", &v.resourceParam).Validate(core.CheckName),
			huh.NewSelect[core.TokenType]().Title("Token to hand out").Inline(true).
				Options(huh.NewOption("access_token", core.TokenAccess), huh.NewOption("id_token", core.TokenID)).Value(&v.tokenType),
			tui.Input("Redirect URI of browser logins", &v.redirectURI).Placeholder("(empty: the profile's)").
				Validate(func(s string) error {
					if msg := core.CheckRedirectURI(strings.TrimSpace(s)); msg != "" {
						return errors.New(msg)
					}
					return nil
				}),
			tui.YesNo("Obtain DPoP-bound tokens (RFC 9449)", &v.dpop),
		).Title("Advanced").WithHideFunc(func() bool { return !v.advanced }),
	)
}

func addForm(st tui.Styles, reg Registry, profiles []string, preferred string) *tui.Form {
	v := valuesOf(core.NewAccount("", preferred))
	if preferred == "" && len(profiles) > 0 {
		v.profile = profiles[0]
	}
	return tui.NewForm(st, "Add account", func() *huh.Form { return v.build(profiles) },
		tui.Create(func() core.Account { return core.NewAccount("", "") }, v.apply, reg.AddAccount, func(a core.Account) string { return a.Name },
			func(a core.Account) string { return fmt.Sprintf("Account %s added.", a.Name) })).Watch(v)
}

func editForm(st tui.Styles, reg Registry, profiles []string, a core.Account) *tui.Form {
	v := valuesOf(a)
	v.edit = true
	if !slices.Contains(profiles, a.Profile) {
		profiles = append([]string{a.Profile}, profiles...)
	}
	return tui.NewForm(st, "Edit "+a.Name, func() *huh.Form { return v.build(profiles) },
		tui.Change("Account", a.Name, reg.EditAccount, v.apply)).Watch(v)
}
