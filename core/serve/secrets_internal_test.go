package serve

import (
	"fmt"
	"testing"

	"oidcctl/core"
	"oidcctl/core/serve/debuglog"
)

func tokenSet(access, refresh string) core.TokenSet {
	return core.TokenSet{AccessToken: core.NewSecret(access), RefreshToken: core.NewSecret(refresh)}
}

// The book holds the secrets of the configuration and the tokens of the
// accounts, keeps replaced ones for a while, and forgets the oldest of
// those past maxRetiredSecrets.
func TestSecretBook(t *testing.T) {
	var b secretBook
	redacts := func(v string) bool { return b.Secrets().Redact("<"+v+">") == "<"+debuglog.Redacted+">" }
	if b.Secrets().Len() != 0 || redacts("anything-at-all") {
		t.Fatal("an empty book redacts")
	}
	p := core.NewProfile("op")
	p.ClientSecret, p.TLS.ClientKeyPassword = core.NewSecret("client-secret-1"), core.NewSecret("key-password-1")
	a := core.NewAccount("billing", "op")
	a.Password = core.NewSecret("account-password-1")
	short := core.NewAccount("short", "op")
	short.Password = core.NewSecret("pw")
	b.setConfig(map[string]core.Profile{"op": p}, map[string]core.Account{"billing": a, "short": short})
	for _, v := range []string{"client-secret-1", "key-password-1", "account-password-1"} {
		if !redacts(v) {
			t.Errorf("%s not redacted", v)
		}
	}
	if b.Secrets().Len() != 3 {
		t.Errorf("Len %d, want 3 (a password of two letters is not redacted by value)", b.Secrets().Len())
	}

	// Tokens: obtained (added to the current ones), then stored (the
	// old ones retired, still redacted), then the account is gone.
	b.setAllTokens([]core.TokenState{{Account: "billing", Tokens: tokenSet("access-token-1", "refresh-token-1")}})
	b.addTokens("billing", tokenSet("access-token-2", "refresh-token-2"))
	for _, v := range []string{"access-token-1", "refresh-token-1", "access-token-2", "refresh-token-2"} {
		if !redacts(v) {
			t.Errorf("%s not redacted", v)
		}
	}
	b.setTokens("billing", tokenSet("access-token-2", "refresh-token-2"))
	if got := b.tokens["billing"]; len(got) != 2 || len(b.retired) != 2 {
		t.Errorf("current %v, retired %v", got, b.retired)
	}
	before := b.Secrets()
	b.setTokens("billing", tokenSet("access-token-2", "refresh-token-2"))
	if b.Secrets() != before {
		t.Error("the set was rebuilt though nothing changed")
	}
	b.setAllTokens(nil)
	if len(b.tokens) != 0 || !redacts("access-token-2") {
		t.Errorf("the tokens of a deleted account: current %v, redacted %v", b.tokens, redacts("access-token-2"))
	}

	// A password changed in the console: the old one is retired.
	a.Password = core.NewSecret("account-password-2")
	b.setConfig(map[string]core.Profile{"op": p}, map[string]core.Account{"billing": a})
	if !redacts("account-password-1") || !redacts("account-password-2") {
		t.Error("old or new password not redacted")
	}

	// Retired values are bounded.
	for i := range maxRetiredSecrets + 10 {
		b.setTokens("churn", tokenSet(fmt.Sprintf("churn-access-%04d", i), ""))
	}
	if len(b.retired) != maxRetiredSecrets || redacts("access-token-1") || !redacts(fmt.Sprintf("churn-access-%04d", 20)) {
		t.Errorf("%d retired; the oldest redacted %v", len(b.retired), redacts("access-token-1"))
	}
}
