package validate

import (
	"context"
	"runtime"
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

	// paired runs, in one loop, a bearer token first-time, the same token
	// repeated (cache on) and a proof, and reports each by the CPU time of
	// the thread (Linux), which other load on a busy machine leaves alone:
	// first-time DPoP is bearer-first + proof, repeated DPoP is
	// bearer-repeated + proof.
	b.Run("paired", func(b *testing.B) {
		first := idp.validator(clk, users, resultTTL(-1))
		cached := idp.validator(clk, users, resultTTL(time.Minute))
		if r := cached.Validate(ctx, prof, tok); !r.Accepted() {
			b.Fatal(r.Message)
		}
		ps := proofs(b)
		dv := dpop.NewVerifier(dpop.Config{Now: clk.Now, Replay: &dpop.ReplayCache{Size: b.N + 1}})
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var firstCPU, repeatCPU, proofCPU time.Duration
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			c0, _ := threadCPU()
			if r := first.Validate(ctx, prof, tok); !r.Accepted() {
				b.Fatal(r.Message)
			}
			c1, _ := threadCPU()
			r := cached.Validate(ctx, prof, tok)
			c2, _ := threadCPU()
			if _, err := dv.Verify(dpop.Request{Proofs: ps[i : i+1], Method: "GET", URL: u, AccessToken: tok, BoundTo: r.JKT}); err != nil {
				b.Fatal(err)
			}
			c3, _ := threadCPU()
			firstCPU += c1 - c0
			repeatCPU += c2 - c1
			proofCPU += c3 - c2
		}
		if _, ok := threadCPU(); !ok {
			return
		}
		n := float64(b.N)
		us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / n / 1000 }
		b.ReportMetric(us(firstCPU), "bearer-first-cpu-µs/op")
		b.ReportMetric(us(repeatCPU), "bearer-repeated-cpu-µs/op")
		b.ReportMetric(us(proofCPU), "proof-cpu-µs/op")
		b.ReportMetric(us(firstCPU+proofCPU), "dpop-first-cpu-µs/op")
		b.ReportMetric(us(repeatCPU+proofCPU), "dpop-repeated-cpu-µs/op")
	})
}
