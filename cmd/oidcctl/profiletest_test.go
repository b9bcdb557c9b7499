package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"oidcctl/core/oidctest"
)

func TestProfileTestAgainstRealProvider(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	c.ok("profile", "add", "op", "--discovery-url", op.DiscoveryURL, "--client-id", oidctest.ServiceClientID,
		"--client-secret-file", c.file("s", oidctest.ServiceClientSecret))
	out := c.ok("profile", "test", "op")
	for _, want := range []string{
		"issuer:                  " + op.Issuer,
		"token endpoint:          " + op.TokenURL,
		"JWKS URI:                " + op.JWKSURL,
		"client_credentials", "RS256", op.KeyID(), "works with this provider", "clock offset:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("profile test lacks %q:\n%s", want, out)
		}
	}
	var report struct {
		OK       bool `json:"ok"`
		Document struct {
			Issuer string `json:"issuer"`
		} `json:"document"`
		Keys []struct {
			ID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(c.ok("profile", "test", "op", "-o", "json")), &report); err != nil {
		t.Fatal(err)
	}
	if !report.OK || report.Document.Issuer != op.Issuer || len(report.Keys) == 0 || report.Keys[0].ID != op.KeyID() {
		t.Fatalf("json report: %+v", report)
	}
}

func TestProfileTestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/.well-known/openid-configuration"
	l.Close()
	c := newCLI(t)
	c.ok("profile", "add", "down", "--discovery-url", url, "--client-id", "x")
	r := c.run("", "profile", "test", "down")
	if r.code != exitFailure || !strings.Contains(r.stderr, url) {
		t.Fatalf("exit %d, stderr %q: want 1 and the URL named", r.code, r.stderr)
	}
	r = c.run("", "profile", "test", "down", "-o", "json")
	if r.code != exitFailure || !strings.Contains(r.stdout, `"ok": false`) {
		t.Fatalf("json: exit %d, %s", r.code, r.stdout)
	}
}
