package core

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func validProfile() Profile {
	p := NewProfile("keycloak")
	p.DiscoveryURL = "https://idp.example/realms/master/.well-known/openid-configuration"
	p.ClientID = "someapi"
	p.ClientSecret = NewSecret("s3cr3t")
	return p
}

func TestProfileValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Profile)
		want   []string // fields that must be named; none means valid
	}{
		{"valid", func(*Profile) {}, nil},
		{"loopback http", func(p *Profile) { p.DiscoveryURL = "http://127.0.0.1:8080/.well-known/openid-configuration" }, nil},
		{"localhost http", func(p *Profile) { p.DiscoveryURL = "http://localhost/.well-known/openid-configuration" }, nil},
		{"ipv6 loopback http", func(p *Profile) { p.DiscoveryURL = "http://[::1]:9/.well-known/openid-configuration" }, nil},
		{"insecure http allowed", func(p *Profile) { p.DiscoveryURL = "http://idp.lan/x"; p.InsecureHTTP = true }, nil},
		{"plain http", func(p *Profile) { p.DiscoveryURL = "http://idp.example/x" }, []string{"discovery URL"}},
		{"ftp", func(p *Profile) { p.DiscoveryURL = "ftp://idp.example/x" }, []string{"discovery URL"}},
		{"no host", func(p *Profile) { p.DiscoveryURL = "https:///x" }, []string{"discovery URL"}},
		{"not a URL", func(p *Profile) { p.DiscoveryURL = "://" }, []string{"discovery URL"}},
		{"userinfo", func(p *Profile) { p.DiscoveryURL = "https://u:p@idp.example/x" }, []string{"discovery URL"}},
		{"missing URL and client", func(p *Profile) { p.DiscoveryURL, p.ClientID = "", " " }, []string{"discovery URL", "client id"}},
		{"bad name", func(p *Profile) { p.Name = "has space" }, []string{"name"}},
		{"empty name", func(p *Profile) { p.Name = "" }, []string{"name"}},
		{"bad flavour", func(p *Profile) { p.Flavour = "okta" }, []string{"flavour"}},
		{"cert without key", func(p *Profile) { p.TLS.ClientCert = "c.pem" }, []string{"client certificate"}},
		{"key password without key", func(p *Profile) { p.TLS.ClientKeyPassword = NewSecret("x") }, []string{"client key password"}},
		{"short rand", func(p *Profile) { p.Misc.RandLength = 8 }, []string{"rand length"}},
		{"short rand ttl", func(p *Profile) { p.Misc.RandTTL = time.Second }, []string{"rand TTL"}},
		{"negative leeway", func(p *Profile) { p.Misc.Leeway = -time.Second }, []string{"leeway"}},
		{"negative ttl", func(p *Profile) { p.DiscoveryTTL = -time.Second }, []string{"discovery TTL"}},
		{"no uid claim", func(p *Profile) { p.UIDClaim = "" }, []string{"UID claim"}},
		{"bad scope", func(p *Profile) { p.Scopes = []string{"a b"} }, []string{"scope"}},
		{"role map path", func(p *Profile) { p.RoleMap = RoleMap{"a..b": {"x": "y"}} }, []string{"role map"}},
		{"user map without email", func(p *Profile) { p.UserMap = UserMap{"given_name": UserFirstName} }, []string{"user map"}},
		{"private_key_jwt before keygen", func(p *Profile) { p.TokenAuthMethod = AuthPrivateKeyJWT }, nil},
		{"unknown auth method", func(p *Profile) { p.TokenAuthMethod = "client_secret_jwt" }, []string{"token auth method"}},
		{"tls_client_auth without certificate", func(p *Profile) { p.TokenAuthMethod = AuthTLSClient }, []string{"token auth method"}},
		{"self-signed with certificate", func(p *Profile) {
			p.TokenAuthMethod, p.TLS.ClientCert, p.TLS.ClientKey = AuthSelfSignedTLS, "c.pem", "k.pem"
		}, nil},
		{"bad assertion audience", func(p *Profile) { p.AssertionAudience = "tenant" }, []string{"assertion audience"}},
		{"client keys", func(p *Profile) {
			p.ClientKeys = []ClientKey{{ID: "a", Algorithm: KeyRS256, PrivateKey: NewSecret("x")}, {ID: "b", Algorithm: KeyES256, PrivateKey: NewSecret("y")}}
		}, nil},
		{"client key twice", func(p *Profile) {
			p.ClientKeys = []ClientKey{{ID: "a", Algorithm: KeyRS256, PrivateKey: NewSecret("x")}, {ID: "a", Algorithm: KeyRS256, PrivateKey: NewSecret("x")}}
		}, []string{"client key"}},
		{"client key without private key", func(p *Profile) { p.ClientKeys = []ClientKey{{ID: "a", Algorithm: KeyES256}} }, []string{"client key"}},
		{"client key of HS256", func(p *Profile) {
			p.ClientKeys = []ClientKey{{ID: "a", Algorithm: "HS256", PrivateKey: NewSecret("x")}}
		}, []string{"client key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile()
			tt.change(&p)
			err := p.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var v *ValidationError
			if !errors.As(err, &v) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			if len(v.Problems) != len(tt.want) {
				t.Fatalf("want problems with %v, got %v", tt.want, v.Problems)
			}
			for i, field := range tt.want {
				if v.Problems[i].Field != field {
					t.Errorf("problem %d names %q, want %q (%v)", i, v.Problems[i].Field, field, err)
				}
			}
		})
	}
}

func TestPrefillNeverCopiesSecrets(t *testing.T) {
	src := validProfile()
	src.TLS.ClientKey, src.TLS.ClientCert = "k.pem", "c.pem"
	src.TLS.ClientKeyPassword = NewSecret("keypw")
	src.Scopes = []string{"profile"}
	src.RoleMap = RoleMap{"roles": {"a": "b"}}
	src.ClientKeys = []ClientKey{{ID: "k", Algorithm: KeyES256, PrivateKey: NewSecret("private")}}
	p := NewProfile("second")
	p.ClientID = "other"
	p.PrefillFrom(src)
	if p.Name != "second" || p.ClientID != "other" {
		t.Fatalf("name or client id copied: %+v", p)
	}
	if p.ClientSecret.IsSet() || p.TLS.ClientKeyPassword.IsSet() || p.ClientKeys != nil {
		t.Fatal("a secret was copied")
	}
	if p.DiscoveryURL != src.DiscoveryURL || p.TLS.ClientKey != "k.pem" || p.Scopes[0] != "profile" {
		t.Fatalf("settings not copied: %+v", p)
	}
	p.RoleMap["roles"]["a"] = "changed"
	p.Scopes[0] = "changed"
	if src.RoleMap["roles"]["a"] != "b" || src.Scopes[0] != "profile" {
		t.Fatal("prefilled profile shares maps or slices with its source")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter2")
	p := validProfile()
	p.ClientSecret = s
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("profile", "secret", s, "profile", p)
	text, _ := s.MarshalText()
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", p, p, p, s, s), logged.String(), string(text)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "hunter2" || s.String() != "set" || (Secret{}).String() != "not set" {
		t.Fatal("Reveal or String wrong")
	}
}

func TestAccountValidate(t *testing.T) {
	valid := func() Account {
		a := NewAccount("billing", "keycloak")
		a.Scopes = []string{"openid", "offline_access"}
		return a
	}
	tests := []struct {
		name   string
		change func(*Account)
		want   []string
	}{
		{"valid", func(*Account) {}, nil},
		{"password grant", func(a *Account) {
			a.GrantType, a.Username, a.Password = GrantPassword, "svc", NewSecret("pw")
		}, nil},
		{"password grant without credentials", func(a *Account) { a.GrantType = GrantPassword }, []string{"username", "password"}},
		{"username on client_credentials", func(a *Account) { a.Username = "svc" }, []string{"username"}},
		{"unknown grant", func(a *Account) { a.GrantType = "implicit" }, []string{"grant type"}},
		{"no profile", func(a *Account) { a.Profile = "" }, []string{"profile"}},
		{"relative resource", func(a *Account) { a.Resources = []string{"/api"} }, []string{"resource"}},
		{"resource fragment", func(a *Account) { a.Resources = []string{"https://api.example/#x"} }, []string{"resource"}},
		{"bad resource param", func(a *Account) { a.ResourceParam = "a b" }, []string{"resource parameter name"}},
		{"bad token type", func(a *Account) { a.TokenType = "refresh_token" }, []string{"token type"}},
		{"id_token without openid", func(a *Account) { a.TokenType, a.Scopes = TokenID, nil }, []string{"token type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			tt.change(&a)
			err := a.Validate()
			var v *ValidationError
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if !errors.As(err, &v) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			var got []string
			for _, p := range v.Problems {
				got = append(got, p.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("problems %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

func TestParseRoleMap(t *testing.T) {
	tests := []struct {
		name, in string
		want     RoleMap
		err      string
	}{
		{"flat json", `{"realm_access.roles": {"admin": "Admin"}}`, RoleMap{"realm_access.roles": {"admin": "Admin"}}, ""},
		{"manual nested form", `{"roles": {"TokenRole1": "R1"}, "resource_access": {"abc123": {"roles": {"TokenRole3": "R3"}}}}`,
			RoleMap{"roles": {"TokenRole1": "R1"}, "resource_access.abc123.roles": {"TokenRole3": "R3"}}, ""},
		{"yaml", "roles:\n  admin: Admin\n  reader: Reader\n", RoleMap{"roles": {"admin": "Admin", "reader": "Reader"}}, ""},
		{"not yaml", "{", nil, "not valid JSON or YAML"},
		{"scalar", `{"roles": "admin"}`, nil, "want a map"},
		{"mixed", `{"roles": {"a": "b", "nested": {"c": "d"}}}`, nil, "mixes roles and nested claims"},
		{"empty role", `{"roles": {"a": ""}}`, nil, "must both be non-empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRoleMap([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want error with %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseUserMap(t *testing.T) {
	um, err := ParseUserMap([]byte(`{"email": "UserEmail", "given_name": "FirstName", "family_name": "userlastname"}`))
	if err != nil {
		t.Fatal(err)
	}
	if um["email"] != UserEmail || um["given_name"] != UserFirstName || um["family_name"] != UserLastName {
		t.Fatalf("got %v", um)
	}
	if um.ClaimFor(UserEmail) != "email" {
		t.Fatalf("ClaimFor(Email) = %q", um.ClaimFor(UserEmail))
	}
	for in, want := range map[string]string{
		`{"email": "Phone"}`:                  "want Email, FirstName or LastName",
		`{"given_name": "FirstName"}`:         "no claim maps to Email",
		`{"email": "Email", "mail": "Email"}`: "both",
		`[1, 2]`:                              "not valid JSON or YAML",
	} {
		if _, err := ParseUserMap([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want error with %q, got %v", in, want, err)
		}
	}
}

func TestInUseErrorNamesUsers(t *testing.T) {
	err := error(&InUseError{Kind: "profile", Name: "kc", UsedBy: "account", Users: []string{"a", "b"}})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "accounts a, b") {
		t.Fatalf("got %v", err)
	}
}

func TestStateTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl, want time.Duration
	}{
		{0, DefaultRandTTL},
		{-time.Second, DefaultRandTTL},
		{time.Minute, time.Minute},
	} {
		if got := (Misc{RandTTL: tc.ttl}).StateTTL(); got != tc.want {
			t.Errorf("StateTTL with RandTTL %s = %s, want %s", tc.ttl, got, tc.want)
		}
	}
}
