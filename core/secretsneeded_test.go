package core_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"oidcctl/core"
	"oidcctl/core/memstore"
)

// noFullList is a store whose Accounts refuses to list every account.
type noFullList struct{ *memstore.Store }

func (noFullList) Accounts(context.Context, string) ([]core.Account, error) {
	return nil, errors.New("every account read at once")
}

// TestSecretsNeededReadsOnlyThoseAccounts: SecretsNeeded reads only the
// accounts that need a secret (AccountsNeedingSecrets), so that token list of 100,000 accounts does not read and hold
// them all to find the few; what it finds is as before: accounts that
// lack their own secret, and every account of a profile that lacks its
// client secret.
func TestSecretsNeededReadsOnlyThoseAccounts(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	reg := core.Registry{Store: s}
	for _, name := range []string{"ok", "nosecret"} {
		p := core.NewProfile(name)
		p.DiscoveryURL, p.ClientID = "https://idp.example/.well-known/openid-configuration", "c"
		if name == "ok" {
			p.ClientSecret = core.NewSecret("s")
		} else {
			p.MissingSecrets = []string{core.SecretClientSecret}
		}
		if err := reg.AddProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	add := func(a core.Account) {
		t.Helper()
		a.Scopes = []string{"openid"}
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	add(core.NewAccount("fine", "ok"))
	add(core.NewAccount("orphan", "nosecret"))
	pw := core.NewAccount("pw", "ok")
	pw.GrantType, pw.Username, pw.MissingSecrets = core.GrantPassword, "alice", []string{core.SecretPassword}
	add(pw)

	want, err := core.SecretsNeeded(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 || want["orphan"] == "" || want["pw"] == "" {
		t.Fatalf("SecretsNeeded of the whole store: %q, want orphan and pw", want)
	}
	got, err := core.SecretsNeeded(ctx, noFullList{s})
	if err != nil {
		t.Fatalf("SecretsNeeded read every account: %v", err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("from the accounts that need a secret: %q, want %q", got, want)
	}
}
