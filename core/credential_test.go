package core_test

import (
	"fmt"
	"strings"
	"testing"

	"oidcctl/core"
)

func TestNewInvokeCredential(t *testing.T) {
	c, secret, err := core.NewInvokeCredential("echo", "cron")
	if err != nil {
		t.Fatal(err)
	}
	s := secret.Reveal()
	if !strings.HasPrefix(s, core.CredentialPrefix) || len(s) != len(core.CredentialPrefix)+43 {
		t.Fatalf("secret %d chars, want the prefix and 43 base64url characters (32 bytes)", len(s))
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Matches(s) || c.Matches(s[:len(s)-1]) || c.Matches(s+"x") || c.Matches("") {
		t.Fatal("Matches takes something other than the secret, or not the secret")
	}
	if strings.Contains(c.Hint, s[len(core.CredentialPrefix)+4:]) || !strings.HasPrefix(s, strings.TrimSuffix(c.Hint, "…")) {
		t.Fatalf("hint %q: want the start of the secret only", c.Hint)
	}
	if out := fmt.Sprintf("%v %+v %#v", secret, secret, secret); strings.Contains(out, s) {
		t.Fatal("the secret prints")
	}
	c2, s2, _ := core.NewInvokeCredential("echo", "cron")
	if s2.Reveal() == s || c2.Matches(s) {
		t.Fatal("two credentials are the same")
	}
	var zero core.InvokeCredential
	if zero.Matches("") {
		t.Fatal("a credential without a hash matches the empty secret")
	}
}
