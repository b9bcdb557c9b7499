package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/clientauth"
)

// keygenJSON is the -o json answer of profile keygen.
type keygenJSON struct {
	Profile     string          `json:"profile"`
	Created     string          `json:"created,omitempty"` // kid of the new key
	Retired     []string        `json:"retired"`
	SigningKey  string          `json:"signing_key,omitempty"`
	JWKS        json.RawMessage `json:"jwks"`
	Certificate string          `json:"certificate,omitempty"`
}

func (a *app) profileKeygen() *cobra.Command {
	var (
		alg                       string
		withCert, retire, replace bool
		printOnly                 bool
		importKey, importCert     string
	)
	cmd := &cobra.Command{
		Use:   "keygen NAME [--alg RS256|ES256] [--cert | --import-key FILE [--import-cert FILE]] [--replace | --retire-old | --print]",
		Short: "Create a key pair for private_key_jwt client authentication and print its public key",
		Long: `Creates a key pair with which the profile signs its client assertions
(private_key_jwt, RFC 7523). The private key is sealed in the database like
every secret and never printed; the public keys are printed as a JWKS (and,
with --cert, a self-signed certificate, which Entra wants) to register at the
provider.

Key rollover: keygen again makes a new key that signs from now on and keeps
the older ones, which stay in the printed JWKS. Register the new key at the
provider, then drop the old ones with --retire-old. --replace makes a new key
and drops the old ones at once; --print prints the current keys only.
--import-key takes an existing private key (PEM, RSA of 2048 bits or more, or
EC P-256) instead of making one, with --import-cert its certificate (one a CA
issued, for instance).

Assertions: iss = sub = client id, aud = the token endpoint (or the issuer:
profile edit --assertion-audience issuer), a fresh jti, exp 60 s; the header
has the kid and, with a certificate, x5t#S256. Switch the profile to the
method with profile edit NAME --client-auth private_key_jwt (a profile with
keys and no secret uses it by default).`,
		Example: `  oidcctl profile keygen entra --cert
  oidcctl profile keygen keycloak --alg ES256
  oidcctl profile keygen keycloak --retire-old
  oidcctl profile keygen entra --import-key client.key --import-cert client.pem
  oidcctl profile keygen keycloak --print -o json | jq .jwks`,
		Args: exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n := 0
			for _, on := range []bool{retire, replace, printOnly} {
				if on {
					n++
				}
			}
			if n > 1 {
				return usagef("--replace, --retire-old and --print exclude each other")
			}
			algorithm, err := clientauth.ParseAlgorithm(alg)
			if err != nil {
				return usagef("--alg %q: %w", alg, err)
			}
			if (retire || printOnly) && (cmd.Flags().Changed("alg") || withCert || importKey != "") {
				return usagef("--alg, --cert and --import-key are for a new key; --retire-old and --print make none")
			}
			if importKey != "" && (cmd.Flags().Changed("alg") || withCert) {
				return usagef("--import-key takes the key as it is: no --alg or --cert (give its certificate with --import-cert)")
			}
			if importCert != "" && importKey == "" {
				return usagef("--import-cert needs --import-key")
			}
			reg, err := a.open(ctx)
			if err != nil {
				return err
			}
			p, err := reg.Profile(ctx, args[0])
			if err != nil {
				return err
			}
			out := keygenJSON{Profile: p.Name, Retired: []string{}}
			var key core.ClientKey
			switch {
			case retire || printOnly:
			case importKey != "":
				// Read and made before the store's transaction opens.
				keyPEM, err := readInput(ctx, a.env, importKey)
				if err != nil {
					return fmt.Errorf("--import-key: %w", err)
				}
				var certPEM []byte
				if importCert != "" {
					if certPEM, err = readInput(ctx, a.env, importCert); err != nil {
						return fmt.Errorf("--import-cert: %w", err)
					}
				}
				if key, err = clientauth.Import(keyPEM, certPEM, time.Now()); err != nil {
					return usagef("--import-key %s: %w", importKey, err)
				}
				algorithm, out.Created = key.Algorithm, key.ID
			default:
				if key, err = clientauth.Generate(algorithm, p.ClientID, withCert, time.Now()); err != nil {
					return err
				}
				out.Created = key.ID
			}
			if out.Created != "" && slices.ContainsFunc(p.ClientKeys, func(k core.ClientKey) bool { return k.ID == out.Created }) {
				return usagef("key %s is the profile's already", out.Created)
			}
			if !printOnly {
				change := clientauth.AddKey
				switch {
				case retire:
					change = clientauth.RetireOldKeys
				case replace:
					change = clientauth.ReplaceKeys
				}
				var retired []string
				if p, retired, err = clientauth.StoreKey(ctx, reg.EditProfile, p.Name, key, change); err != nil {
					return err
				}
				out.Retired = append(out.Retired, retired...)
			}
			if k, ok := p.SigningKey(); ok {
				out.SigningKey = k.ID
				if k.ID == out.Created {
					out.Certificate = k.Certificate
				}
			}
			jwks, err := clientauth.PublicJWKS(p.ClientKeys)
			if err != nil {
				return err
			}
			out.JWKS = jwks
			if a.output == "json" {
				return writeJSON(a.stdout, out)
			}
			w := a.stdout
			switch {
			case out.Created != "":
				fmt.Fprintf(w, "Key %s (%s) created for profile %q; it signs the client assertions from now on.\n", out.Created, algorithm, p.Name)
			case len(p.ClientKeys) == 0:
				fmt.Fprintf(w, "Profile %q has no client keys; create one with: oidcctl profile keygen %s\n", p.Name, p.Name)
				return nil
			}
			if len(out.Retired) > 0 {
				fmt.Fprintf(w, "Retired %s; remove it at the provider too.\n", strings.Join(out.Retired, ", "))
			}
			if n := len(p.ClientKeys) - 1; n > 0 && out.Created != "" {
				fmt.Fprintf(w, "%d older key(s) kept until `oidcctl profile keygen %s --retire-old`, once the new key is registered.\n", n, p.Name)
			}
			if p.TokenAuthMethod != core.AuthPrivateKeyJWT && (p.ClientSecret.IsSet() || p.TokenAuthMethod != "") {
				fmt.Fprintf(w, "The profile authenticates by %s still; switch with: oidcctl profile edit %s --client-auth private_key_jwt\n",
					cmp.Or(p.TokenAuthMethod, "its client secret"), p.Name)
			}
			if p.Flavour == core.FlavourEntra && out.Created != "" && out.Certificate == "" {
				fmt.Fprintf(w, "Entra registers certificates, not keys, and wants x5t#S256 in the assertion: make the key with --cert (or --import-cert).\n")
			}
			fmt.Fprintf(w, "\nPublic keys (JWKS) to register at the provider:\n%s\n", jwks)
			if out.Certificate != "" {
				fmt.Fprintf(w, "\nSelf-signed certificate of the new key (for providers that take certificates, e.g. Entra):\n%s", out.Certificate)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&alg, "alg", core.KeyRS256, "signature algorithm of the new key: RS256 (RSA 2048) or ES256 (P-256)")
	fs.BoolVar(&withCert, "cert", false, "also make a self-signed certificate of the new key; assertions then carry its x5t#S256")
	fs.BoolVar(&retire, "retire-old", false, "make no key; drop every key but the newest")
	fs.BoolVar(&replace, "replace", false, "make a new key and drop the old ones at once")
	fs.StringVar(&importKey, "import-key", "", "take this private key (PEM file, - for standard input) instead of making one")
	fs.StringVar(&importCert, "import-cert", "", "the certificate of the --import-key key (PEM file)")
	fs.BoolVar(&printOnly, "print", false, "make no key; print the current public keys")
	return cmd
}

// fmtClientKeys is the client keys line of profile show.
func fmtClientKeys(keys []core.ClientKey) string {
	if len(keys) == 0 {
		return "-"
	}
	var parts []string
	for i, k := range keys {
		s := k.ID + " " + k.Algorithm
		if k.Certificate != "" {
			s += " +cert"
		}
		if i == len(keys)-1 {
			s += " (signs)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
