package serve_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/validate"
)

// /metrics counts refusals by reason, from a bounded set that starts at
// zero; says how many accounts need a person to log in; and how many
// seconds each refresh token has left, so that an alert can fire days
// before a person must log in again.
func TestOperationsMetrics(t *testing.T) {
	h := startWith(t, func(h *harness) {
		ctx := context.Background()
		reg := core.Registry{Store: h.store}
		for _, name := range []string{"support", "nightly"} {
			a := core.NewAccount(name, "op")
			a.GrantType = core.GrantAuthorizationCode
			must(t, reg.AddAccount(ctx, a))
		}
		// support has a refresh token for another 72 hours; nightly's
		// was refused: only a person can help it now.
		must(t, h.store.SaveTokens(ctx, "support", "", core.TokenSet{AccessToken: core.NewSecret("at-support"),
			RefreshToken: core.NewSecret("rt-support"), Expiry: h.clock.Now().Add(5 * time.Minute),
			RefreshExpiry: h.clock.Now().Add(72 * time.Hour), ObtainedAt: h.clock.Now()}))
		must(t, h.store.RecordFailure(ctx, "nightly", "", core.Failure{Err: "invalid_grant", At: h.clock.Now(), NeedsAuthorization: true}))
	})
	h.do("GET", "/auth", "", nil)
	h.do("GET", "/auth", "not-a-jwt", nil)
	h.do("GET", "/auth", "not.a.jwt", nil)
	h.do("GET", "/auth", h.serviceToken("openid"), nil)

	m := h.do("GET", "/metrics", "", nil).body
	for _, want := range []string{
		`oidcctl_token_refusals_total{reason="missing"} 1`,
		`oidcctl_token_refusals_total{reason="malformed"} 1`, `oidcctl_token_refusals_total{reason="opaque"} 1`,
		`oidcctl_token_refusals_total{reason="expired"} 0`,
		`oidcctl_token_refusals_total{reason="other"} 0`,
		`oidcctl_accounts_needing_authorization 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Every reason of validate (counted, so that a new one needs no
	// edit here), the 17 of DPoP, and other.
	if n, want := strings.Count(m, "\noidcctl_token_refusals_total{"), len(validate.Reasons())+17+1; n != want {
		t.Errorf("%d refusal series, want the %d reasons, the 17 of DPoP and other: %d", n, len(validate.Reasons()), want)
	}
	left := regexp.MustCompile(`\noidcctl_refresh_token_expires_in_seconds\{account="support"\} (\S+)`).FindStringSubmatch(m)
	if left == nil {
		t.Fatalf("no refresh token expiry for support:\n%s", m)
	}
	if s, err := strconv.ParseFloat(left[1], 64); err != nil || s < 72*3600-60 || s > 72*3600 {
		t.Errorf("support's refresh token expires in %s s, want about %d", left[1], 72*3600)
	}
	if strings.Contains(m, `oidcctl_refresh_token_expires_in_seconds{account="billing"}`) || strings.Contains(m, `{account="nightly"}`) {
		t.Errorf("an account without a known refresh expiry has the gauge:\n%s", m)
	}

	// Three days later, the time left has gone down with the clock.
	h.clock.Add(71 * time.Hour)
	m = h.do("GET", "/metrics", "", nil).body
	left = regexp.MustCompile(`\noidcctl_refresh_token_expires_in_seconds\{account="support"\} (\S+)`).FindStringSubmatch(m)
	if left == nil {
		t.Fatal("the gauge went away")
	}
	if s, _ := strconv.ParseFloat(left[1], 64); s > 3600 || s < 3500 {
		t.Errorf("after 71 h: %s s left, want about 3600", left[1])
	}
}
