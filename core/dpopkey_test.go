package core_test

import (
	"context"
	"testing"

	"oidcctl/core"
	"oidcctl/core/dpop"
	"oidcctl/core/memstore"
)

// TestRegistryDPoPKey: an account with DPoP gets a key when added or
// when DPoP is turned on, keeps it across edits, and loses it when DPoP
// is turned off; the key is one package dpop can sign with.
func TestRegistryDPoPKey(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	reg := core.Registry{Store: st}
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID = "https://op.example/.well-known/openid-configuration", "cid"
	if err := reg.AddProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	a := core.NewAccount("acc", "op")
	a.DPoP = true
	if err := reg.AddAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := st.Account(ctx, "acc")
	if err != nil || !got.DPoPKey.IsSet() {
		t.Fatalf("added with DPoP: key set %v, %v", got.DPoPKey.IsSet(), err)
	}
	k, err := dpop.ParseStored(got.DPoPKey.Reveal())
	if err != nil || k.Alg() != "ES256" {
		t.Fatalf("stored key: %v %v", k, err)
	}
	edited, err := reg.EditAccount(ctx, "acc", func(a *core.Account) error { a.Scopes = []string{"x"}; return nil })
	if err != nil || edited.DPoPKey.Reveal() != got.DPoPKey.Reveal() {
		t.Fatalf("an edit changed the key (%v)", err)
	}
	off, err := reg.EditAccount(ctx, "acc", func(a *core.Account) error { a.DPoP = false; return nil })
	if err != nil || off.DPoPKey.IsSet() {
		t.Fatalf("DPoP off keeps the key (%v)", err)
	}
	on, err := reg.EditAccount(ctx, "acc", func(a *core.Account) error { a.DPoP = true; return nil })
	if err != nil || !on.DPoPKey.IsSet() || on.DPoPKey.Reveal() == got.DPoPKey.Reveal() {
		t.Fatalf("DPoP on again: a new key wanted (%v)", err)
	}
}
