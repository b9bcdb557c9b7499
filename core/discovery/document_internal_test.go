package discovery

import (
	"errors"
	"testing"

	"oidcctl/core"
)

func TestExpectedIssuer(t *testing.T) {
	tests := []struct {
		url, want string
		ok        bool
	}{
		{"https://idp.example/.well-known/openid-configuration", "https://idp.example", true},
		{"https://kc.example/realms/main/.well-known/openid-configuration", "https://kc.example/realms/main", true},
		{"https://idp.example/tenant//.well-known/openid-configuration", "https://idp.example/tenant/", true},
		{"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration?appid=abc", "https://login.microsoftonline.com/common/v2.0", true},
		{"https://as.example/.well-known/oauth-authorization-server", "https://as.example", true},
		{"https://as.example/.well-known/oauth-authorization-server/tenant1", "https://as.example/tenant1", true},
		{"https://as.example/.well-known/openid-configuration/tenant1", "https://as.example/tenant1", true},
		{"https://idp.example/metadata.json", "", false},
		{"not a url", "", false},
	}
	for _, tt := range tests {
		got, ok := expectedIssuer(tt.url)
		if got != tt.want || ok != tt.ok {
			t.Errorf("expectedIssuer(%q) = %q, %v; want %q, %v", tt.url, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCheckIssuer(t *testing.T) {
	const (
		guid      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		otherGUID = "00000000-1111-2222-3333-444444444444"
		ms        = "https://login.microsoftonline.com/"
		wk        = "/.well-known/openid-configuration"
	)
	tests := []struct {
		name    string
		flavour core.Flavour
		url     string
		issuer  string
		ok      bool
	}{
		{"exact", core.FlavourGeneric, "https://idp.example" + wk, "https://idp.example", true},
		{"trailing slash in the issuer", core.FlavourGeneric, "https://idp.example" + wk, "https://idp.example/", false},
		{"other host", core.FlavourGeneric, "https://idp.example" + wk, "https://evil.example", false},
		{"not a well-known URL: not checked", core.FlavourGeneric, "https://idp.example/meta", "https://anything.example", true},
		{"Keycloak realm", core.FlavourKeycloak, "https://kc.example/realms/r" + wk, "https://kc.example/realms/r", true},

		{"Entra v2 tenant GUID, exact", core.FlavourEntra, ms + guid + "/v2.0" + wk, ms + guid + "/v2.0", true},
		{"Entra v2 tenant GUID, upper case in the URL", core.FlavourEntra, ms + "72F988BF-86F1-41AF-91AB-2D7CD011DB47/v2.0" + wk, ms + guid + "/v2.0", true},
		{"Entra v2 tenant GUID, another tenant", core.FlavourEntra, ms + guid + "/v2.0" + wk, ms + otherGUID + "/v2.0", false},
		{"Entra v2 common, templated", core.FlavourEntra, ms + "common/v2.0" + wk, ms + "{tenantid}/v2.0", true},
		{"Entra v2 organizations, templated", core.FlavourEntra, ms + "organizations/v2.0" + wk, ms + "{tenantid}/v2.0", true},
		{"Entra v2 common with appid query", core.FlavourEntra, ms + "common/v2.0" + wk + "?appid=x", ms + "{tenantid}/v2.0", true},
		{"Entra v2 common, a concrete tenant", core.FlavourEntra, ms + "common/v2.0" + wk, ms + guid + "/v2.0", false},
		{"Entra v2 consumers", core.FlavourEntra, ms + "consumers/v2.0" + wk, ms + "9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", true},
		{"Entra v2 consumers, another tenant", core.FlavourEntra, ms + "consumers/v2.0" + wk, ms + guid + "/v2.0", false},
		{"Entra v2 domain tenant", core.FlavourEntra, ms + "contoso.onmicrosoft.com/v2.0" + wk, ms + guid + "/v2.0", true},
		{"Entra v2 domain tenant, not a GUID", core.FlavourEntra, ms + "contoso.onmicrosoft.com/v2.0" + wk, ms + "contoso/v2.0", false},
		{"Entra v2 domain tenant, v1 issuer", core.FlavourEntra, ms + "contoso.onmicrosoft.com/v2.0" + wk, "https://sts.windows.net/" + guid + "/", false},
		{"Entra v2 US government", core.FlavourEntra, "https://login.microsoftonline.us/common/v2.0" + wk, "https://login.microsoftonline.us/{tenantid}/v2.0", true},
		{"Entra v2 other host in the issuer", core.FlavourEntra, "https://login.microsoftonline.us/common/v2.0" + wk, ms + "{tenantid}/v2.0", false},
		{"Entra v1 tenant GUID", core.FlavourEntra, ms + guid + wk, "https://sts.windows.net/" + guid + "/", true},
		{"Entra v1 tenant GUID, another tenant", core.FlavourEntra, ms + guid + wk, "https://sts.windows.net/" + otherGUID + "/", false},
		{"Entra v1 common", core.FlavourEntra, ms + "common" + wk, "https://sts.windows.net/{tenantid}/", true},
		{"Entra v1 domain tenant", core.FlavourEntra, ms + "contoso.com" + wk, "https://sts.windows.net/" + guid + "/", true},
		{"Entra v1 issuer without the slash", core.FlavourEntra, ms + guid + wk, "https://sts.windows.net/" + guid, false},
		{"Entra rules need the entra flavour", core.FlavourGeneric, ms + "common/v2.0" + wk, ms + "{tenantid}/v2.0", false},
		{"Entra rules need a Microsoft host", core.FlavourEntra, "https://login.example/common/v2.0" + wk, "https://login.example/{tenantid}/v2.0", false},
		{"Entra rules need https", core.FlavourEntra, "http://login.microsoftonline.com/common/v2.0" + wk, "http://login.microsoftonline.com/{tenantid}/v2.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Document{URL: tt.url, Issuer: tt.issuer, TokenEndpoint: "https://t.example/token", JWKSURI: "https://t.example/keys"}
			p := core.NewProfile("p")
			p.Flavour = tt.flavour
			err := check(d, p)
			if tt.ok && err != nil {
				t.Errorf("check: %v", err)
			}
			if !tt.ok {
				var e *Error
				if !errors.As(err, &e) || e.Stage != StageIssuer {
					t.Errorf("check = %v, want an issuer error", err)
				}
			}
		})
	}
}

func TestDocumentHelpers(t *testing.T) {
	var bare Document
	if !bare.SupportsGrant("authorization_code") || !bare.SupportsGrant("implicit") || bare.SupportsGrant("client_credentials") {
		t.Error("without grant_types_supported, RFC 8414 defaults to authorization_code and implicit only")
	}
	if !bare.SupportsAuthMethod("client_secret_basic") || bare.SupportsAuthMethod("client_secret_post") {
		t.Error("without token_endpoint_auth_methods_supported, RFC 8414 defaults to client_secret_basic only")
	}
	if bare.SupportsCodeChallenge("S256") {
		t.Error("an absent code_challenge_methods_supported advertises nothing")
	}
	listed := Document{
		GrantTypesSupported:               []string{"client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
		CodeChallengeMethodsSupported:     []string{"plain", "S256"},
	}
	if listed.SupportsGrant("authorization_code") || !listed.SupportsGrant("client_credentials") {
		t.Error("a listed grant_types_supported replaces the default")
	}
	if listed.SupportsAuthMethod("client_secret_basic") || !listed.SupportsAuthMethod("private_key_jwt") {
		t.Error("a listed token_endpoint_auth_methods_supported replaces the default")
	}
	if !listed.SupportsCodeChallenge("S256") {
		t.Error("S256 is listed")
	}

	entra := Document{Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0"}
	if got := entra.IssuerFor("abc"); got != "https://login.microsoftonline.com/abc/v2.0" {
		t.Errorf("IssuerFor = %q", got)
	}
	if got := entra.IssuerFor(""); got != entra.Issuer {
		t.Errorf("IssuerFor without a tenant = %q", got)
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  hello\n\tworld  ", "hello world"},
		{"a\x00b\x1bc", "a b c"},
		{"\xff\xfeok", "?ok"},
		{"ünïcödé", "ünïcödé"},
	}
	for _, tt := range tests {
		if got := snippet([]byte(tt.in), 200); got != tt.want {
			t.Errorf("snippet(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := snippet([]byte("ü"), 1); got != "?" {
		t.Errorf("a rune cut in two = %q, want ?", got)
	}
}
