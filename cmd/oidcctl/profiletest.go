package main

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core/clientauth"
	"oidcctl/core/discovery"
	"oidcctl/tui"
)

// discovery returns the discovery client of this run, sharing the
// database's cache.
func (a *app) profileTest() *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME",
		Short: "Fetch the discovery document and JWKS and say what they hold",
		Long: `Fetches the profile's discovery document and JWKS now, with the profile's
TLS settings, checks the issuer (OpenID Discovery 1.0 §4.3) and prints the
issuer, endpoints, grant types, signing algorithms and keys, and checks
that the provider takes the profile's client authentication method. The
document is cached for the profile's discovery TTL. Exits 1 when the
provider cannot be used.`,
		Example: "  oidcctl profile test keycloak\n  oidcctl profile test keycloak -o json",
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
			report, testErr := a.svc.discovery.Test(cmd.Context(), p)
			if testErr == nil && report != nil && report.Document != nil {
				// The provider must take the profile's client authentication.
				_, testErr = clientauth.Method(p, report.Document)
			}
			if a.output == "json" {
				// The report's durations in seconds, as every duration
				// of -o json.
				out := struct {
					Profile string `json:"profile"`
					OK      bool   `json:"ok"`
					Error   string `json:"error,omitempty"`
					*discovery.Report
					DurationSeconds     float64  `json:"duration_seconds"`
					JWKSDurationSeconds float64  `json:"jwks_duration_seconds,omitempty"`
					ClockOffsetSeconds  *float64 `json:"clock_offset_seconds,omitempty"`
				}{Profile: p.Name, OK: testErr == nil, Report: report,
					DurationSeconds: report.Duration.Seconds(), JWKSDurationSeconds: report.JWKSDuration.Seconds()}
				if report.ClockOffset != nil {
					s := report.ClockOffset.Seconds()
					out.ClockOffsetSeconds = &s
				}
				if testErr != nil {
					out.Error = testErr.Error()
				}
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
				if testErr != nil {
					return exitCodeError{exitFailure, fmt.Errorf("profile %s: %w", p.Name, testErr)}
				}
				return nil
			}
			printReport(a.stdout, report)
			if testErr != nil {
				return fmt.Errorf("profile %s: %w", p.Name, testErr)
			}
			fmt.Fprintf(a.stdout, "\nProfile %q works with this provider.\n", p.Name)
			return nil
		},
	}
}

func printReport(w io.Writer, r *discovery.Report) {
	kv := newTable(w)
	kv.row("discovery URL:", r.URL)
	if d := r.Document; d != nil {
		kv.row("fetched in:", r.Duration.Round(time.Millisecond).String())
		kv.row("issuer:", d.Issuer)
		kv.row("authorization endpoint:", cmp.Or(d.AuthorizationEndpoint, "-"))
		kv.row("token endpoint:", cmp.Or(d.TokenEndpoint, "-"))
		kv.row("device endpoint:", cmp.Or(d.DeviceAuthorizationEndpoint, "-"))
		kv.row("userinfo endpoint:", cmp.Or(d.UserinfoEndpoint, "-"))
		kv.row("introspection endpoint:", cmp.Or(d.IntrospectionEndpoint, "-"))
		kv.row("revocation endpoint:", cmp.Or(d.RevocationEndpoint, "-"))
		kv.row("JWKS URI:", cmp.Or(d.JWKSURI, "-"))
		kv.row("grant types:", cmp.Or(strings.Join(d.GrantTypesSupported, " "), "-"))
		kv.row("token auth methods:", cmp.Or(strings.Join(d.TokenEndpointAuthMethodsSupported, " "), "-"))
		kv.row("id_token signing algs:", cmp.Or(strings.Join(d.IDTokenSigningAlgValuesSupported, " "), "-"))
		kv.row("PKCE methods:", cmp.Or(strings.Join(d.CodeChallengeMethodsSupported, " "), "-"))
	}
	if r.ClockOffset != nil {
		kv.row("clock offset:", fmt.Sprintf("%s (the provider's clock minus ours, from its HTTP Date)", r.ClockOffset.Round(time.Second)))
	}
	kv.flush()
	if r.Document != nil && r.Document.JWKSURI != "" {
		fmt.Fprintf(w, "\nJWKS: %d keys (fetched in %s)\n", len(r.Keys), r.JWKSDuration.Round(time.Millisecond))
		t := newTable(w, "  KID", "KTY", "ALG", "USE", "SIZE", "NOTE")
		for _, k := range r.Keys {
			size := k.Curve
			if k.Bits > 0 {
				size = fmt.Sprintf("%d bits", k.Bits)
			}
			t.row("  "+cmp.Or(k.ID, "-"), k.Type, cmp.Or(k.Algorithm, "-"), cmp.Or(k.Use, "-"), cmp.Or(size, "-"), k.Problem)
		}
		t.flush()
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "  - %s\n", tui.EscapeText(warn))
		}
	}
}
