package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ErrNeedsSecret is matched (errors.Is) by the error of obtaining tokens
// for an account that, or whose profile, lacks a secret it needs.
var ErrNeedsSecret = errors.New("needs secret")

// The names of secrets in Profile.MissingSecrets and
// Account.MissingSecrets, as the configuration file spells them.
const (
	SecretClientSecret      = "client_secret"
	SecretClientKeyPassword = "client_key_password"
	SecretPassword          = "password"
)

// StateNeedsSecret is the state of a profile or account that was imported
// without a secret it needs, and of the accounts of such a profile: it
// cannot obtain tokens until the secret is given.
const StateNeedsSecret = "needs secret"

// NeedsSecret reports whether the profile lacks a secret it needs.
func (p Profile) NeedsSecret() bool { return len(p.MissingSecrets) > 0 }

// NeedsSecret reports whether the account lacks a secret it needs.
func (a Account) NeedsSecret() bool { return len(a.MissingSecrets) > 0 }

// SettleSecrets drops from MissingSecrets every secret that is now set
// (and the key password of a profile without a client key), and sorts
// the rest: the profile no longer needs what it has.
func (p *Profile) SettleSecrets() {
	if p.TLS.ClientKey == "" {
		// No key, no key password to give.
		p.MissingSecrets = slices.DeleteFunc(p.MissingSecrets, func(s string) bool { return s == SecretClientKeyPassword })
	}
	p.MissingSecrets = settle(p.MissingSecrets, map[string]Secret{
		SecretClientSecret:      p.ClientSecret,
		SecretClientKeyPassword: p.TLS.ClientKeyPassword,
	})
}

// SettleSecrets is Profile.SettleSecrets for accounts. An account that
// no longer uses the password grant needs no password either.
func (a *Account) SettleSecrets() {
	if a.GrantType != GrantPassword {
		a.MissingSecrets = slices.DeleteFunc(a.MissingSecrets, func(s string) bool { return s == SecretPassword })
	}
	a.MissingSecrets = settle(a.MissingSecrets, map[string]Secret{SecretPassword: a.Password})
}

func settle(missing []string, have map[string]Secret) []string {
	var out []string
	for _, name := range missing {
		if s, known := have[name]; known && !s.IsSet() && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// NeedsSecretFix says how the secrets of an account (and of its profile)
// are given; "" when none is missing.
func NeedsSecretFix(a Account, p Profile) string {
	switch {
	case a.NeedsSecret():
		return fmt.Sprintf("the %s is not set; give it with: oidcctl account edit %s --password-file FILE", a.MissingSecrets[0], a.Name)
	case slices.Contains(p.MissingSecrets, SecretClientSecret):
		return fmt.Sprintf("the client secret of profile %s is not set; give it with: oidcctl profile edit %s --client-secret-file FILE", p.Name, p.Name)
	case p.NeedsSecret():
		return fmt.Sprintf("the %s of profile %s is not set; give it with: oidcctl profile edit %s --client-key-password-file FILE", p.MissingSecrets[0], p.Name, p.Name)
	}
	return ""
}

// SecretsNeeded returns, for every account that cannot obtain tokens
// until a secret of it or of its profile is given, NeedsSecretFix. Only
// those accounts are read (AccountsNeedingSecrets), so that 100,000
// accounts are not all read and held to find the few.
func SecretsNeeded(ctx context.Context, s interface {
	Profiles(ctx context.Context) ([]Profile, error)
	AccountsNeedingSecrets(ctx context.Context) ([]Account, error)
}) (map[string]string, error) {
	profiles, err := s.Profiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets needed: %w", err)
	}
	accounts, err := s.AccountsNeedingSecrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets needed: %w", err)
	}
	byName := make(map[string]Profile, len(profiles))
	for _, p := range profiles {
		byName[p.Name] = p
	}
	out := map[string]string{}
	for _, a := range accounts {
		if fix := NeedsSecretFix(a, byName[a.Profile]); fix != "" {
			out[a.Name] = fix
		}
	}
	return out, nil
}
