package core

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
)

// NewDPoPKey makes a new DPoP private key for an account: ES256 (P-256),
// in its stored form, base64 PKCS #8 DER (package dpop reads it with
// dpop.ParseStored).
func NewDPoPKey() (Secret, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Secret{}, fmt.Errorf("new DPoP key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return Secret{}, fmt.Errorf("new DPoP key: %w", err)
	}
	return NewSecret(base64.StdEncoding.EncodeToString(der)), nil
}

// settleDPoPKey gives an account with DPoP on a key (key, when it has
// none) and takes it from one with DPoP off: a key is never reused after
// DPoP was off, since tokens bound to it may be around.
func (a *Account) settleDPoPKey(key Secret) {
	switch {
	case !a.DPoP:
		a.DPoPKey = Secret{}
	case !a.DPoPKey.IsSet():
		a.DPoPKey = key
	}
}
