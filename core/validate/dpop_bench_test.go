package validate

import (
	"context"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/dpop"
)

// BenchmarkValidateDPoP is the cost of a DPoP-bound token (RS256, the
// proof ES256) beside the same token as Bearer, in one run:
//
//   - bearer-first-time, bearer-repeated: Validate alone, result cache
//     off and on (as BenchmarkValidate's first-time and repeated);
//   - proof: dpop.Verifier.Verify alone (a fresh proof each time: the
//     signature, htm/htu, iat, ath, cnf.jkt and the jti cache);
//   - dpop-first-time, dpop-repeated: Validate and Verify, as serve does
//     for every DPoP call.
//
// Proofs are made before the timer runs.
func BenchmarkValidateDPoP(b *testing.B) {
	clk := newFakeClock(time.Now())
	key := newKey(b, "bench-RS256", "RS256")
	idp := newIDP(b, "", key)
	users := newMemUsers(core.User{Login: "svc-billing", Roles: []string{"ticket-reader"}})
	prof := testProfile("bench", "billing")
	prof.UIDClaim = "preferred_username"
	prof.RoleMap = core.RoleMap{"realm_access.roles": {"tickets": "ticket-reader"}}
	dk, err := dpop.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	now := clk.Now()
	tok := key.sign(b, claimsAt(idp.doc.Issuer, "svc-billing", "billing", now, map[string]any{
		"jti": "5c32e7e1-620b-4e1f-9f68-2425dc0cc2af", "client_id": "billing", "scope": "openid tickets",
		"preferred_username": "svc-billing", "realm_access": map[string]any{"roles": []any{"tickets"}},
		"cnf": map[string]any{"jkt": dk.Thumbprint()},
	}))
	const u = "https://api.example.org/tickets/42"
	ctx := context.Background()
	proofs := func(b *testing.B) []string {
		b.StopTimer()
		defer b.StartTimer()
		ps := make([]string, b.N)
		for i := range ps {
			p, err := dk.Proof("GET", u, dpop.ProofOptions{AccessToken: tok, Now: now})
			if err != nil {
				b.Fatal(err)
			}
			ps[i] = p
		}
		return ps
	}
	run := func(name string, ttl time.Duration, withProof bool) {
		b.Run(name, func(b *testing.B) {
			v := idp.validator(clk, users, resultTTL(ttl))
			if r := v.Validate(ctx, prof, tok); !r.Accepted() {
				b.Fatalf("%s: %s", r.Reason, r.Message)
			}
			var ps []string
			if withProof {
				ps = proofs(b)
			}
			dv := dpop.NewVerifier(dpop.Config{Now: clk.Now, Replay: &dpop.ReplayCache{Size: b.N + 1}})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				r := v.Validate(ctx, prof, tok)
				if !r.Accepted() {
					b.Fatal(r.Message)
				}
				if withProof {
					if _, err := dv.Verify(dpop.Request{Proofs: ps[i : i+1], Method: "GET", URL: u, AccessToken: tok, BoundTo: r.JKT}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
	run("bearer-first-time", -1, false)
	run("bearer-repeated", time.Minute, false)
	b.Run("proof", func(b *testing.B) {
		ps := proofs(b)
		dv := dpop.NewVerifier(dpop.Config{Now: clk.Now, Replay: &dpop.ReplayCache{Size: b.N + 1}})
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := dv.Verify(dpop.Request{Proofs: ps[i : i+1], Method: "GET", URL: u, AccessToken: tok, BoundTo: dk.Thumbprint()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	run("dpop-first-time", -1, true)
	run("dpop-repeated", time.Minute, true)
}
