package validate

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/internal/testkit"
)

// TestAlgorithms: every accepted alg verifies with a key of its own, and a
// token whose alg does not fit the key's type or curve is refused even
// when the JWK names no alg.
func TestAlgorithms(t *testing.T) {
	clk := newFakeClock(time.Now())
	var keys []testKey
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		k := newKey(t, "k-"+alg, alg)
		k.hideAlg = alg == "ES256" || alg == "RS256"
		keys = append(keys, k)
	}
	p := newIDP(t, "", keys...)
	v := p.validator(clk, nil)
	prof := testProfile("idp", "api")
	ctx := context.Background()
	claims := claimsAt(p.doc.Issuer, "svc", "api", clk.Now(), nil)
	for _, k := range keys {
		if r := v.Validate(ctx, prof, k.sign(t, claims)); !r.Accepted() || r.Alg != k.alg {
			t.Errorf("%s: %s: %s", k.alg, r.Reason, r.Message)
		}
	}
	byAlg := map[string]testKey{}
	for _, k := range keys {
		byAlg[k.alg] = k
	}
	for _, tt := range []struct {
		signer string // the key that signs
		alg    string // the alg the header claims
		why    string
	}{
		{"RS256", "ES256", "the key is RSA"},      // RSA key without alg, EC alg
		{"ES256", "ES384", "curve is P-256"},      // EC key without alg, other curve
		{"ES256", "RS256", "the key is EC"},       // EC key without alg, RSA alg
		{"ES256", "EdDSA", "the key is EC"},       //
		{"RS256", "PS256", ""},                    // an RS256 signature relabelled PS256: fits, does not verify
		{"EdDSA", "ES256", "published for EdDSA"}, // the JWK names its alg
	} {
		k := byAlg[tt.signer]
		tok := k.sign(t, claims, map[string]any{"alg": tt.alg})
		if tt.why == "" {
			tok = withHeader(t, k.sign(t, claims), map[string]any{"alg": tt.alg, "kid": k.kid})
		}
		r := v.Validate(ctx, prof, tok)
		want := ReasonKeyMismatch
		if tt.why == "" {
			want = ReasonBadSignature
		}
		if r.Reason != want || !strings.Contains(r.Message, tt.why) {
			t.Errorf("%s key, alg %s: %s: %s", tt.signer, tt.alg, r.Reason, r.Message)
		}
	}
}

// TestKeyRotation: the provider adds a key and later withdraws the old
// one; old tokens validate while their key is published, new ones after
// one refetch, and a flood of unknown kids costs one refetch per interval.
func TestKeyRotation(t *testing.T) {
	clk := newFakeClock(time.Now())
	old := newKey(t, "old", "RS256")
	fresh := newKey(t, "new", "ES256")
	p := newIDP(t, "", old)
	v := p.validator(clk, nil, resultTTL(-1))
	prof := testProfile("idp", "api")
	ctx := context.Background()
	claims := func() map[string]any { return claimsAt(p.doc.Issuer, "svc", "api", clk.Now(), nil) }
	accept := func(what, tok string) {
		t.Helper()
		if r := v.Validate(ctx, prof, tok); !r.Accepted() {
			t.Fatalf("%s: %s: %s", what, r.Reason, r.Message)
		}
	}

	oldTok := old.sign(t, claims())
	accept("old token", oldTok)
	if n := p.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}

	// Rotation: the provider publishes both and signs with the new key.
	p.setKeys(t, old, fresh)
	clk.Add(time.Minute)
	accept("new token", fresh.sign(t, claims()))
	if n := p.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS requests after the new kid = %d, want 2", n)
	}
	accept("old token while its key is published", oldTok)
	accept("another new token", fresh.sign(t, claims()))
	if n := p.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS requests = %d, want still 2", n)
	}

	// A flood of made-up kids: one refetch per interval at most.
	flood := func() {
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				k := fresh
				k.kid = fmt.Sprintf("made-up-%d", i)
				if r := v.Validate(ctx, prof, k.sign(t, claims())); r.Reason != ReasonUnknownKID {
					t.Errorf("made-up kid: %s: %s", r.Reason, r.Message)
				}
			})
		}
		wg.Wait()
	}
	clk.Add(5 * time.Second) // within the interval of the last fetch
	flood()
	if n := p.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS requests after a flood within the interval = %d, want 2", n)
	}
	clk.Add(time.Minute)
	flood()
	if n := p.jwksHits.Load(); n != 3 {
		t.Errorf("JWKS requests after a flood past the interval = %d, want 3", n)
	}
	flood()
	if n := p.jwksHits.Load(); n != 3 {
		t.Errorf("JWKS requests after a second flood = %d, want 3", n)
	}
	accept("new token during the flood", fresh.sign(t, claims()))

	// The old key is withdrawn: once the set is fetched again, old tokens
	// are refused.
	p.setKeys(t, fresh)
	clk.Add(2 * time.Hour) // past jwks.DefaultMaxAge: the set is fetched again in the background
	oldTok = old.sign(t, claims())
	v.Validate(ctx, prof, oldTok)
	testkit.Eventually(t, 5*time.Second, "the withdrawn key to be distrusted", func() bool {
		return p.jwksHits.Load() >= 4 && !v.Validate(ctx, prof, oldTok).Accepted()
	})
	if r := v.Validate(ctx, prof, oldTok); r.Reason != ReasonUnknownKID {
		t.Errorf("old token after the key was withdrawn: %s: %s", r.Reason, r.Message)
	}
}
