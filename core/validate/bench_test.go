package validate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// BenchmarkValidate compares, for RS256 and ES256 tokens of a realistic
// size (Keycloak-like claims, about 700 bytes):
//
//   - bare: base64 of the signature, SHA-256 of the signing input and
//     crypto/rsa or crypto/ecdsa alone — the floor;
//   - jwx-keyset, jwx-key: jws.Verify with the provider's set, and with the
//     one key picked by kid, for reference;
//   - first-time: Validate with the key cached and the result cache off:
//     every check, the role map and the user lookup;
//   - first-time-discovery: the same with the real discovery.Client
//     instead of a fixed document;
//   - repeated: Validate of a token seen before (result cache on).
func BenchmarkValidate(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) { benchAlg(b, alg) })
	}
}

func benchAlg(b *testing.B, alg string) {
	clk := newFakeClock(time.Now())
	key := newKey(b, "bench-"+alg, alg)
	idp := newIDP(b, "", key)
	users := newMemUsers(core.User{Login: "svc-billing", Roles: []string{"ticket-reader"}})
	prof := testProfile("bench", "billing")
	prof.DiscoveryURL = idp.srv.URL + "/.well-known/openid-configuration"
	prof.UIDClaim = "preferred_username"
	prof.RoleMap = core.RoleMap{"realm_access.roles": {"tickets": "ticket-reader"}}
	prof.Restrictions.Scopes = []string{"tickets"}
	now := clk.Now()
	tok := key.sign(b, claimsAt(idp.doc.Issuer, "f:2d1b0c7e-5a1e-4c4a-9d1a-7b5e3c2a1f00:svc-billing", "billing", now, map[string]any{
		"jti": "0e0b6c5e-2f6b-4a8f-a1f7-1c3b8d5e9f21", "typ": "Bearer", "azp": "billing",
		"session_state": "6a2f0e3c-8d4b-4c1a-9e7f-2b5d3c1a0f98", "acr": "1",
		"realm_access":    map[string]any{"roles": []any{"offline_access", "uma_authorization", "tickets"}},
		"resource_access": map[string]any{"account": map[string]any{"roles": []any{"manage-account", "view-profile"}}},
		"scope":           "openid profile email tickets", "email_verified": false,
		"preferred_username": "svc-billing", "client_id": "billing", "clientHost": "10.0.0.17",
	}))
	ctx := context.Background()
	newV := func(ttl time.Duration) *Validator {
		v := idp.validator(clk, users, resultTTL(ttl))
		if r := v.Validate(ctx, prof, tok); !r.Accepted() {
			b.Fatalf("%s: %s", r.Reason, r.Message)
		}
		return v
	}

	i := strings.LastIndexByte(tok, '.')
	input, sigB64 := tok[:i], tok[i+1:]
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sig, err := base64.RawURLEncoding.DecodeString(sigB64)
			if err != nil {
				b.Fatal(err)
			}
			digest := sha256.Sum256([]byte(input))
			switch pub := key.priv.Public().(type) {
			case *rsa.PublicKey:
				if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
					b.Fatal("bad signature")
				}
			case *ecdsa.PublicKey:
				if !ecdsaBare(pub, digest[:], sig) {
					b.Fatal("bad signature")
				}
			}
		}
	})

	// paired runs bare and first-time alternately in one loop and reports
	// both and their ratio, by the wall clock and by the CPU time of the
	// thread (Linux): on a busy machine, where separate runs drift, the
	// CPU-time ratio stays fair.
	b.Run("paired", func(b *testing.B) {
		v := newV(-1)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var bareWall, validWall, bareCPU, validCPU time.Duration
		b.ReportAllocs()
		for b.Loop() {
			c0, _ := threadCPU()
			t0 := time.Now()
			sig, _ := base64.RawURLEncoding.DecodeString(sigB64)
			digest := sha256.Sum256([]byte(input))
			switch pub := key.priv.Public().(type) {
			case *rsa.PublicKey:
				if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
					b.Fatal("bad signature")
				}
			case *ecdsa.PublicKey:
				if !ecdsaBare(pub, digest[:], sig) {
					b.Fatal("bad signature")
				}
			}
			t1 := time.Now()
			c1, _ := threadCPU()
			if r := v.Validate(ctx, prof, tok); !r.Accepted() {
				b.Fatal(r.Message)
			}
			t2 := time.Now()
			c2, _ := threadCPU()
			bareWall += t1.Sub(t0)
			validWall += t2.Sub(t1)
			bareCPU += c1 - c0
			validCPU += c2 - c1
		}
		n := float64(b.N)
		b.ReportMetric(float64(bareWall.Nanoseconds())/n, "bare-ns/op")
		b.ReportMetric(float64(validWall.Nanoseconds())/n, "validate-ns/op")
		b.ReportMetric(float64(validWall)/float64(bareWall), "ratio")
		if _, ok := threadCPU(); ok {
			b.ReportMetric(float64(bareCPU.Nanoseconds())/n, "bare-cpu-ns/op")
			b.ReportMetric(float64(validCPU.Nanoseconds())/n, "validate-cpu-ns/op")
			b.ReportMetric(float64(validCPU)/float64(bareCPU), "cpu-ratio")
		}
	})

	set := jwk.NewSet()
	_ = set.AddKey(key.jwk(b))
	jwxAlg, _ := jwa.LookupSignatureAlgorithm(alg)
	b.Run("jwx-keyset", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jws.Verify([]byte(tok), jws.WithKeySet(set)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jwx-key", func(b *testing.B) {
		b.ReportAllocs()
		k := key.jwk(b)
		for b.Loop() {
			if _, err := jws.Verify([]byte(tok), jws.WithKey(jwxAlg, k)); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("first-time", func(b *testing.B) {
		v := newV(-1)
		b.ReportAllocs()
		for b.Loop() {
			if r := v.Validate(ctx, prof, tok); !r.Accepted() {
				b.Fatal(r.Message)
			}
		}
	})
	b.Run("first-time-discovery", func(b *testing.B) {
		clk := newFakeClock(time.Now())
		v := idp.validator(clk, users, resultTTL(-1), func(c *Config) {
			c.Discovery = &discovery.Client{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)}
		})
		if r := v.Validate(ctx, prof, tok); !r.Accepted() {
			b.Fatalf("%s: %s", r.Reason, r.Message)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if r := v.Validate(ctx, prof, tok); !r.Accepted() {
				b.Fatal(r.Message)
			}
		}
	})
	b.Run("repeated", func(b *testing.B) {
		v := newV(time.Minute)
		b.ReportAllocs()
		for b.Loop() {
			if r := v.Validate(ctx, prof, tok); !r.Accepted() {
				b.Fatal(r.Message)
			}
		}
		b.ReportMetric(float64(len(tok)), "token-bytes")
	})
	// The same for a token shaped like the in-process provider's
	// client_credentials token: the cost is mostly SHA-256 of the token,
	// so it follows the token's length.
	small := key.sign(b, claimsAt(idp.doc.Issuer, "svc-billing", "billing", now, map[string]any{
		"jti": "5c32e7e1-620b-4e1f-9f68-2425dc0cc2af", "client_id": "billing", "scope": "openid tickets",
		"preferred_username": "svc-billing", "realm_access": map[string]any{"roles": []any{"tickets"}},
	}))
	b.Run("repeated-small", func(b *testing.B) {
		v := newV(time.Minute)
		if r := v.Validate(ctx, prof, small); !r.Accepted() {
			b.Fatalf("%s: %s", r.Reason, r.Message)
		}
		b.ReportAllocs()
		for b.Loop() {
			if r := v.Validate(ctx, prof, small); !r.Accepted() {
				b.Fatal(r.Message)
			}
		}
		b.ReportMetric(float64(len(small)), "token-bytes")
	})
}
