package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/config"
)

// profileFlags are the flags of profile add and edit, named after the
// fields of a profile.
type profileFlags struct {
	discoveryURL, clientID, flavour, uidClaim string
	discoveryTTL, randTTL, leeway             string
	scopes                                    []string
	insecureHTTP, introspect                  bool
	dpop                                      string
	dpopNonce                                 bool
	tokenAuthMethod, assertionAudience        string
	redirectURI                               string
	clientCert, clientKey, caFile, caDir      string
	skipVerifyPeer, skipVerifyHostname        bool
	useNonce                                  bool
	randLength                                int
	roleMapFile, userMapFile                  string
	restrictUserLogin, restrictAZP            string
	restrictScopes, restrictAudiences         []string
	restrictTenants                           []string
	userinfoClaims, logTokenClaims            bool
	clientSecret, keyPassword                 secretFlag
	prefillFrom                               string

	// What load read from the files, standard input and the terminal.
	roleMap                   core.RoleMap
	userMap                   core.UserMap
	secret, keyPasswordValue  core.Secret
	secretSet, keyPasswordSet bool
}

// load reads the maps and secrets the flags name, before a store's
// transaction opens: a file or standard input may be slow to come, and
// nobody else may write meanwhile. askSecret prompts for a client secret
// that was not given when standard input is a terminal.
func (f *profileFlags) load(cmd *cobra.Command, e env, askSecret bool) error {
	ctx := cmd.Context()
	set := cmd.Flags().Changed
	if set("role-map-file") && f.roleMapFile != "" {
		data, err := readMapFile(ctx, e, "--role-map-file", f.roleMapFile)
		if err != nil {
			return err
		}
		if f.roleMap, err = core.ParseRoleMap(data); err != nil {
			return usagef("--role-map-file %s: %w", f.roleMapFile, err)
		}
	}
	if set("user-map-file") && f.userMapFile != "" {
		data, err := readMapFile(ctx, e, "--user-map-file", f.userMapFile)
		if err != nil {
			return err
		}
		if f.userMap, err = core.ParseUserMap(data); err != nil {
			return usagef("--user-map-file %s: %w", f.userMapFile, err)
		}
	}
	var err error
	if f.secret, f.secretSet, err = f.clientSecret.read(cmd, e, askSecret); err != nil {
		return err
	}
	if f.keyPasswordValue, f.keyPasswordSet, err = f.keyPassword.read(cmd, e, false); err != nil {
		return err
	}
	return nil
}

// readMapFile reads a role or user map file. A file with nothing in it is
// refused rather than taken as "no map": an empty file is more often a
// mistake (a failed redirect, a truncated copy) than a wish to clear the
// map, which an empty value (--role-map-file "") says plainly.
func readMapFile(ctx context.Context, e env, flag, name string) ([]byte, error) {
	data, err := readInput(ctx, e, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if isBlankYAML(data) {
		return nil, usagef("%s %s: %s is empty; to remove the map, give %s ''", flag, name, inputName(name), flag)
	}
	return data, nil
}

// isBlankYAML reports whether data holds no YAML document: only white
// space and comments. "{}" is not blank: it says "no roles" on purpose.
func isBlankYAML(data []byte) bool {
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && line != "---" {
			return false
		}
	}
	return true
}

func (f *profileFlags) register(cmd *cobra.Command, add bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.discoveryURL, "discovery-url", "", "the provider's .well-known/openid-configuration URL")
	fs.Var(newDurationText(&f.discoveryTTL, "30m"), "discovery-ttl", "how long a fetched discovery document is used")
	fs.StringVar(&f.clientID, "client-id", "", "client id registered at the provider")
	fs.StringArrayVar(&f.scopes, "scope", nil, "additional scopes, space-separated or repeated")
	fs.StringVar(&f.flavour, "flavour", "generic", "provider flavour: generic, keycloak, entra or google")
	fs.BoolVar(&f.insecureHTTP, "insecure-http", false, "allow a plain http discovery URL on a host that is not loopback")
	fs.StringVar(&f.tokenAuthMethod, "client-auth", "", "how the client authenticates, a `METHOD`: client_secret_basic, client_secret_post, private_key_jwt\n"+
		"(keys of profile keygen), tls_client_auth or self_signed_tls_client_auth (the --client-cert);\n"+
		"default: by secret as the discovery document offers, else private_key_jwt when the profile has keys")
	fs.StringVar(&f.tokenAuthMethod, "token-auth-method", "", "the same as --client-auth")
	fs.StringVar(&f.assertionAudience, "assertion-audience", "", "aud of private_key_jwt assertions: token_endpoint (Entra, Okta; the default) or issuer")
	fs.StringVar(&f.redirectURI, "redirect-uri", "", "redirect URI of its accounts' browser logins: loopback, e.g. http://127.0.0.1:8400/callback\n"+
		"(127.0.0.1, localhost or [::1]; no port or :0 = a free one; any path; default http://127.0.0.1:<free port>/callback),\n"+
		"or https, e.g. https://oidcctl.example.org/callback, answered by oidcctl serve at that path")
	fs.BoolVar(&f.introspect, "introspect", false, "check opaque incoming tokens at the provider's introspection endpoint (RFC 7662)")
	fs.StringVar(&f.dpop, "dpop", "off", "DPoP-bound incoming tokens (RFC 9449): off, allow (Bearer or DPoP) or require (DPoP only)")
	fs.BoolVar(&f.dpopNonce, "dpop-nonce", false, "demand a server nonce (DPoP-Nonce) in every DPoP proof")
	fs.StringVar(&f.clientCert, "client-cert", "", "TLS client certificate (PEM file)")
	fs.StringVar(&f.clientKey, "client-key", "", "TLS client key (PEM file)")
	fs.StringVar(&f.caFile, "ca-file", "", "CA certificates to trust (PEM file)")
	fs.StringVar(&f.caDir, "ca-dir", "", "directory of CA certificates to trust")
	fs.BoolVar(&f.skipVerifyPeer, "tls-skip-verify", false, "do not verify the provider's certificate at all (testing only)")
	fs.BoolVar(&f.skipVerifyHostname, "tls-skip-verify-hostname", false, "accept a valid certificate issued for another host name")
	fs.BoolVar(&f.useNonce, "use-nonce", false, "send a nonce with authorization requests and check it")
	fs.IntVar(&f.randLength, "rand-length", core.DefaultRandLength, "length of state and nonce")
	fs.Var(newDurationText(&f.randTTL, "300s"), "rand-ttl", "how long state and nonce stay valid")
	fs.Var(newDurationText(&f.leeway, "2s"), "leeway", "allowed clock skew when checking token times")
	fs.StringVar(&f.uidClaim, "uid-claim", core.DefaultUIDClaim, "claim that names the local user (sub, email, preferred_username, oid, ...)")
	fs.StringVar(&f.roleMapFile, "role-map-file", "", "role map, JSON or YAML: claim path -> token role -> local role (- for stdin; '' to clear, an empty file is refused)")
	fs.StringVar(&f.userMapFile, "user-map-file", "", "user map, JSON or YAML: claim -> Email|FirstName|LastName (- for stdin; '' to clear, an empty file is refused)")
	fs.StringVar(&f.restrictUserLogin, "restrict-user-login", "", "accept incoming tokens of this user login only")
	fs.StringArrayVar(&f.restrictScopes, "restrict-scope", nil, "scopes every incoming token must carry")
	fs.StringArrayVar(&f.restrictAudiences, "restrict-audience", nil, "audiences every incoming token must name")
	fs.StringVar(&f.restrictAZP, "restrict-azp", "", "authorized party (azp) incoming tokens must name")
	fs.StringArrayVar(&f.restrictTenants, "restrict-tenant", nil, "Entra tenant ids (tid) whose incoming tokens are accepted, space-separated or repeated;\n"+
		"narrows a multi-tenant ({tenantid}) discovery URL, which accepts every tenant")
	fs.BoolVar(&f.userinfoClaims, "userinfo-claims", false, "also read the UID claim, user map and role map from the userinfo endpoint (called with the\n"+
		"incoming token, cached for its lifetime): for providers that leave email, names or groups out of access tokens")
	fs.BoolVar(&f.logTokenClaims, "log-token-claims", false, "record the header and claims (never the signature) of incoming tokens in the debugger\n"+
		"(the manual's LogIDToken): to build role maps from real traffic")
	f.clientSecret = secretFlag{name: "client-secret", what: "client secret"}
	f.clientSecret.register(cmd)
	f.keyPassword = secretFlag{name: "client-key-password", what: "client key password"}
	f.keyPassword.register(cmd)
	if add {
		fs.StringVar(&f.prefillFrom, "prefill-from", "", "copy the settings of this profile, except client id and secrets")
	}
}

// apply sets the fields whose flags were given on p; load has read the
// files and secrets before.
func (f *profileFlags) apply(cmd *cobra.Command, p *core.Profile) error {
	set := cmd.Flags().Changed
	var err error
	str := func(flag string, dst *string, v string) {
		if set(flag) {
			*dst = strings.TrimSpace(v)
		}
	}
	dur := func(flag string, dst *time.Duration, v string) {
		if set(flag) && err == nil {
			var d time.Duration
			if d, err = config.ParseDuration(v); err != nil {
				err = usagef("--%s %q: want a duration such as 30m, 2s or 1800", flag, v)
			}
			*dst = d
		}
	}
	str("discovery-url", &p.DiscoveryURL, f.discoveryURL)
	str("client-id", &p.ClientID, f.clientID)
	str("uid-claim", &p.UIDClaim, f.uidClaim)
	str("client-cert", &p.TLS.ClientCert, f.clientCert)
	str("client-key", &p.TLS.ClientKey, f.clientKey)
	str("ca-file", &p.TLS.CAFile, f.caFile)
	str("ca-dir", &p.TLS.CADir, f.caDir)
	str("restrict-user-login", &p.Restrictions.UserLogin, f.restrictUserLogin)
	str("restrict-azp", &p.Restrictions.AuthorizedParty, f.restrictAZP)
	str("token-auth-method", &p.TokenAuthMethod, f.tokenAuthMethod)
	str("client-auth", &p.TokenAuthMethod, f.tokenAuthMethod)
	str("assertion-audience", &p.AssertionAudience, f.assertionAudience)
	str("redirect-uri", &p.RedirectURI, f.redirectURI)
	dur("discovery-ttl", &p.DiscoveryTTL, f.discoveryTTL)
	dur("rand-ttl", &p.Misc.RandTTL, f.randTTL)
	dur("leeway", &p.Misc.Leeway, f.leeway)
	if err != nil {
		return err
	}
	if set("flavour") {
		if p.Flavour, err = core.ParseFlavour(f.flavour); err != nil {
			return usageError{err}
		}
	}
	if set("scope") {
		p.Scopes = words(f.scopes)
	}
	if set("restrict-scope") {
		p.Restrictions.Scopes = words(f.restrictScopes)
	}
	if set("restrict-audience") {
		p.Restrictions.Audiences = words(f.restrictAudiences)
	}
	if set("restrict-tenant") {
		p.Restrictions.Tenants = words(f.restrictTenants)
	}
	if set("userinfo-claims") {
		p.UserinfoClaims = f.userinfoClaims
	}
	if set("log-token-claims") {
		p.LogTokenClaims = f.logTokenClaims
	}
	if set("insecure-http") {
		p.InsecureHTTP = f.insecureHTTP
	}
	if set("introspect") {
		p.Introspect = f.introspect
	}
	if set("dpop") {
		p.DPoP = core.DPoPMode(strings.ToLower(strings.TrimSpace(f.dpop)))
	}
	if set("dpop-nonce") {
		p.DPoPNonce = f.dpopNonce
	}
	if set("tls-skip-verify") {
		p.TLS.SkipVerifyPeer = f.skipVerifyPeer
	}
	if set("tls-skip-verify-hostname") {
		p.TLS.SkipVerifyHostname = f.skipVerifyHostname
	}
	if set("use-nonce") {
		p.Misc.UseNonce = f.useNonce
	}
	if set("rand-length") {
		p.Misc.RandLength = f.randLength
	}
	if set("role-map-file") {
		p.RoleMap = f.roleMap
	}
	if set("user-map-file") {
		p.UserMap = f.userMap
	}
	if f.secretSet {
		p.ClientSecret = f.secret
	}
	if f.keyPasswordSet {
		p.TLS.ClientKeyPassword = f.keyPasswordValue
	}
	return nil
}

func (a *app) profileCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "profile",
		Aliases: []string{"profiles"},
		Short:   "Manage OIDC provider profiles",
		Long:    "A profile is one OpenID provider plus one client registration at it.",
		Args:    noArgs,
	}
	cmd.AddCommand(a.profileAdd(), a.profileEdit(), a.profileShow(), a.profileList(), a.profileRemove(), a.profileTest(), a.profileKeys(), a.profileKeygen())
	return cmd
}

func (a *app) profileAdd() *cobra.Command {
	var f profileFlags
	cmd := &cobra.Command{
		Use:   "add NAME --discovery-url URL --client-id ID [flags]",
		Short: "Add a profile",
		Example: `  oidcctl profile add keycloak \
      --discovery-url https://idp.example/realms/master/.well-known/openid-configuration \
      --client-id someapi --client-secret-file ./secret --uid-claim sub --scope openid
  printf %s "$SECRET" | oidcctl profile add entra --flavour entra \
      --discovery-url https://login.microsoftonline.com/TENANT/v2.0/.well-known/openid-configuration \
      --client-id 1234 --client-secret-file -
  oidcctl profile add keycloak-2 --prefill-from keycloak --client-id otherapi --client-secret-prompt`,
		Args: exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			p := core.NewProfile(args[0])
			if f.prefillFrom != "" {
				src, err := reg.Profile(cmd.Context(), f.prefillFrom)
				if err != nil {
					return fmt.Errorf("--prefill-from: %w", err)
				}
				p.PrefillFrom(src)
			}
			// No secret prompt for a client that authenticates by key or
			// certificate.
			askSecret := !slices.Contains([]string{core.AuthPrivateKeyJWT, core.AuthTLSClient, core.AuthSelfSignedTLS}, strings.TrimSpace(f.tokenAuthMethod))
			if err := f.load(cmd, a.env, askSecret); err != nil {
				return err
			}
			if err := f.apply(cmd, &p); err != nil {
				return err
			}
			if err := reg.AddProfile(cmd.Context(), p); err != nil {
				return err
			}
			stored, err := reg.Profile(cmd.Context(), p.Name)
			if err != nil {
				return err
			}
			return a.printProfile(stored, nil, "added")
		},
	}
	f.register(cmd, true)
	return cmd
}

func (a *app) profileEdit() *cobra.Command {
	var f profileFlags
	cmd := &cobra.Command{
		Use:   "edit NAME [flags]",
		Short: "Change the given settings of a profile, keeping the rest",
		Example: `  oidcctl profile edit keycloak --leeway 5s --restrict-audience billing
  oidcctl profile edit keycloak --client-secret-file ./new-secret
  oidcctl profile edit keycloak --role-map-file roles.yaml`,
		Args: exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if cmd.Flags().NFlag() == 0 {
				return usagef("profile edit %s: nothing to change; give the flags of the settings to change (see --help)", args[0])
			}
			if err := f.load(cmd, a.env, false); err != nil {
				return err
			}
			p, err := reg.EditProfile(cmd.Context(), args[0], func(p *core.Profile) error {
				return f.apply(cmd, p)
			})
			if err != nil {
				return err
			}
			return a.printProfile(p, nil, "changed")
		},
	}
	f.register(cmd, false)
	return cmd
}

func (a *app) profileShow() *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a profile (secrets only as set or not set)",
		Example: "  oidcctl profile show keycloak -o json",
		Args:    exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			p, err := reg.Profile(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			accounts, err := reg.Accounts(cmd.Context(), p.Name)
			if err != nil {
				return err
			}
			return a.printProfile(p, accounts, "")
		},
	}
}

func (a *app) profileList() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List profiles",
		Example: "  oidcctl profile list\n  oidcctl profile list --jq '.[].name'",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			profiles, err := reg.Profiles(cmd.Context())
			if err != nil {
				return err
			}
			accounts, err := reg.Accounts(cmd.Context(), "")
			if err != nil {
				return err
			}
			used := map[string][]string{}
			for _, acc := range accounts {
				used[acc.Profile] = append(used[acc.Profile], acc.Name)
			}
			if a.output == "json" {
				docs := make([]config.Profile, len(profiles))
				for i, p := range profiles {
					docs[i] = config.FromProfile(p, false)
					docs[i].Accounts = nonNil(used[p.Name])
				}
				return writeJSON(a.stdout, docs)
			}
			if len(profiles) == 0 {
				fmt.Fprintln(a.stdout, "No profiles yet. Add one with: oidcctl profile add NAME --discovery-url URL --client-id ID")
				return nil
			}
			t := newTable(a.stdout, "NAME", "FLAVOUR", "CLIENT ID", "SECRET", "ACCOUNTS", "DISCOVERY URL")
			for _, p := range profiles {
				secret := p.ClientSecret.String()
				if p.NeedsSecret() {
					secret = core.StateNeedsSecret
				}
				t.row(p.Name, string(p.Flavour), p.ClientID, secret, fmt.Sprint(len(used[p.Name])), p.DiscoveryURL)
			}
			return t.flush()
		},
	}
}

func (a *app) profileRemove() *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"remove", "delete"},
		Short:   "Remove a profile; refused while accounts use it",
		Example: "  oidcctl profile rm keycloak",
		Args:    exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := reg.DeleteProfile(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.printDone("removed", "profile", args[0])
		},
	}
}

// printProfile prints one profile; verb says what was just done to it.
func (a *app) printProfile(p core.Profile, accounts []core.Account, verb string) error {
	doc := config.FromProfile(p, false)
	if accounts != nil {
		doc.Accounts = []string{}
		for _, acc := range accounts {
			doc.Accounts = append(doc.Accounts, acc.Name)
		}
	}
	if a.output == "json" {
		return writeJSON(a.stdout, doc)
	}
	if verb != "" {
		fmt.Fprintf(a.stdout, "Profile %q %s.\n", p.Name, verb)
	}
	kv := newTable(a.stdout)
	kv.row("name:", p.Name)
	kv.row("flavour:", string(p.Flavour))
	kv.row("discovery URL:", p.DiscoveryURL)
	kv.row("discovery TTL:", fmtDuration(p.DiscoveryTTL))
	kv.row("client id:", p.ClientID)
	kv.row("client secret:", secretState(p.ClientSecret, p.MissingSecrets, core.SecretClientSecret))
	kv.row("token auth method:", cmp.Or(p.TokenAuthMethod, "-"))
	kv.row("assertion audience:", cmp.Or(p.AssertionAudience, "- (token_endpoint)"))
	kv.row("client keys:", fmtClientKeys(p.ClientKeys))
	kv.row("introspect opaque:", onOff(p.Introspect, "off"))
	kv.row("DPoP:", dpopText(p))
	kv.row("redirect URI:", cmp.Or(p.RedirectURI, "- (http://127.0.0.1:<free port>/callback)"))
	kv.row("scopes:", cmp.Or(strings.Join(p.Scopes, " "), "-"))
	kv.row("UID claim:", p.UIDClaim)
	kv.row("TLS client cert:", cmp.Or(p.TLS.ClientCert, "-"))
	kv.row("TLS client key:", cmp.Or(p.TLS.ClientKey, "-"))
	kv.row("TLS key password:", secretState(p.TLS.ClientKeyPassword, p.MissingSecrets, core.SecretClientKeyPassword))
	kv.row("TLS CA file:", cmp.Or(p.TLS.CAFile, "-"))
	kv.row("TLS CA dir:", cmp.Or(p.TLS.CADir, "-"))
	kv.row("verify peer:", onOff(!p.TLS.SkipVerifyPeer, "OFF: any certificate is accepted (testing only)"))
	kv.row("verify hostname:", onOff(!p.TLS.SkipVerifyHostname, "OFF"))
	kv.row("use nonce:", onOff(p.Misc.UseNonce, "off"))
	kv.row("rand length:", fmt.Sprint(p.Misc.RandLength))
	kv.row("rand TTL:", fmtDuration(p.Misc.RandTTL))
	kv.row("leeway:", fmtDuration(p.Misc.Leeway))
	kv.row("role map:", fmtRoleMap(p.RoleMap))
	kv.row("user map:", fmtUserMap(p.UserMap))
	kv.row("restrict user login:", cmp.Or(p.Restrictions.UserLogin, "-"))
	kv.row("restrict scope:", cmp.Or(strings.Join(p.Restrictions.Scopes, " "), "-"))
	kv.row("restrict audience:", cmp.Or(strings.Join(p.Restrictions.Audiences, " "), "-"))
	kv.row("restrict azp:", cmp.Or(p.Restrictions.AuthorizedParty, "-"))
	kv.row("restrict tenant:", cmp.Or(strings.Join(p.Restrictions.Tenants, " "), "-"))
	kv.row("userinfo claims:", onOff(p.UserinfoClaims, "off"))
	kv.row("log token claims:", onOff(p.LogTokenClaims, "off"))
	if doc.Accounts != nil {
		kv.row("accounts:", cmp.Or(strings.Join(doc.Accounts, ", "), "-"))
	}
	return kv.flush()
}

// dpopText describes a profile's DPoP setting.
func dpopText(p core.Profile) string {
	m := string(p.DPoP)
	if m == "" {
		m = string(core.DPoPOff)
	}
	if p.DPoPNonce {
		m += ", with server nonces"
	}
	return m
}
