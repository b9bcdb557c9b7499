package validate

import (
	"fmt"
	"slices"
	"strings"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/jws"
)

// Microsoft describes a Microsoft Entra token: which endpoint version
// issued it, for which tenant, and whether it is a Microsoft Graph token
// that nobody but Graph can validate.
type Microsoft struct {
	// Version is the ver claim: "1.0" or "2.0".
	Version string `json:"version,omitempty"`
	// TenantID is the tid claim.
	TenantID string `json:"tenant_id,omitempty"`
	// Issuer is "v1" for https://sts.windows.net/<tenant>/, "v2" for
	// https://login.microsoftonline.com/<tenant>/v2.0, "" for neither.
	Issuer string `json:"issuer,omitempty"`
	// AppID is the client the token was issued to: appid (v1) or azp (v2).
	AppID string `json:"app_id,omitempty"`
	// Graph is true when the token is for Microsoft Graph: its aud is
	// Graph's, or its header carries a nonce.
	Graph bool `json:"graph,omitempty"`
	// HeaderNonce is true when the header carries a nonce, which Graph
	// adds after signing: the signature cannot be checked by anyone else.
	HeaderNonce bool `json:"header_nonce,omitempty"`
	// Application is true for an app-only token (client credentials): it
	// carries application permissions in roles and no scp.
	Application bool `json:"application,omitempty"`
}

// graphAudiences are the aud values of Microsoft Graph tokens.
var graphAudiences = []string{
	"00000003-0000-0000-c000-000000000000",
	"https://graph.microsoft.com", "https://graph.microsoft.com/",
	"https://graph.microsoft.us", "https://dod-graph.microsoft.us",
	"https://microsoftgraph.chinacloudapi.cn",
}

// classifyMicrosoft returns the classification of a token that is from
// Microsoft Entra (by the profile's flavour, its issuer, a nonce header or
// a Graph audience), nil for any other token.
func classifyMicrosoft(p core.Profile, header, claims map[string]any) *Microsoft {
	iss, _ := claims["iss"].(string)
	_, nonce := header["nonce"]
	ver, _ := claims["ver"].(string)
	tid, _ := claims["tid"].(string)
	issKind, _ := jws.EntraIssuerTenant(iss)
	graph := anyAudience(claims, graphAudiences)
	if p.Flavour != core.FlavourEntra && issKind == "" && !nonce && !graph {
		return nil
	}
	m := &Microsoft{Version: ver, TenantID: tid, Issuer: issKind, HeaderNonce: nonce, Graph: graph || nonce}
	if s, ok := claims["azp"].(string); ok {
		m.AppID = s
	} else if s, ok := claims["appid"].(string); ok {
		m.AppID = s
	}
	_, scp := claims["scp"]
	_, roles := claims["roles"]
	m.Application = roles && !scp
	return m
}

// clientIDOrPlaceholder names the profile's client id for advice.
func clientIDOrPlaceholder(p core.Profile) string {
	if p.ClientID != "" {
		return p.ClientID
	}
	return "<client-id>"
}

// graphMessage explains a Graph token.
func graphMessage(p core.Profile, claims map[string]any, nonce bool) string {
	why := "its aud is Microsoft Graph"
	if nonce {
		why = "its header carries a nonce"
	}
	aud := audienceString(claims)
	if aud != "" {
		why += fmt.Sprintf(" (aud %s)", aud)
	}
	id := clientIDOrPlaceholder(p)
	return fmt.Sprintf("This is a Microsoft Graph access token: %s. Only Microsoft Graph can validate it; no third party can, oidcctl included. "+
		"Request a token for your own API instead: scope api://%s/<scope> (delegated) or api://%s/.default (client credentials), not a Graph scope such as User.Read, openid or profile alone.",
		why, id, id)
}

// entraIssuerAdvice says what to fix when an Entra token's issuer does not
// match; "" when nothing Entra-specific applies.
func entraIssuerAdvice(p core.Profile, d *discovery.Document, m *Microsoft, iss string) string {
	if m == nil {
		return ""
	}
	wantKind, wantTenant := jws.EntraIssuerTenant(d.IssuerFor(m.TenantID))
	gotKind, gotTenant := jws.EntraIssuerTenant(iss)
	switch {
	case gotKind == "":
		return ""
	case wantTenant != "" && gotTenant != wantTenant && !strings.Contains(wantTenant, discovery.TenantIDPlaceholder):
		return fmt.Sprintf(" The token is from tenant %s, but the profile's discovery URL is for tenant %s.", gotTenant, wantTenant)
	case p.Flavour != core.FlavourEntra && wantKind != "" && gotKind != wantKind:
		return fmt.Sprintf(" This is an Entra %s token and the discovery document is %s: set the profile's flavour to entra, which accepts both issuers of the tenant, "+
			"or make Entra issue v2 tokens with \"requestedAccessTokenVersion\": 2 (\"accessTokenAcceptedVersion\" in the older manifest) in the manifest of the API's app registration.",
			gotKind, wantKind)
	case p.Flavour != core.FlavourEntra:
		return " This is a Microsoft Entra token: set the profile's flavour to entra."
	}
	return ""
}

// entraAudienceAdvice says what to fix when an Entra token's aud does not
// match.
func entraAudienceAdvice(p core.Profile, m *Microsoft, claims map[string]any) string {
	if m == nil {
		return ""
	}
	id := clientIDOrPlaceholder(p)
	appIDURI := "api://" + p.ClientID
	if p.ClientID != "" && anyAudience(claims, []string{appIDURI}) {
		return fmt.Sprintf(" Entra v1.0 tokens carry the Application ID URI %s as aud: set \"requestedAccessTokenVersion\": 2 (\"accessTokenAcceptedVersion\" in the older manifest) "+
			"in the manifest of the API's app registration so that aud is the client id, or add %s to the profile's Audience restriction.", appIDURI, appIDURI)
	}
	return fmt.Sprintf(" The token was issued for another API: request it with the scope api://%s/<scope> (delegated) or api://%s/.default (client credentials).", id, id)
}

// entraScopeAdvice says what to fix when an Entra token lacks a scope.
func entraScopeAdvice(p core.Profile, m *Microsoft, missing string, granted []string) string {
	if m == nil {
		return ""
	}
	id := clientIDOrPlaceholder(p)
	if i := strings.LastIndexByte(missing, '/'); i >= 0 && strings.HasPrefix(missing, "api://") && slices.Contains(granted, missing[i+1:]) {
		return fmt.Sprintf(" Entra puts the short name in scp: list %q in the profile's Scope restriction instead of %q.", missing[i+1:], missing)
	}
	if m.Application {
		return fmt.Sprintf(" This is an app-only token: application permissions arrive in roles. Assign the app role %q to the client application (and grant admin consent), then request api://%s/.default.", missing, id)
	}
	return fmt.Sprintf(" Delegated scopes arrive in scp: request api://%s/%s, or api://%s/.default with client credentials and the app role %q.", id, missing, id, missing)
}

// checkTenant holds the token to the profile's Tenants restriction: its
// tid claim, or without one the tenant of its Entra issuer, must be
// listed. Without the restriction it records nothing, so that Inspect's
// checks stay as they were for every other profile.
func (x *run) checkTenant() bool {
	want := x.p.Restrictions.Tenants
	if len(want) == 0 {
		return true
	}
	tid, ok := "", false
	if x.fast {
		tid, ok = x.rawString("tid")
	} else {
		tid, ok = x.claims()["tid"].(string)
	}
	if !ok || tid == "" {
		iss, _ := x.claims()["iss"].(string)
		_, tid = jws.EntraIssuerTenant(iss)
	}
	if tid != "" && slices.Contains(want, tid) {
		if x.detail {
			x.pass(CheckTenant, "tenant "+quote(tid))
		}
		return true
	}
	if tid == "" {
		return x.fail(CheckTenant, ReasonTenantNotAllowed, "no tid claim and no Entra issuer",
			fmt.Sprintf("The token names no Microsoft Entra tenant (no tid claim, no Entra issuer), but profile %q's Tenants restriction accepts only %s.",
				x.p.Name, quoteList(want)))
	}
	return x.fail(CheckTenant, ReasonTenantNotAllowed, fmt.Sprintf("tenant %s, want one of %s", quote(tid), quoteList(want)),
		fmt.Sprintf("The token is from Microsoft Entra tenant %s, but profile %q's Tenants restriction accepts only %s: "+
			"add the tenant to the restriction if its users may call this API.", quote(tid), x.p.Name, quoteList(want)))
}
