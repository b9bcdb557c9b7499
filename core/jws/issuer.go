package jws

import (
	"slices"
	"strings"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// IssuerOK is the issuer rule: iss must equal the discovery document's
// issuer (for a multi-tenant document, ".../{tenantid}/v2.0", the issuer
// of the token's own tid); with the flavour entra, the v1 and v2 issuers
// of the tenant are both accepted, since one app registration hands out
// either depending on its manifest.
func IssuerOK(p core.Profile, d *discovery.Document, iss, tid string) bool {
	if iss == "" {
		return false
	}
	return iss == d.IssuerFor(tid) || p.Flavour == core.FlavourEntra && entraIssuerOK(d, iss, tid)
}

const (
	entraV1Prefix = "https://sts.windows.net/"
	entraV2Host   = "login.microsoftonline.com"
)

// entraLoginHosts are the hosts of Entra's v2.0 issuers.
var entraLoginHosts = []string{
	"login.microsoftonline.com", "login.microsoftonline.us",
	"login.partner.microsoftonline.cn", "login.chinacloudapi.cn",
}

// EntraIssuerTenant splits an Entra issuer into its kind ("v1" or "v2")
// and tenant; "" for an issuer of another form.
func EntraIssuerTenant(iss string) (kind, tenant string) {
	if rest, ok := strings.CutPrefix(iss, entraV1Prefix); ok {
		if t, ok := strings.CutSuffix(rest, "/"); ok && t != "" && !strings.Contains(t, "/") {
			return "v1", t
		}
		return "", ""
	}
	rest, ok := strings.CutPrefix(iss, "https://")
	if !ok {
		return "", ""
	}
	host, path, ok := strings.Cut(rest, "/")
	if !ok || !slices.Contains(entraLoginHosts, host) {
		return "", ""
	}
	if t, ok := strings.CutSuffix(path, "/v2.0"); ok && t != "" && !strings.Contains(t, "/") {
		return "v2", t
	}
	return "", ""
}

// entraIssuerOK reports whether iss is the v1 or v2 issuer of the
// profile's tenant: with the flavour entra, oidcctl accepts both, since
// one app registration hands out either depending on its manifest.
func entraIssuerOK(d *discovery.Document, iss, tid string) bool {
	want := d.IssuerFor(tid)
	if strings.Contains(want, discovery.TenantIDPlaceholder) {
		return false // a multi-tenant issuer and a token without tid
	}
	wantKind, tenant := EntraIssuerTenant(want)
	gotKind, gotTenant := EntraIssuerTenant(iss)
	if wantKind == "" || gotKind == "" || gotTenant != tenant || (tid != "" && tid != tenant) {
		return false
	}
	switch gotKind {
	case "v1":
		// Only the public cloud pairs sts.windows.net with a v2 issuer.
		return wantKind == "v1" || strings.HasPrefix(want, "https://"+entraV2Host+"/")
	default:
		return wantKind == "v1" && iss == "https://"+entraV2Host+"/"+tenant+"/v2.0" || iss == want
	}
}
