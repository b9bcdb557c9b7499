package grant_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

func dpopAccount(t *testing.T, a core.Account) core.Account {
	t.Helper()
	key, err := core.NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	a.DPoP, a.DPoPKey = true, key
	return a
}

// boundTo returns the cnf.jkt of a JWT access token.
func boundTo(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Cnf.JKT
}

// TestDPoPTokens: an account with DPoP gets tokens bound to its key, for
// every grant that reaches the token endpoint, and answers the
// provider's use_dpop_nonce by retrying once with its nonce.
func TestDPoPTokens(t *testing.T) {
	t.Parallel()
	for _, nonce := range []bool{false, true} {
		e := setup(t, oidctest.WithDPoP(nonce))
		a := dpopAccount(t, account("billing", core.GrantClientCredentials, "api:read"))
		key, err := grant.AccountKey(a)
		if err != nil {
			t.Fatal(err)
		}
		set, err := e.c.Obtain(ctxT(t), e.service(), e.doc, a)
		if err != nil {
			t.Fatalf("nonce %v: %v", nonce, err)
		}
		if set.TokenType != "DPoP" || boundTo(t, set.AccessToken.Reveal()) != key.Thumbprint() {
			t.Fatalf("nonce %v: token type %q, cnf.jkt %q, want DPoP and %q", nonce, set.TokenType, boundTo(t, set.AccessToken.Reveal()), key.Thumbprint())
		}
		challenges, bound := e.op.DPoPStats()
		if want := map[bool]int64{false: 0, true: 1}[nonce]; challenges != want || bound != 1 {
			t.Fatalf("nonce %v: %d use_dpop_nonce answers, %d bound tokens; want %d and 1", nonce, challenges, bound, want)
		}
		// The refresh of a password account is bound too.
		p := dpopAccount(t, e.passwordAccount("openid", "offline_access"))
		pk, _ := grant.AccountKey(p)
		set, err = e.c.Obtain(ctxT(t), e.web(), e.doc, p)
		if err != nil {
			t.Fatal(err)
		}
		set, err = e.c.Refresh(ctxT(t), e.web(), e.doc, p, set.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if set.TokenType != "DPoP" || boundTo(t, set.AccessToken.Reveal()) != pk.Thumbprint() {
			t.Fatalf("refreshed: %q %q", set.TokenType, boundTo(t, set.AccessToken.Reveal()))
		}
	}
}

// TestDPoPWithoutKey: an account with DPoP but no key says what to do.
func TestDPoPWithoutKey(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithDPoP(false))
	a := account("billing", core.GrantClientCredentials)
	a.DPoP = true
	_, err := e.c.Obtain(ctxT(t), e.service(), e.doc, a)
	if err == nil || !strings.Contains(err.Error(), "no DPoP key") {
		t.Fatalf("err = %v", err)
	}
}
