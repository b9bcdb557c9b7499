package core

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"", "keycloak", "realm_access.roles", "api://1234/read", "Jörg Müller", "ticket reader", "日本"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"a\x1b[31mb", "line\nbreak", "tab\there", "cr\r", "nul\x00", "del\x7f", "c1\u0085", "sep\u2028", "bidi\u202eevil", "iso\u2066x", "\xff\xfe"} {
		err := CheckName(bad)
		if err == nil {
			t.Errorf("CheckName(%q) = nil, want an error", bad)
			continue
		}
		// The message quotes the value, so that it cannot act on a terminal.
		if strings.ContainsAny(err.Error(), "\x1b\n\r\x00\x7f\u0085\u2028\u202e\u2066") {
			t.Errorf("CheckName(%q): message %q holds the character itself", bad, err)
		}
	}
}

// TestValidateRefusesControlCharacters: every name and identifier of a
// profile, account, user and webservice goes through CheckName.
func TestValidateRefusesControlCharacters(t *testing.T) {
	const esc = "x\x1b[2Jy"
	profile := func(f func(*Profile)) error {
		p := NewProfile("idp")
		p.DiscoveryURL, p.ClientID = "https://idp.example/.well-known/openid-configuration", "client"
		f(&p)
		return p.Validate()
	}
	account := func(f func(*Account)) error {
		a := NewAccount("billing", "idp")
		f(&a)
		return a.Validate()
	}
	user := func(f func(*User)) error {
		u := User{Login: "alice"}
		f(&u)
		return u.Validate()
	}
	webservice := func(f func(*Webservice)) error {
		w := NewWebservice("tickets", Provider)
		w.Profile, w.Route, w.Methods, w.Upstream = "idp", "/t", []string{"GET"}, "http://127.0.0.1:1/x"
		f(&w)
		return w.Validate()
	}
	for _, tt := range []struct {
		name  string
		field string
		err   error
	}{
		{"profile client id", "client id", profile(func(p *Profile) { p.ClientID = esc })},
		{"profile UID claim", "UID claim", profile(func(p *Profile) { p.UIDClaim = esc })},
		{"profile role map claim", "role map claim", profile(func(p *Profile) { p.RoleMap = RoleMap{esc: {"a": "b"}} })},
		{"profile role map role", "role map role", profile(func(p *Profile) { p.RoleMap = RoleMap{"roles": {"a": esc}} })},
		{"profile user map claim", "user map claim", profile(func(p *Profile) { p.UserMap = UserMap{esc: UserEmail} })},
		{"profile restrict user login", "restrict user login", profile(func(p *Profile) { p.Restrictions.UserLogin = esc })},
		{"profile restrict audience", "restrict audience", profile(func(p *Profile) { p.Restrictions.Audiences = []string{esc} })},
		{"profile restrict azp", "restrict azp", profile(func(p *Profile) { p.Restrictions.AuthorizedParty = esc })},
		{"account profile", "profile", account(func(a *Account) { a.Profile = esc })},
		{"account username", "username", account(func(a *Account) {
			a.GrantType, a.Username, a.Password = GrantPassword, esc, NewSecret("pw")
		})},
		{"user login", "login", user(func(u *User) { u.Login = esc })},
		{"user role", "role", user(func(u *User) { u.Roles = []string{"reader\x07"} })},
		{"user first name", "first name", user(func(u *User) { u.FirstName = esc })},
		{"webservice route", "route", webservice(func(w *Webservice) { w.Route = "/t" + esc })},
		{"webservice profile", "profile", webservice(func(w *Webservice) { w.Profile = esc })},
	} {
		var v *ValidationError
		if !errors.As(tt.err, &v) {
			t.Errorf("%s: %v, want a *ValidationError", tt.name, tt.err)
			continue
		}
		found := false
		for _, p := range v.Problems {
			found = found || p.Field == tt.field && strings.Contains(p.Problem, "control character")
		}
		if !found {
			t.Errorf("%s: problems %v lack %q with a control character", tt.name, v.Problems, tt.field)
		}
	}
}
