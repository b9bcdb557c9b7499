package validate

import (
	"context"
	"testing"
	"time"
)

// TestValidateReadsBinding: the Result carries the token's cnf.jkt, also
// from the result cache, and two tokens alike but for their binding do
// not share a cached verdict (serve compares the binding with the proof's
// key, so a shared one would let one token pass with the other's key).
func TestValidateReadsBinding(t *testing.T) {
	k := newKey(t, "k1", "RS256")
	p := newIDP(t, "", k)
	clk := newFakeClock(time.Now())
	v := p.validator(clk, nil)
	prof := testProfile("p", "api")
	now := clk.Now()
	bound := k.sign(t, claimsAt(p.doc.Issuer, "svc", "api", now, map[string]any{"cnf": map[string]any{"jkt": "thumb-A"}}))
	other := k.sign(t, claimsAt(p.doc.Issuer, "svc", "api", now, map[string]any{"cnf": map[string]any{"jkt": "thumb-B"}}))
	plain := k.sign(t, claimsAt(p.doc.Issuer, "svc", "api", now, nil))
	for range 2 { // the second round comes from the cache
		for _, c := range []struct{ token, jkt string }{{bound, "thumb-A"}, {other, "thumb-B"}, {plain, ""}} {
			r := v.Validate(context.Background(), prof, c.token)
			if !r.Accepted() {
				t.Fatalf("refused: %s %s", r.Reason, r.Message)
			}
			if r.JKT != c.jkt {
				t.Fatalf("JKT = %q, want %q", r.JKT, c.jkt)
			}
		}
	}
	if r := v.Inspect(context.Background(), prof, bound); r.JKT != "thumb-A" {
		t.Fatalf("Inspect JKT = %q", r.JKT)
	}
}
