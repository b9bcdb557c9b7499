package main

import (
	"strings"
	"testing"

	"oidcctl/core/oidctest"
)

// When the provider is down, every command says so as profile test does,
// and names the command that diagnoses it, rather than print Go's raw
// `Post "…": dial tcp …: connect: connection refused`: at the token
// endpoint (refresh), the revocation endpoint, the key set, discovery.
func TestNetworkFailuresReadLikeProfileTest(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	c.ok("account", "add", "svc", "--profile", "web", "--grant-type", "password", "--username", op.Username(),
		"--password-file", c.file("pw", oidctest.Password), "--scope", "openid offline_access")
	c.ok("token", "get", "svc") // discovery is cached from here on
	host := strings.SplitN(op.DiscoveryURL, "/", 4)[2]
	op.Close()
	for _, tc := range []struct {
		args    []string
		profile string
	}{
		{[]string{"token", "refresh", "svc"}, "web"},
		{[]string{"token", "revoke", "svc"}, "web"},
		{[]string{"profile", "keys", "web"}, "web"},
		{[]string{"token", "get", "billing"}, "service"},
		{[]string{"account", "rm", "svc", "--yes"}, "web"},
	} {
		r := c.run("", tc.args...)
		want := "the provider at " + host + " does not answer (connection refused); is it running, is the port right? Try: oidcctl profile test " + tc.profile
		if r.code != exitFailure || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "dial tcp") || strings.Contains(r.stderr, `Post "`) || strings.Contains(r.stderr, `Get "`) {
			t.Errorf("oidcctl %s: exit %d\n%s\nwant it to say: %s", strings.Join(tc.args, " "), r.code, r.stderr, want)
		}
	}
	// profile test itself says the same, without pointing at itself.
	r := c.run("", "profile", "test", "web")
	if !strings.Contains(r.stderr, "does not answer (connection refused)") || strings.Contains(r.stderr, "Try:") {
		t.Errorf("profile test: %s", r.stderr)
	}
}
