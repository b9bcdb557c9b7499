package jws

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"oidcctl/core/jwks"
)

// BenchmarkParse measures, on an RS256 token shaped like Keycloak's
// (about 1.2 KB), the parse alone and the parse with the signature check:
// what a first validation spends in this package. The rest (claims, role
// map, user) comes on top (see validate's BenchmarkValidate).
func BenchmarkParse(b *testing.B) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{
		"iss": "https://idp.example/realms/main", "sub": "f:2d1b0c7e-5a1e-4c4a-9d1a-7b5e3c2a1f00:svc-billing", "aud": "billing",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": "0e0b6c5e-2f6b-4a8f-a1f7-1c3b8d5e9f21", "typ": "Bearer", "azp": "billing",
		"session_state": "6a2f0e3c-8d4b-4c1a-9e7f-2b5d3c1a0f98", "acr": "1",
		"realm_access":    map[string]any{"roles": []any{"offline_access", "uma_authorization", "tickets"}},
		"resource_access": map[string]any{"account": map[string]any{"roles": []any{"manage-account", "view-profile"}}},
		"scope":           "openid profile email tickets", "email_verified": false,
		"preferred_username": "svc-billing", "client_id": "billing", "clientHost": "10.0.0.17",
	}
	enc := func(v any) string {
		j, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(j)
	}
	input := enc(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "bench-RS256"}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	tok := input + "." + base64.RawURLEncoding.EncodeToString(sig)
	key := jwks.Key{Public: &priv.PublicKey, Alg: "RS256"}

	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if t := Parse(tok); t.Problem != "" {
				b.Fatal(t.Problem)
			}
		}
		b.ReportMetric(float64(len(tok)), "token-bytes")
	})
	// parse-raw is ParseRaw as Validate calls it (the claims its checks
	// read): the header and payload go through scanRaw.
	b.Run("parse-raw", func(b *testing.B) {
		want := func(name string) (string, bool) {
			switch name {
			case "iss", "sub", "aud", "exp", "nbf", "iat", "azp", "scope", "realm_access", "preferred_username", "client_id":
				return name, true
			}
			return "", false
		}
		b.ReportAllocs()
		for b.Loop() {
			if t := ParseRaw(tok, want); t.Problem != "" {
				b.Fatal(t.Problem)
			}
		}
	})
	b.Run("parse+verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t := Parse(tok)
			if err := t.Verify(key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
