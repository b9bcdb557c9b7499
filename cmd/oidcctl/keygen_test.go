package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/oidctest"
)

// TestProfileKeygen: keygen seals a key in the database and prints its
// public JWKS, which the provider registers; the profile then gets tokens
// by private_key_jwt. A second keygen keeps the first key until
// --retire-old; config export and import keep the keys, which the file
// never holds.
func TestProfileKeygen(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	c.ok("profile", "add", "keyed", "--discovery-url", op.DiscoveryURL, "--client-id", oidctest.KeyClientID,
		"--client-auth", "private_key_jwt", "--assertion-audience", "issuer")
	keygen := func(args ...string) keygenJSON {
		t.Helper()
		var out keygenJSON
		raw := c.ok(append([]string{"profile", "keygen", "keyed", "-o", "json"}, args...)...)
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("keygen -o json: %v\n%s", err, raw)
		}
		if strings.Contains(raw, "PRIVATE KEY") || strings.Contains(raw, `"d"`) {
			t.Fatalf("keygen printed a private key:\n%s", raw)
		}
		return out
	}
	first := keygen("--alg", "ES256")
	if first.Created == "" || first.SigningKey != first.Created || !strings.Contains(string(first.JWKS), first.Created) {
		t.Fatalf("first keygen: %+v", first)
	}
	if err := op.RegisterClientKeys(oidctest.KeyClientID, first.JWKS); err != nil {
		t.Fatal(err)
	}
	c.ok("profile", "test", "keyed")
	c.ok("account", "add", "svc", "--profile", "keyed", "--grant-type", "client_credentials")
	if tok := strings.TrimSpace(c.ok("token", "get", "svc")); strings.Count(tok, ".") != 2 {
		t.Fatalf("token get: %q", tok)
	}
	reqs := op.TokenRequests()
	if last := reqs[len(reqs)-1]; last.Get("client_assertion") == "" || last.Get("client_secret") != "" {
		t.Fatalf("token request: %v", last)
	}

	// Rollover: the new key signs, the old one is kept and printed.
	second := keygen("--cert")
	if second.SigningKey != second.Created || second.Created == first.Created || len(second.Retired) != 0 ||
		!strings.Contains(string(second.JWKS), first.Created) || !strings.Contains(second.Certificate, "BEGIN CERTIFICATE") {
		t.Fatalf("second keygen: %+v", second)
	}
	show := c.ok("profile", "show", "keyed")
	if !strings.Contains(show, first.Created+" ES256, "+second.Created+" RS256 +cert (signs)") || !strings.Contains(show, "assertion audience:   issuer") {
		t.Fatalf("profile show:\n%s", show)
	}

	// Export and import into the same database keep the keys.
	exported := c.ok("config", "export")
	if strings.Contains(exported, "PRIVATE KEY") || !strings.Contains(exported, "assertion_audience: issuer") {
		t.Fatalf("config export:\n%s", exported)
	}
	// A changed setting, so that the import writes the profile.
	c.ok("config", "import", c.file("setup.yaml", strings.Replace(exported, "uid_claim: sub", "uid_claim: email", 1)))
	if show := c.ok("profile", "show", "keyed"); !strings.Contains(show, "UID claim:            email") || !strings.Contains(show, "assertion audience:   issuer") {
		t.Fatalf("after import:\n%s", show)
	}
	if printed := keygen("--print"); printed.SigningKey != second.Created || printed.Created != "" || !strings.Contains(string(printed.JWKS), first.Created) {
		t.Fatalf("after config import: %+v", printed)
	}

	retired := keygen("--retire-old")
	if len(retired.Retired) != 1 || retired.Retired[0] != first.Created || strings.Contains(string(retired.JWKS), first.Created) {
		t.Fatalf("--retire-old: %+v", retired)
	}
	// An existing key and certificate; the same key twice is refused.
	k, err := clientauth.Generate(core.KeyES256, oidctest.KeyClientID, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	imported := keygen("--import-key", c.file("ik.pem", k.PrivateKey.Reveal()), "--import-cert", c.file("ic.pem", k.Certificate))
	if imported.Created != k.ID || imported.SigningKey != k.ID || imported.Certificate != k.Certificate {
		t.Fatalf("--import-key: %+v", imported)
	}
	if r := c.run("", "profile", "keygen", "keyed", "--import-key", c.file("ik.pem", k.PrivateKey.Reveal())); r.code != exitUsage || !strings.Contains(r.stderr, "already") {
		t.Fatalf("the same key again: exit %d %s", r.code, r.stderr)
	}
	if r := c.run("", "profile", "keygen", "keyed", "--retire-old", "--replace"); r.code != exitUsage {
		t.Fatalf("--retire-old --replace: exit %d %s", r.code, r.stderr)
	}
	if r := c.run("", "profile", "edit", "keyed", "--client-auth", "tls_client_auth"); r.code == 0 || !strings.Contains(r.stderr, "TLS client certificate") {
		t.Fatalf("tls_client_auth without a certificate: exit %d %s", r.code, r.stderr)
	}
	// The provider does not take self_signed_tls_client_auth: profile test says so.
	cert, key := c.file("c.pem", k.Certificate), c.file("k.pem", k.PrivateKey.Reveal())
	c.ok("profile", "edit", "keyed", "--client-auth", "self_signed_tls_client_auth", "--client-cert", cert, "--client-key", key)
	if r := c.run("", "profile", "test", "keyed"); r.code != exitFailure || !strings.Contains(r.stderr, "supports only none, client_secret_basic") {
		t.Fatalf("profile test with a method the provider lacks: exit %d %s", r.code, r.stderr)
	}
}
