package core

import (
	"slices"
	"testing"
)

// A secret that is given, or no longer used, is no longer missing; a
// password-grant account may lack its password only while it is marked
// missing.
func TestSettleSecrets(t *testing.T) {
	p := NewProfile("op")
	p.TLS.ClientCert, p.TLS.ClientKey = "/c.pem", "/k.pem"
	p.MissingSecrets = []string{SecretClientSecret, SecretClientKeyPassword, SecretClientSecret}
	p.SettleSecrets()
	if want := []string{SecretClientKeyPassword, SecretClientSecret}; !slices.Equal(p.MissingSecrets, want) {
		t.Fatalf("settled: %v, want %v", p.MissingSecrets, want)
	}
	p.ClientSecret = NewSecret("s")
	p.TLS.ClientCert, p.TLS.ClientKey = "", ""
	p.SettleSecrets()
	if p.NeedsSecret() {
		t.Fatalf("secret given and key gone, still missing %v", p.MissingSecrets)
	}

	a := NewAccount("svc", "op")
	a.GrantType, a.Username, a.Scopes = GrantPassword, "svc", []string{"openid"}
	if err := a.Validate(); err == nil {
		t.Fatal("a password-grant account without a password and not marked missing is valid")
	}
	a.MissingSecrets = []string{SecretPassword}
	if err := a.Validate(); err != nil {
		t.Fatalf("marked missing: %v", err)
	}
	if fix := NeedsSecretFix(a, p); fix != "the password is not set; give it with: oidcctl account edit svc --password-file FILE" {
		t.Errorf("fix: %q", fix)
	}
	a.GrantType = GrantClientCredentials
	a.Username = ""
	a.SettleSecrets()
	if a.NeedsSecret() {
		t.Errorf("client_credentials account still needs %v", a.MissingSecrets)
	}
}
