package db

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"oidcctl/core"
)

// The PKCE verifier of a pending login is sealed at rest, with the
// login's state as its associated data; the state, which travels in URLs,
// is not.
func TestPendingLoginVerifierEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "/test/oidcctl.key")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const (
		verifier = "PLAINTEXT-pkce-verifier-4f5e6d"
		state    = "VISIBLE-state-1a2b3c"
	)
	if err := d.CreateProfile(ctx, minimalProfile("idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAccount(ctx, core.NewAccount("acct", "idp")); err != nil {
		t.Fatal(err)
	}
	if err := d.CreatePendingLogin(ctx, core.PendingLogin{
		State: state, Account: "acct", RedirectURI: "https://oidcctl.example.org/callback",
		Verifier: core.NewSecret(verifier), ExpiresAt: time.Now().Add(core.PendingLoginTTL),
	}); err != nil {
		t.Fatal(err)
	}
	raw := rawFiles(t, path)
	if !bytes.Contains(raw, []byte(state)) {
		t.Fatal("state not found in the raw files: the scan reads the wrong bytes")
	}
	if bytes.Contains(raw, []byte(verifier)) {
		t.Error("plaintext PKCE verifier found in the database files")
	}
	var sealed []byte
	if err := d.db.QueryRow(`SELECT verifier FROM pending_logins`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if got, err := key.Open(sealed, "login/"+state+"/verifier"); err != nil || string(got) != verifier {
		t.Errorf("the verifier column does not open with its associated data: %q, %v", got, err)
	}
}
