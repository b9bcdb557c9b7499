package config_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/core/memstore"
)

// TestClaimSourceFieldsRoundTrip: the profile's userinfo claims, token
// claim logging and Entra tenant restriction are in the exported file and
// come back from an import.
func TestClaimSourceFieldsRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := core.Registry{Store: memstore.New()}
	p := core.NewProfile("entra")
	p.DiscoveryURL, p.ClientID = "https://login.microsoftonline.com/{tenantid}/v2.0/.well-known/openid-configuration", "api"
	p.Flavour = core.FlavourEntra
	p.UserinfoClaims, p.LogTokenClaims = true, true
	p.Restrictions.Tenants = []string{"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"}
	must(t, src.AddProfile(ctx, p))
	text := export(t, src, false)
	for _, want := range []string{"userinfo_claims: true", "log_token_claims: true",
		"tenants: [11111111-1111-1111-1111-111111111111, 22222222-2222-2222-2222-222222222222]"} {
		if !strings.Contains(text, want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
	dst := core.Registry{Store: memstore.New()}
	importText(t, dst, text, config.Options{})
	got, err := dst.Profile(ctx, "entra")
	must(t, err)
	if !got.UserinfoClaims || !got.LogTokenClaims || !slices.Equal(got.Restrictions.Tenants, p.Restrictions.Tenants) {
		t.Errorf("imported %+v", got)
	}
}
