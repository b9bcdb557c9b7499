package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"oidcctl/core/oidctest"
)

// privateJWK finds a JWK's private part ("d", and RSA's "p", "q", "dp",
// "dq", "qi") however it is spaced.
var privateJWK = regexp.MustCompile(`"(d|p|q|dp|dq|qi)"\s*:`)

var jwtIn = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.`)

// assertNoKeyMaterial fails when out holds a private key, a client
// assertion or a DPoP proof the provider was sent.
func assertNoKeyMaterial(t *testing.T, what, out string, sent []string) {
	t.Helper()
	if strings.Contains(out, "PRIVATE KEY") || privateJWK.MatchString(out) {
		t.Errorf("%s shows a private key:\n%s", what, out)
	}
	for _, s := range sent {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("%s shows a client assertion or DPoP proof it sent:\n%s", what, out)
		}
	}
}

// The keys of key-based client authentication and of DPoP, the client
// assertions and the DPoP proofs sent to the provider reach neither -o
// json (profile show, account show, token get, keygen) nor the logs at
// debug level, also when the provider refuses the assertion.
func TestClientKeysAndProofsNeverPrinted(t *testing.T) {
	op := oidctest.Start(t, oidctest.WithDPoP(false))
	c := newCLI(t)
	c.ok("profile", "add", "keyed", "--discovery-url", op.DiscoveryURL, "--client-id", oidctest.KeyClientID,
		"--client-auth", "private_key_jwt", "--assertion-audience", "issuer")
	var kg keygenJSON
	raw := c.ok("profile", "keygen", "keyed", "-o", "json")
	if err := json.Unmarshal([]byte(raw), &kg); err != nil {
		t.Fatal(err)
	}
	// Refused first: the key is not registered yet.
	c.ok("account", "add", "svc", "--profile", "keyed", "--grant-type", "client_credentials", "--dpop")
	var outs []struct{ what, out string }
	var logs []string
	add := func(what string, r result) {
		outs = append(outs, struct{ what, out string }{what, r.stdout + r.stderr})
		logs = append(logs, r.stderr)
	}
	refused := c.run("", "--log-level", "debug", "token", "get", "svc")
	if refused.code == 0 {
		t.Fatalf("token get with an unregistered key succeeded:\n%s", refused.stdout)
	}
	add("a refused token get at debug level", refused)
	if err := op.RegisterClientKeys(oidctest.KeyClientID, kg.JWKS); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--log-level", "debug", "token", "get", "svc", "-o", "json"},
		{"--log-level", "debug", "token", "refresh", "svc"},
		{"--log-level", "debug", "profile", "show", "keyed", "-o", "json"},
		{"--log-level", "debug", "profile", "show", "keyed"},
		{"--log-level", "debug", "account", "show", "svc", "-o", "json"},
		{"--log-level", "debug", "account", "show", "svc"},
		{"--log-level", "debug", "profile", "keygen", "keyed", "--print", "-o", "json"},
		{"--log-level", "debug", "config", "export"},
		{"--log-level", "debug", "token", "list", "-o", "json"},
	} {
		r := c.run("", args...)
		if r.code != 0 {
			t.Fatalf("oidcctl %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		add("oidcctl "+strings.Join(args, " "), r)
	}
	// token get --dpop-proof prints a proof on standard output, as asked;
	// its logs show none.
	r := c.run("", "--log-level", "debug", "token", "get", "svc", "--dpop-proof", "GET", "https://api.example.org/x")
	if r.code != 0 || strings.Count(r.stdout, ".") < 4 {
		t.Fatalf("token get --dpop-proof: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	outs = append(outs, struct{ what, out string }{"the logs of token get --dpop-proof", r.stderr})
	logs = append(logs, r.stderr)
	// No JWT at all in the logs: no assertion, no proof (those the token
	// endpoint got are not recorded by the provider), no token.
	if all := strings.Join(logs, ""); !strings.Contains(all, "tokens obtained") {
		t.Fatalf("no debug logs of the token requests:\n%s", all)
	}
	for _, l := range logs {
		if jwtIn.MatchString(l) {
			t.Errorf("the debug logs show a JWT:\n%s", l)
		}
	}

	var sent []string
	for _, req := range op.TokenRequests() {
		sent = append(sent, req.Get("client_assertion"))
	}
	if len(sent) < 2 || sent[len(sent)-1] == "" {
		t.Fatalf("token requests %v, want client assertions", op.TokenRequests())
	}
	for _, o := range outs {
		assertNoKeyMaterial(t, o.what, o.out, sent)
	}
}
