package serve_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/oidctest"
)

// TestLogTokenClaims: a profile with LogTokenClaims (the manual's
// LogIDToken) makes the debugger keep the header and claims of the
// tokens it gets, accepted and refused alike, and never their signature
// or the token itself; a profile without it keeps none.
func TestLogTokenClaims(t *testing.T) {
	h := startWith(t, func(h *harness) {
		p := core.NewProfile("logged")
		p.DiscoveryURL, p.ClientID = h.op.DiscoveryURL, oidctest.ServiceClientID
		p.LogTokenClaims = true
		must(t, core.Registry{Store: h.store}.AddProfile(context.Background(), p))
	}, func(c *serveConfig) { c.ForwardAuthDebug.Mode = "all" })
	tok := h.serviceToken("openid")
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	bad := h.signed(map[string]any{"aud": "someone-else", "groups": []string{"ops", "admins"}})
	if r := h.do("GET", "/auth?profile=logged", tok, nil); r.status != 200 {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/auth?profile=logged", bad, nil); r.status != 401 {
		t.Fatalf("token for another audience: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/auth?profile=op", tok, nil); r.status != 200 {
		t.Fatalf("profile without logging: %d %s", r.status, r.body)
	}
	es := h.entries("")
	if len(es) != 3 {
		t.Fatalf("%d entries, want 3", len(es))
	}
	// Newest first: op, the refused one, the accepted one.
	if es[0].TokenClaims != "" {
		t.Errorf("a profile without LogTokenClaims recorded %s", es[0].TokenClaims)
	}
	for i, want := range map[int][]string{
		2: {`"sub":"sid1"`, `"scope":"openid"`},
		1: {`"aud":"someone-else"`, `"groups":["ops","admins"]`},
	} {
		e := es[i]
		assertNoSecret(t, e, tok, bad, sig, bad[strings.LastIndexByte(bad, '.')+1:])
		var doc struct {
			Header map[string]any `json:"header"`
			Claims map[string]any `json:"claims"`
		}
		if err := json.Unmarshal([]byte(e.TokenClaims), &doc); err != nil || doc.Header["alg"] != "RS256" || doc.Header["kid"] == nil {
			t.Errorf("entry %d (%s): header of %s: %v", i, e.Verdict, e.TokenClaims, err)
		}
		for _, w := range want {
			if !strings.Contains(e.TokenClaims, w) {
				t.Errorf("entry %d (%s) lacks %s: %s", i, e.Verdict, w, e.TokenClaims)
			}
		}
	}
}
