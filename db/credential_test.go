package db

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"oidcctl/core"
)

func TestCredentials(t *testing.T) {
	d, _ := withWebserviceRefs(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.CreateWebservice(ctx, requesterWebservice("echo", "acct")))
	must(d.CreateWebservice(ctx, requesterWebservice("orders", "acct")))
	must(d.CreateWebservice(ctx, providerWebservice("tickets", "idp")))

	cron, secret, err := core.NewInvokeCredential("echo", "cron")
	must(err)
	v0 := mustVersion(t, d)
	must(d.CreateCredential(ctx, cron))
	if mustVersion(t, d) == v0 {
		t.Fatal("issuing a credential is not a configuration change: serve would not see it")
	}
	ci, _, _ := core.NewInvokeCredential("echo", "ci")
	must(d.CreateCredential(ctx, ci))
	other, _, _ := core.NewInvokeCredential("orders", "cron") // the same name on another webservice
	must(d.CreateCredential(ctx, other))

	got, err := d.Credentials(ctx, "echo")
	must(err)
	if len(got) != 2 || got[0].Name != "ci" || got[1].Name != "cron" || got[1].Webservice != "echo" ||
		!bytes.Equal(got[1].Hash, cron.Hash) || got[1].Hint != cron.Hint || !got[1].CreatedAt.Equal(t0) {
		t.Fatalf("Credentials(echo): %+v", got)
	}
	if !got[1].Matches(secret.Reveal()) || got[0].Matches(secret.Reveal()) {
		t.Fatal("the stored hash does not match the secret it was made from, or matches another")
	}
	all, err := d.Credentials(ctx, "")
	must(err)
	if len(all) != 3 || all[2].Webservice != "orders" {
		t.Fatalf("Credentials(all): %+v", all)
	}
	// The secret itself is nowhere in the database.
	var n int
	must(d.db.QueryRow(`SELECT count(*) FROM invoke_credentials WHERE hint = ? OR CAST(hash AS TEXT) = ?`, secret.Reveal(), secret.Reveal()).Scan(&n))
	if n != 0 || strings.Contains(cron.Hint, secret.Reveal()[len(core.CredentialPrefix)+4:]) {
		t.Fatal("the secret is stored")
	}

	dup, _, _ := core.NewInvokeCredential("echo", "cron")
	if err := d.CreateCredential(ctx, dup); !errors.Is(err, core.ErrExists) {
		t.Fatalf("a second cron on echo: %v", err)
	}
	ghost, _, _ := core.NewInvokeCredential("ghost", "x")
	if err := d.CreateCredential(ctx, ghost); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("a credential of a missing webservice: %v", err)
	}
	prov, _, _ := core.NewInvokeCredential("tickets", "x")
	var verr *core.ValidationError
	if err := d.CreateCredential(ctx, prov); !errors.As(err, &verr) || !strings.Contains(err.Error(), "requester") {
		t.Fatalf("a credential of a provider webservice: %v", err)
	}
	bad := cron
	bad.Name = "bad name"
	if err := d.CreateCredential(ctx, bad); !errors.As(err, &verr) {
		t.Fatalf("a bad name: %v", err)
	}
	if _, err := d.Credentials(ctx, "ghost"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Credentials(ghost): %v", err)
	}

	v1 := mustVersion(t, d)
	must(d.DeleteCredential(ctx, "echo", "cron"))
	if mustVersion(t, d) == v1 {
		t.Fatal("revoking a credential is not a configuration change: serve would keep taking it")
	}
	if err := d.DeleteCredential(ctx, "echo", "cron"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("revoked twice: %v", err)
	}
	if err := d.DeleteCredential(ctx, "ghost", "cron"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("revoke on a missing webservice: %v", err)
	}
	if got, _ := d.Credentials(ctx, "echo"); len(got) != 1 || got[0].Name != "ci" {
		t.Fatalf("after revoking cron: %+v", got)
	}
	// Removing the webservice removes its credentials.
	must(d.DeleteWebservice(ctx, "echo"))
	if all, _ := d.Credentials(ctx, ""); len(all) != 1 || all[0].Webservice != "orders" {
		t.Fatalf("after removing echo: %+v", all)
	}
}
