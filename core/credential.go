package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// A requester webservice makes calls with a functional account's token, so
// whoever may call it borrows that account's identity. On the token socket
// the socket's file permissions decide who that is; over TCP only a caller
// that presents an invoke credential oidcctl issued for that webservice.

// CredentialHeader is the request header in which a caller presents an
// invoke credential over TCP. It is a header of its own, not
// Authorization, so that a caller's own Authorization (for the remote
// endpoint, say) is never mistaken for it; serve removes it before the
// call goes on.
const CredentialHeader = "X-Oidcctl-Credential"

// CredentialPrefix starts every invoke credential, so that secret
// scanners and people recognise one.
const CredentialPrefix = "oidcctl_inv_"

// credentialBytes is the entropy of a credential.
const credentialBytes = 32

// InvokeCredential is what is kept of an invoke credential: never the
// secret, only its SHA-256.
type InvokeCredential struct {
	// Webservice is the requester webservice the credential is for.
	Webservice string
	// Name tells the credentials of one webservice apart ("cron-billing").
	Name string
	// Hash is the SHA-256 of the secret.
	Hash []byte
	// Hint is the start of the secret (the prefix and four characters),
	// for recognising it in a list.
	Hint      string
	CreatedAt time.Time
}

// NewInvokeCredential makes a credential for a requester webservice and
// returns it with its secret, which is shown to the operator once and
// kept nowhere.
func NewInvokeCredential(webservice, name string) (InvokeCredential, Secret, error) {
	b := make([]byte, credentialBytes)
	if _, err := rand.Read(b); err != nil {
		return InvokeCredential{}, Secret{}, fmt.Errorf("invoke credential %s: %w", name, err)
	}
	secret := CredentialPrefix + base64.RawURLEncoding.EncodeToString(b)
	c := InvokeCredential{
		Webservice: webservice,
		Name:       name,
		Hash:       HashCredential(secret),
		Hint:       secret[:len(CredentialPrefix)+4] + "…",
	}
	return c, NewSecret(secret), nil
}

// HashCredential returns the SHA-256 of a credential's secret, the form
// it is stored and compared in.
func HashCredential(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Matches reports whether secret is this credential's, in time that does
// not depend on where the hashes differ.
func (c InvokeCredential) Matches(secret string) bool {
	return c.MatchesHash(HashCredential(secret))
}

// MatchesHash is Matches for a secret already hashed with
// HashCredential, for comparing one presented secret with many
// credentials.
func (c InvokeCredential) MatchesHash(sum []byte) bool {
	return len(c.Hash) == sha256.Size && subtle.ConstantTimeCompare(sum, c.Hash) == 1
}

// Validate reports the problems of a credential about to be stored.
func (c *InvokeCredential) Validate() error {
	var v ValidationError
	v.Kind, v.Name = "credential", c.Name
	if msg := checkName(c.Name); msg != "" {
		v.add("name", msg)
	}
	if c.Webservice == "" {
		v.add("webservice", "is required")
	}
	if len(c.Hash) != sha256.Size {
		v.add("hash", "must be a SHA-256")
	}
	if !strings.HasPrefix(c.Hint, CredentialPrefix) {
		v.add("hint", "must start with "+CredentialPrefix)
	}
	return v.err()
}

// CredentialStore keeps the invoke credentials of requester webservices.
// Adding or removing one counts as a configuration change
// (ChangeCounter), so that serve picks it up.
type CredentialStore interface {
	// CreateCredential stores a credential; *ExistsError when its
	// webservice already has one of that name, *NotFoundError when the
	// webservice does not exist, *ValidationError when it is not a
	// requester webservice.
	CreateCredential(ctx context.Context, c InvokeCredential) error
	// Credentials returns the credentials of a webservice, or of all when
	// webservice is "", ordered by webservice and name;
	// *NotFoundError when the webservice named does not exist.
	Credentials(ctx context.Context, webservice string) ([]InvokeCredential, error)
	// DeleteCredential revokes a credential; *NotFoundError when there is
	// none of that name.
	DeleteCredential(ctx context.Context, webservice, name string) error
}
