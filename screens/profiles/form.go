package profiles

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/huh/v2"
	"go.yaml.in/yaml/v3"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/tui"
)

// values are the form's fields as text, bound to the huh fields. Secrets
// start empty and are never filled from the store: empty keeps the stored
// one.
type values struct {
	edit bool

	name, discoveryURL, clientID, secret, scopes string
	flavour                                      core.Flavour
	ttl                                          string
	authMethod, assertionAudience                string
	clientKeys                                   int // how many; made by profile keygen

	clientCert, clientKey, keyPassword, caFile, caDir string
	verifyHostname, verifyPeer, insecureHTTP          bool

	useNonce                    bool
	randLength, randTTL, leeway string
	redirectURI                 string

	uidClaim, roleMap, userMap string

	userLogin, rScopes, audiences, azp string
	dpop                               core.DPoPMode
	dpopNonce                          bool
	tenants                            string
	userinfoClaims, logTokenClaims     bool

	secretSet, keyPasswordSet bool
}

// valuesOf fills the form from a profile, without its secrets.
func valuesOf(p core.Profile) *values {
	return &values{
		name: p.Name, discoveryURL: p.DiscoveryURL, clientID: p.ClientID,
		scopes: strings.Join(p.Scopes, " "), flavour: p.Flavour, ttl: duration(p.DiscoveryTTL),
		authMethod: p.TokenAuthMethod, clientKeys: len(p.ClientKeys),
		assertionAudience: strings.TrimPrefix(p.AssertionAudience, core.AudienceTokenEndpoint), // "" is the token endpoint too
		clientCert:        p.TLS.ClientCert, clientKey: p.TLS.ClientKey, caFile: p.TLS.CAFile, caDir: p.TLS.CADir,
		verifyHostname: !p.TLS.SkipVerifyHostname, verifyPeer: !p.TLS.SkipVerifyPeer, insecureHTTP: p.InsecureHTTP,
		useNonce: p.Misc.UseNonce, randLength: strconv.Itoa(p.Misc.RandLength),
		randTTL: duration(p.Misc.RandTTL), leeway: duration(p.Misc.Leeway), redirectURI: p.RedirectURI,
		uidClaim: p.UIDClaim, roleMap: roleMapText(p.RoleMap), userMap: userMapText(p.UserMap),
		userLogin: p.Restrictions.UserLogin, rScopes: strings.Join(p.Restrictions.Scopes, " "),
		audiences: strings.Join(p.Restrictions.Audiences, " "), azp: p.Restrictions.AuthorizedParty,
		dpop: cmp.Or(p.DPoP, core.DPoPOff), dpopNonce: p.DPoPNonce,
		tenants: strings.Join(p.Restrictions.Tenants, " "), userinfoClaims: p.UserinfoClaims, logTokenClaims: p.LogTokenClaims,
		secretSet: p.ClientSecret.IsSet(), keyPasswordSet: p.TLS.ClientKeyPassword.IsSet(),
	}
}

// duration writes d as config does: "30m", not "30m0s".
func duration(d time.Duration) string {
	b, _ := config.Duration(d).MarshalText()
	return string(b)
}

func roleMapText(rm core.RoleMap) string {
	if len(rm) == 0 {
		return ""
	}
	b, err := yaml.Marshal(map[string]map[string]string(rm))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func userMapText(um core.UserMap) string {
	if len(um) == 0 {
		return ""
	}
	m := make(map[string]string, len(um))
	for k, v := range um {
		m[k] = string(v)
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// apply writes the form onto p. Fields that do not parse are reported all
// at once; secrets left empty keep p's.
func (v *values) apply(p *core.Profile) error {
	var problems []core.FieldError
	bad := func(field string, err error) {
		problems = append(problems, core.FieldError{Field: field, Problem: err.Error()})
	}
	if !v.edit {
		p.Name = strings.TrimSpace(v.name)
	}
	p.DiscoveryURL = strings.TrimSpace(v.discoveryURL)
	p.ClientID = strings.TrimSpace(v.clientID)
	if v.secret != "" {
		p.ClientSecret = core.NewSecret(v.secret)
	}
	p.Scopes = strings.Fields(v.scopes)
	p.Flavour = v.flavour
	p.TokenAuthMethod = v.authMethod
	p.AssertionAudience = v.assertionAudience
	if d, err := config.ParseDuration(v.ttl); err != nil {
		bad("discovery TTL", err)
	} else {
		p.DiscoveryTTL = d
	}
	p.TLS.ClientCert = strings.TrimSpace(v.clientCert)
	p.TLS.ClientKey = strings.TrimSpace(v.clientKey)
	if v.keyPassword != "" {
		p.TLS.ClientKeyPassword = core.NewSecret(v.keyPassword)
	}
	if p.TLS.ClientKey == "" {
		p.TLS.ClientKeyPassword = core.Secret{} // it would protect nothing
	}
	p.TLS.CAFile = strings.TrimSpace(v.caFile)
	p.TLS.CADir = strings.TrimSpace(v.caDir)
	p.TLS.SkipVerifyHostname = !v.verifyHostname
	p.TLS.SkipVerifyPeer = !v.verifyPeer
	p.InsecureHTTP = v.insecureHTTP
	p.Misc.UseNonce = v.useNonce
	p.RedirectURI = strings.TrimSpace(v.redirectURI)
	if n, err := strconv.Atoi(strings.TrimSpace(v.randLength)); err != nil {
		bad("rand length", errors.New("must be a whole number"))
	} else {
		p.Misc.RandLength = n
	}
	if d, err := config.ParseDuration(v.randTTL); err != nil {
		bad("rand TTL", err)
	} else {
		p.Misc.RandTTL = d
	}
	if d, err := config.ParseDuration(v.leeway); err != nil {
		bad("leeway", err)
	} else {
		p.Misc.Leeway = d
	}
	p.UIDClaim = strings.TrimSpace(v.uidClaim)
	p.RoleMap = nil
	if strings.TrimSpace(v.roleMap) != "" {
		rm, err := core.ParseRoleMap([]byte(v.roleMap))
		if err != nil {
			bad("role map", err)
		}
		p.RoleMap = rm
	}
	p.UserMap = nil
	if strings.TrimSpace(v.userMap) != "" {
		um, err := core.ParseUserMap([]byte(v.userMap))
		if err != nil {
			bad("user map", err)
		}
		p.UserMap = um
	}
	p.Restrictions = core.Restrictions{
		UserLogin:       strings.TrimSpace(v.userLogin),
		Scopes:          strings.Fields(v.rScopes),
		Audiences:       strings.Fields(v.audiences),
		AuthorizedParty: strings.TrimSpace(v.azp),
		Tenants:         strings.Fields(v.tenants),
	}
	p.UserinfoClaims, p.LogTokenClaims = v.userinfoClaims, v.logTokenClaims
	p.DPoP, p.DPoPNonce = v.dpop, v.dpopNonce && v.dpop.Accepts()
	if p.DPoP == core.DPoPOff {
		p.DPoP = ""
	}
	if len(problems) > 0 {
		return &core.ValidationError{Kind: "profile", Name: p.Name, Problems: problems}
	}
	return nil
}

// check* validate single fields as they are typed.
func checkDuration(s string) error {
	if _, err := config.ParseDuration(s); err != nil {
		return errors.New("want a duration such as 30m or 2s, or seconds")
	}
	return nil
}

func checkInt(s string) error {
	if _, err := strconv.Atoi(strings.TrimSpace(s)); err != nil {
		return errors.New("want a whole number")
	}
	return nil
}

func checkRoleMap(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	_, err := core.ParseRoleMap([]byte(s))
	return err
}

func checkUserMap(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	_, err := core.ParseUserMap([]byte(s))
	return err
}

func required(what string) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("%s is required", what)
		}
		return core.CheckName(s)
	}
}

// build makes the form: one page a section of DESIGN.md.
func (v *values) build(st tui.Styles) *huh.Form {
	secretHint := "(leave empty for a public client)"
	if v.edit {
		secretHint = "(not set: leave empty for a public client)"
		if v.secretSet {
			secretHint = "(set: leave empty to keep)"
		}
	}
	keyHint := "(leave empty when the key is not encrypted)"
	if v.edit && v.keyPasswordSet {
		keyHint = "(set: leave empty to keep)"
	}
	flavours := make([]huh.Option[core.Flavour], len(core.Flavours))
	for i, f := range core.Flavours {
		flavours[i] = huh.NewOption(string(f), f)
	}

	methods := []huh.Option[string]{huh.NewOption("auto", "")}
	for _, m := range core.TokenAuthMethods[1:] {
		methods = append(methods, huh.NewOption(m, m))
	}
	keys := "auto: the secret as discovery offers; private_key_jwt with keys and no secret"
	if v.clientKeys > 0 {
		keys = fmt.Sprintf("%d client key(s) for private_key_jwt; rollover: oidcctl profile keygen", v.clientKeys)
	}
	audiences := []huh.Option[string]{huh.NewOption("token endpoint", ""), huh.NewOption("issuer", core.AudienceIssuer)}

	basic := []huh.Field{}
	if !v.edit {
		basic = append(basic, tui.Input("Name", &v.name).Placeholder("(e.g. keycloak)").Validate(required("a name")))
	}
	basic = append(basic,
		tui.Input("Discovery URL", &v.discoveryURL).Placeholder("(https://…/.well-known/openid-configuration)").Validate(required("the discovery URL")),
		tui.Input("Client ID", &v.clientID).Validate(required("the client id")),
		tui.Input("Client secret", &v.secret).EchoMode(huh.EchoModePassword).Placeholder(secretHint),
		tui.Input("Additional scopes", &v.scopes).Placeholder("(space-separated, besides openid)").Validate(core.CheckName),
		huh.NewSelect[core.Flavour]().Title("Provider flavour").Inline(true).Options(flavours...).Value(&v.flavour),
		tui.Input("Discovery cache TTL", &v.ttl).Validate(checkDuration),
		huh.NewSelect[string]().Title("Client authentication").Inline(true).Options(methods...).Value(&v.authMethod).Description(keys),
		huh.NewSelect[string]().Title("Assertion audience (private_key_jwt)").Inline(true).Options(audiences...).Value(&v.assertionAudience),
	)
	verifyPeerTitle := "Verify the certificate"
	dpopModes := make([]huh.Option[core.DPoPMode], len(core.DPoPModes))
	for i, m := range core.DPoPModes {
		dpopModes[i] = huh.NewOption(string(m), m)
	}
	return huh.NewForm(
		huh.NewGroup(basic...).Title("Basic (1/5)"),
		huh.NewGroup(
			tui.Input("Client certificate (PEM file)", &v.clientCert),
			tui.Input("Client key (PEM file)", &v.clientKey),
			tui.Input("Client key password", &v.keyPassword).EchoMode(huh.EchoModePassword).Placeholder(keyHint),
			tui.Input("CA file", &v.caFile).Placeholder("(trusted besides the system's)"),
			tui.Input("CA directory", &v.caDir),
			tui.YesNo("Verify the host name", &v.verifyHostname),
			tui.YesNo(verifyPeerTitle, &v.verifyPeer).Description(st.Error.Render("no is for tests only: any certificate is then accepted")),
			tui.YesNo("Allow plain http on a non-loopback host", &v.insecureHTTP),
		).Title("TLS (2/5)"),
		huh.NewGroup(
			tui.YesNo("Use a nonce", &v.useNonce),
			tui.Input("Rand length (state and nonce)", &v.randLength).Validate(checkInt),
			tui.Input("Rand TTL", &v.randTTL).Validate(checkDuration),
			tui.Input("Leeway (clock skew)", &v.leeway).Validate(checkDuration),
			tui.Input("Redirect URI of browser logins", &v.redirectURI).
				Placeholder("(default http://127.0.0.1:<free port>/callback)").Validate(checkRedirectURI),
		).Title("Misc (3/5)"),
		huh.NewGroup(
			tui.Input("UID claim", &v.uidClaim).Placeholder("(sub, email, preferred_username, oid …)").Validate(core.CheckName),
			huh.NewText().Title("Role map").Description("YAML: claim path → token role → local role, e.g.\nrealm_access.roles: {admin: Admin}").
				Lines(3).Value(&v.roleMap).Validate(checkRoleMap),
			huh.NewText().Title("User map").Description("YAML: claim → Email, FirstName or LastName, e.g. email: Email").
				Lines(3).Value(&v.userMap).Validate(checkUserMap),
			tui.YesNo("Claims from userinfo too", &v.userinfoClaims).
				Description("the UID claim, role map and user map also read the userinfo endpoint"),
			tui.YesNo("Log token claims in the debugger", &v.logTokenClaims).
				Description("header and claims of incoming tokens, never the signature"),
		).Title("Mapping (4/5)"),
		huh.NewGroup(
			tui.Input("User login", &v.userLogin).Placeholder("(accept only this user)").Validate(core.CheckName),
			tui.Input("Scopes", &v.rScopes).Placeholder("(every one must be granted)").Validate(core.CheckName),
			tui.Input("Audiences", &v.audiences).Placeholder("(every one must be in aud)").Validate(core.CheckName),
			tui.Input("Authorized party (azp)", &v.azp).Validate(core.CheckName),
			tui.Input("Entra tenants (tid)", &v.tenants).Placeholder("(space-separated; accept only these)").Validate(core.CheckName),
			huh.NewSelect[core.DPoPMode]().Title("DPoP-bound tokens (RFC 9449)").Inline(true).Options(dpopModes...).Value(&v.dpop),
			tui.YesNo("Demand a DPoP nonce", &v.dpopNonce),
		).Title("Restrictions for incoming tokens (5/5)"),
	)
}

// addForm is the form that adds a profile from v.
func addForm(st tui.Styles, reg Registry, v *values) *tui.Form {
	return tui.NewForm(st, "Add profile", func() *huh.Form { return v.build(st) },
		tui.Create(func() core.Profile { return core.NewProfile("") }, v.apply, reg.AddProfile, func(p core.Profile) string { return p.Name },
			func(p core.Profile) string { return fmt.Sprintf("Profile %s added. Press t to test it.", p.Name) })).Watch(v)
}

// editForm is the form that edits the stored profile p.
func editForm(st tui.Styles, reg Registry, p core.Profile) *tui.Form {
	v := valuesOf(p)
	v.edit = true
	return tui.NewForm(st, "Edit "+p.Name, func() *huh.Form { return v.build(st) },
		tui.Change("Profile", p.Name, reg.EditProfile, v.apply)).Watch(v)
}

// newValues are the values of a new profile, prefilled from src (nil:
// the defaults) except its name, client id and secrets.
func newValues(src *core.Profile) *values {
	p := core.NewProfile("")
	if src != nil {
		p.PrefillFrom(*src)
	}
	v := valuesOf(p)
	v.secretSet, v.keyPasswordSet = false, false
	return v
}

// checkRedirectURI refuses a redirect URI that a browser login cannot
// listen on (core.CheckRedirectURI).
func checkRedirectURI(s string) error {
	if msg := core.CheckRedirectURI(strings.TrimSpace(s)); msg != "" {
		return errors.New(msg)
	}
	return nil
}
