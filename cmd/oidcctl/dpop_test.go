package main

import (
	"encoding/json"
	"strings"
	"testing"

	"oidcctl/core/oidctest"
)

// TestDPoPCommands: an account with --dpop gets DPoP-bound tokens from a
// provider that demands nonces; token get --dpop-proof prints a proof
// that token inspect --dpop-proof accepts for its request and refuses for
// another; profiles take --dpop and --dpop-nonce.
func TestDPoPCommands(t *testing.T) {
	op := oidctest.Start(t, oidctest.WithDPoP(true))
	c := newCLI(t)
	addProvider(c, op)
	c.ok("user", "add", oidctest.ServiceClientID, "--email", "svc@example.test", "--role", "ticket-reader")
	c.ok("profile", "edit", "service", "--dpop", "require", "--dpop-nonce")
	if out := c.ok("profile", "show", "service"); !strings.Contains(out, "require, with server nonces") {
		t.Fatalf("profile show lacks the DPoP setting:\n%s", out)
	}
	if r := c.run("", "profile", "edit", "web", "--dpop", "sometimes"); r.code == 0 || !strings.Contains(r.stderr, "off, allow or require") {
		t.Fatalf("a bad --dpop: exit %d %s", r.code, r.stderr)
	}
	c.ok("account", "add", "signer", "--profile", "service", "--dpop")
	c.ok("account", "add", "plain", "--profile", "service")
	show := c.ok("account", "show", "signer")
	if !strings.Contains(show, "on, key ES256 jkt ") {
		t.Fatalf("account show lacks the DPoP key:\n%s", show)
	}
	jkt := strings.Fields(show[strings.Index(show, "jkt ")+4:])[0]

	const u = "https://api.example.org/tickets/1"
	lines := strings.Split(strings.TrimSpace(c.ok("token", "get", "signer", "--dpop-proof", "get", u)), "\n")
	if len(lines) != 2 || strings.Count(lines[0], ".") != 2 || strings.Count(lines[1], ".") != 2 {
		t.Fatalf("token get --dpop-proof printed %q, want a token and a proof", lines)
	}
	tok, proof := lines[0], lines[1]
	if challenges, bound := op.DPoPStats(); challenges != 1 || bound != 1 {
		t.Fatalf("provider: %d use_dpop_nonce answers, %d bound tokens; want 1 and 1", challenges, bound)
	}

	out := c.ok("token", "inspect", tok, "--profile", "service", "--dpop-proof", proof, "--method", "GET", "--url", u)
	for _, want := range []string{"DPoP binding: cnf.jkt " + jkt, "Verdict: ACCEPTED", "Proof: ACCEPTED", "compared with --method and --url"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	r := c.run("", "token", "inspect", tok, "--profile", "service", "--dpop-proof", proof, "--method", "GET", "--url", u+"/other")
	if r.code != exitRefused || !strings.Contains(r.stdout, "Proof: REFUSED (htu)") {
		t.Fatalf("proof for another URL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var js struct {
		Token struct {
			JKT string `json:"jkt"`
		} `json:"token"`
		DPoPProof proofJSON `json:"dpop_proof"`
	}
	if err := json.Unmarshal([]byte(c.ok("token", "inspect", tok, "--profile", "service", "--dpop-proof", proof, "-o", "json")), &js); err != nil {
		t.Fatal(err)
	}
	if js.Token.JKT != jkt || !js.DPoPProof.OK || js.DPoPProof.Thumbprint != jkt || js.DPoPProof.RequestChecked || js.DPoPProof.HTM != "GET" {
		t.Fatalf("inspect -o json: %+v", js)
	}
	// A bearer token with the signer's proof: the proof is not for it.
	plainTok := strings.TrimSpace(c.ok("token", "get", "plain"))
	r = c.run("", "token", "inspect", plainTok, "--profile", "service", "--dpop-proof", proof)
	if r.code != exitRefused || !strings.Contains(r.stdout, "Proof: REFUSED (ath)") {
		t.Fatalf("proof with another token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run("", "token", "get", "plain", "--dpop-proof", "GET", u); r.code != exitUsage || !strings.Contains(r.stderr, "does not use DPoP") {
		t.Fatalf("--dpop-proof without DPoP: exit %d %s", r.code, r.stderr)
	}
	if r := c.run("", "token", "get", "signer", "--dpop-proof", "GET"); r.code != exitUsage {
		t.Fatalf("--dpop-proof without a URL: exit %d %s", r.code, r.stderr)
	}
	// Turning DPoP off drops the key.
	c.ok("account", "edit", "signer", "--dpop=false")
	if out := c.ok("account", "show", "signer"); !strings.Contains(out, "DPoP:") || strings.Contains(out, jkt) {
		t.Fatalf("account show after --dpop=false:\n%s", out)
	}
}
