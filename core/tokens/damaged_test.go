package tokens

import (
	"context"
	"errors"
	"strings"
	"testing"

	"oidcctl/core"
)

// TestDamagedStoredTokens: an account whose stored tokens cannot be
// opened gets new ones where it can: by the refresh token when that one
// still opens, by its grant when no person is needed; otherwise it needs
// authorization, and says why.
func TestDamagedStoredTokens(t *testing.T) {
	for _, tt := range []struct {
		name     string
		grant    core.GrantType
		damage   []string
		wantVia  string // grant_type of the request that renewed; "" for none
		needsLog bool
	}{
		{"client_credentials", core.GrantClientCredentials, []string{"access_token"}, "client_credentials", false},
		{"password, both tokens", core.GrantPassword, []string{"access_token", "refresh_token"}, "password", false},
		{"password, the refresh token opens", core.GrantPassword, []string{"access_token"}, "refresh_token", false},
		{"authorization_code", core.GrantAuthorizationCode, []string{"access_token", "refresh_token"}, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			profile := "web"
			if tt.grant == core.GrantClientCredentials {
				profile = "service"
			}
			e.addAccount(t, "acc", profile, tt.grant, "openid", "offline_access")
			ctx := context.Background()
			if tt.grant == core.GrantAuthorizationCode {
				// As if authorized: tokens from the password grant.
				e.addAccount(t, "donor", "web", core.GrantPassword, "openid", "offline_access")
				set, err := e.m.Token(ctx, "donor")
				if err != nil {
					t.Fatal(err)
				}
				if err := e.store.SaveTokens(ctx, "acc", "", set); err != nil {
					t.Fatal(err)
				}
			} else if _, err := e.m.Token(ctx, "acc"); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.damage {
				if err := e.store.CorruptToken("acc", c); err != nil {
					t.Fatal(err)
				}
			}
			e.op.ResetTokenRequests()

			set, err := e.m.Token(ctx, "acc")
			reqs := e.op.TokenRequests()
			if tt.needsLog {
				if !errors.Is(err, ErrNeedsAuthorization) || !strings.Contains(err.Error(), "cannot be opened") {
					t.Fatalf("err = %v, want needs authorization, saying why", err)
				}
				if len(reqs) != 0 {
					t.Fatalf("%d token requests", len(reqs))
				}
				st, _ := e.store.TokenState(ctx, "acc")
				if st.Status(e.clock.Now()) != core.StateNeedsAuthorization || st.Damaged == nil {
					t.Fatalf("state %q, damaged %v", st.Status(e.clock.Now()), st.Damaged)
				}
				return
			}
			if err != nil {
				t.Fatalf("token with damaged stored tokens: %v", err)
			}
			if len(reqs) != 1 || reqs[0].Get("grant_type") != tt.wantVia {
				t.Fatalf("%d token requests, want one %s", len(reqs), tt.wantVia)
			}
			st, err := e.store.TokenState(ctx, "acc")
			if err != nil || st.Damaged != nil || st.Tokens.AccessToken.Reveal() != set.AccessToken.Reveal() {
				t.Fatalf("after renewal: damaged %v, %v", st.Damaged, err)
			}
		})
	}
}
