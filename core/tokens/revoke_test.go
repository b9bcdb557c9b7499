package tokens

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

// revokeHints returns the token_type_hint of every revocation request, in
// order.
func (e *env) revokeHints() []string {
	var out []string
	for _, r := range e.op.RevocationRequests() {
		out = append(out, r.Get("token_type_hint"))
	}
	return out
}

// refreshAt tries a refresh token at the provider directly.
func (e *env) refreshAt(t *testing.T, account string, rt core.Secret) error {
	t.Helper()
	ctx := context.Background()
	acc, err := e.store.Account(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.store.Profile(ctx, acc.Profile)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.cfg.Discovery.Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.cfg.Grants.Refresh(ctx, p, d, acc, rt)
	return err
}

// TestRevokeWhenTheProviderKeepsAccessTokens: a provider that answers
// unsupported_token_type for its JWT access tokens (RFC 7009 §2.2.1) has
// done its part once the refresh token is revoked: Revoke succeeds,
// revokes the refresh token first and forgets both tokens.
func TestRevokeWhenTheProviderKeepsAccessTokens(t *testing.T) {
	e := newEnv(t, oidctest.WithAccessTokenRevocationUnsupported())
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	ctx := context.Background()
	set, err := e.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	before, err := e.store.TokenState(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.m.Revoke(ctx, "svc")
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if r.AtProvider != 1 || r.Unsupported || !slices.Equal(r.NotRevocable, []string{"access_token"}) || !r.AccessExpiry.Equal(before.Tokens.Expiry) {
		t.Fatalf("revoked: %+v", r)
	}
	if got := e.revokeHints(); !slices.Equal(got, []string{"refresh_token", "access_token"}) {
		t.Fatalf("revocation requests %v, want the refresh token first", got)
	}
	st, err := e.store.TokenState(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if st.Tokens.AccessToken.IsSet() || st.Tokens.RefreshToken.IsSet() || st.Status(e.clock.Now()) != core.StateNone {
		t.Fatalf("after revoke: state %q, access %v, refresh %v", st.Status(e.clock.Now()), st.Tokens.AccessToken.IsSet(), st.Tokens.RefreshToken.IsSet())
	}
	if err := e.refreshAt(t, "svc", set.RefreshToken); !grant.IsInvalidGrant(err) {
		t.Fatalf("the revoked refresh token still works at the provider: %v", err)
	}
}

// TestRevokeOutcomes: whether the tokens are kept or forgotten when a
// revocation fails, by which token failed.
func TestRevokeOutcomes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		grant      core.GrantType
		scopes     []string
		breakIt    func(e *env)
		hints      []string
		errWant    string // "" for success
		kept       bool
		atProvider int
	}{{
		// Revoked refresh token, access token refused with an error that
		// is not unsupported_token_type: nothing can be refreshed any
		// more, so the tokens are forgotten, and the error says so.
		name: "access token fails after the refresh token", grant: core.GrantPassword, scopes: []string{"openid", "offline_access"},
		breakIt: func(e *env) {
			e.op.RefuseAccessTokenRevocation(http.StatusServiceUnavailable, "temporarily_unavailable")
		},
		hints:      []string{"refresh_token", "access_token"},
		errWant:    "was revoked and the tokens forgotten",
		atProvider: 1,
	}, {
		// The refresh token is not revoked: both are kept.
		name: "refresh token fails", grant: core.GrantPassword, scopes: []string{"openid", "offline_access"},
		breakIt: func(e *env) {
			if _, err := e.store.UpdateProfile(context.Background(), "web", func(p *core.Profile) error {
				p.ClientSecret = core.NewSecret("not-the-secret")
				return nil
			}); err != nil {
				panic(err)
			}
		},
		hints:   []string{"refresh_token"},
		errWant: "the tokens are kept",
		kept:    true,
	}, {
		// No refresh token; an access token the provider cannot revoke is
		// forgotten.
		name: "client_credentials, access token unsupported", grant: core.GrantClientCredentials,
		breakIt: func(e *env) { e.op.RefuseAccessTokenRevocation(http.StatusBadRequest, "unsupported_token_type") },
		hints:   []string{"access_token"},
	}, {
		// No refresh token, and the access token revocation failed: kept.
		name: "client_credentials, access token fails", grant: core.GrantClientCredentials,
		breakIt: func(e *env) { e.op.RefuseAccessTokenRevocation(http.StatusInternalServerError, "server_error") },
		hints:   []string{"access_token"},
		errWant: "the tokens are kept",
		kept:    true,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			profile := "web"
			if tt.grant == core.GrantClientCredentials {
				profile = "service"
			}
			e.addAccount(t, "acc", profile, tt.grant, tt.scopes...)
			ctx := context.Background()
			if _, err := e.m.Token(ctx, "acc"); err != nil {
				t.Fatal(err)
			}
			tt.breakIt(e)
			r, err := e.m.Revoke(ctx, "acc")
			if tt.errWant == "" && err != nil || tt.errWant != "" && (err == nil || !strings.Contains(err.Error(), tt.errWant)) {
				t.Fatalf("err = %v, want %q", err, tt.errWant)
			}
			if r.AtProvider != tt.atProvider {
				t.Errorf("%d revoked at the provider, want %d", r.AtProvider, tt.atProvider)
			}
			if got := e.revokeHints(); !slices.Equal(got, tt.hints) {
				t.Errorf("revocation requests %v, want %v", got, tt.hints)
			}
			st, err := e.store.TokenState(ctx, "acc")
			if err != nil {
				t.Fatal(err)
			}
			if kept := st.Tokens.AccessToken.IsSet(); kept != tt.kept {
				t.Errorf("tokens kept: %v, want %v", kept, tt.kept)
			}
			if wantState := map[bool]string{true: core.StateValid, false: core.StateNone}[tt.kept]; st.Status(e.clock.Now()) != wantState {
				t.Errorf("state %q, want %q", st.Status(e.clock.Now()), wantState)
			}
			if err != nil && errors.Is(err, grant.ErrUnsupported) {
				t.Errorf("a refusal reported as no revocation endpoint: %v", err)
			}
		})
	}
}
