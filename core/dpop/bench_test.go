package dpop_test

import (
	"testing"
	"time"

	"oidcctl/core/dpop"
)

// BenchmarkVerify is the cost of one proof verification (ES256, with an
// access token: ath and cnf.jkt checked, jti recorded).
func BenchmarkVerify(b *testing.B) {
	k := newKey(b)
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = proof(b, k, "GET", apiURL, dpop.ProofOptions{AccessToken: token})
	}
	c := &clock{t0}
	v := dpop.NewVerifier(dpop.Config{Now: c.Now, Replay: &dpop.ReplayCache{Size: b.N + 1}})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := v.Verify(dpop.Request{Proofs: proofs[i : i+1], Method: "GET", URL: apiURL, AccessToken: token, BoundTo: k.Thumbprint()}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProof is the cost of making one proof (ES256).
func BenchmarkProof(b *testing.B) {
	k := newKey(b)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Proof("GET", apiURL, dpop.ProofOptions{AccessToken: token, Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}
