package db

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/internal/testkit"
)

// t0 is the fake clock's start: a time with milliseconds, as stored.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func newKey(t testing.TB, source string) *crypt.Key {
	t.Helper()
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		t.Fatal(err)
	}
	k, err := crypt.NewKey(material, source)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openTest opens a new database in a temporary directory with a fake clock
// at t0.
func openTest(t *testing.T) (*DB, *testkit.Clock) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", FileName)
	d, err := Open(context.Background(), path, newKey(t, "/test/oidcctl.key"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c := testkit.Frozen(t0)
	d.Now = c.Now
	return d, c
}

// fullProfile returns a profile with every field set to a value other than
// its default; fields filled by the store (CreatedAt, UpdatedAt) stay zero.
func fullProfile(name string) core.Profile {
	return core.Profile{
		Name:         name,
		DiscoveryURL: "https://idp.example.com/realms/" + name + "/.well-known/openid-configuration",
		DiscoveryTTL: 17*time.Minute + 3*time.Millisecond + 5, // nanoseconds survive
		ClientID:     "client-" + name,
		ClientSecret: core.NewSecret("client-secret-" + name),
		Scopes:       []string{"email", "profile", "api://billing/read"},
		InsecureHTTP: true,
		// Not the first of core.TokenAuthMethods after "", so that a
		// stored index or a default would show.
		TokenAuthMethod:   "client_secret_post",
		AssertionAudience: core.AudienceIssuer,
		ClientKeys: []core.ClientKey{
			{ID: "kid-old-" + name, Algorithm: core.KeyES256, PrivateKey: core.NewSecret("private-old-" + name),
				CreatedAt: time.UnixMilli(1_700_000_000_123).UTC()},
			{ID: "kid-new-" + name, Algorithm: core.KeyRS256, PrivateKey: core.NewSecret("private-new-" + name),
				Certificate: "-----BEGIN CERTIFICATE-----\n" + name, CreatedAt: time.UnixMilli(1_700_000_100_456).UTC()},
		},
		Introspect:  true,
		RedirectURI: "http://[::1]:8400/" + name + "/callback",
		// Stored as given: whether it agrees with the secrets is core's.
		MissingSecrets: []string{core.SecretClientSecret},
		DPoP:           core.DPoPRequire,
		DPoPNonce:      true,
		UserinfoClaims: true,
		LogTokenClaims: true,
		Flavour:        core.FlavourKeycloak,
		TLS: core.TLSOptions{
			ClientCert:         "/etc/oidcctl/" + name + ".crt",
			ClientKey:          "/etc/oidcctl/" + name + ".key",
			ClientKeyPassword:  core.NewSecret("key-password-" + name),
			CAFile:             "/etc/oidcctl/ca.pem",
			CADir:              "/etc/ssl/certs",
			SkipVerifyHostname: true,
			SkipVerifyPeer:     true,
		},
		Misc: core.Misc{
			UseNonce:   true,
			RandLength: 40,
			RandTTL:    123 * time.Second,
			Leeway:     1500 * time.Millisecond,
		},
		UIDClaim: "preferred_username",
		RoleMap: core.RoleMap{
			"realm_access.roles":            {"admin": "admin"},
			"resource_access.billing.roles": {"viewer": "ro", "editor": "rw"},
		},
		UserMap: core.UserMap{
			"email":       core.UserEmail,
			"given_name":  core.UserFirstName,
			"family_name": core.UserLastName,
		},
		Restrictions: core.Restrictions{
			UserLogin:       "svc-" + name,
			Scopes:          []string{"api.read", "api.write"},
			Audiences:       []string{"billing", "tickets"},
			AuthorizedParty: "azp-" + name,
			Tenants:         []string{"tenant-" + name},
		},
	}
}

// fullAccount returns an account with every field set.
func fullAccount(name, profile string) core.Account {
	return core.Account{
		Name:          name,
		Profile:       profile,
		GrantType:     core.GrantPassword,
		Username:      "user-" + name,
		Password:      core.NewSecret("password-" + name),
		Scopes:        []string{"openid", "offline_access"},
		Resources:     []string{"https://api.example.com/", "urn:example:billing"},
		ResourceParam: "audience",
		TokenType:     core.TokenID,
		RedirectURI:   "http://localhost/" + name,
		// Stored as given: whether it agrees with the password is core's.
		MissingSecrets: []string{core.SecretPassword},
		DPoP:           true,
		DPoPKey:        core.NewSecret("dpop-key-" + name),
	}
}

// minimalProfile is the smallest profile core accepts, no secrets.
func minimalProfile(name string) core.Profile {
	p := core.NewProfile(name)
	p.DiscoveryURL = "https://idp.example.com/.well-known/openid-configuration"
	p.ClientID = "client-" + name
	return p
}

// assertFilled fails when a field of v, at any depth, holds its zero value,
// except the names in skip. It keeps the round-trip fixtures complete when
// core gains a field.
func assertFilled(t *testing.T, v any, skip ...string) {
	t.Helper()
	var walk func(path string, rv reflect.Value)
	walk = func(path string, rv reflect.Value) {
		for _, s := range skip {
			if path == s {
				return
			}
		}
		if s, ok := rv.Interface().(core.Secret); ok {
			if !s.IsSet() {
				t.Errorf("fixture leaves %s unset", path)
			}
			return
		}
		if tm, ok := rv.Interface().(time.Time); ok {
			if tm.IsZero() {
				t.Errorf("fixture leaves %s at its zero value", path)
			}
			return
		}
		if rv.Kind() == reflect.Struct {
			for i := range rv.NumField() {
				walk(path+"."+rv.Type().Field(i).Name, rv.Field(i))
			}
			return
		}
		if rv.IsZero() || ((rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0) {
			t.Errorf("fixture leaves %s at its zero value", path)
		}
	}
	walk(reflect.TypeOf(v).Name(), reflect.ValueOf(v))
}

// equalProfile compares two profiles field by field, secrets by plaintext,
// and reports every difference.
func equalProfile(t *testing.T, got, want core.Profile) {
	t.Helper()
	if got.ClientSecret.Reveal() != want.ClientSecret.Reveal() {
		t.Errorf("ClientSecret: got %q, want %q", got.ClientSecret.Reveal(), want.ClientSecret.Reveal())
	}
	if got.TLS.ClientKeyPassword.Reveal() != want.TLS.ClientKeyPassword.Reveal() {
		t.Errorf("TLS.ClientKeyPassword: got %q, want %q", got.TLS.ClientKeyPassword.Reveal(), want.TLS.ClientKeyPassword.Reveal())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile %s differs:\n got %+v\nwant %+v", want.Name, got, want)
	}
}

func equalAccount(t *testing.T, got, want core.Account) {
	t.Helper()
	if got.Password.Reveal() != want.Password.Reveal() {
		t.Errorf("Password: got %q, want %q", got.Password.Reveal(), want.Password.Reveal())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("account %s differs:\n got %+v\nwant %+v", want.Name, got, want)
	}
}
