package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/jwks"
	"oidcctl/core/validate"
	"oidcctl/tui"
)

// exitRefused is the exit code of token inspect for a token that would be
// refused, so that scripts can tell it from an error.
const exitRefused = 3

func (a *app) tokenInspect() *cobra.Command {
	var account, profile string
	var pc proofCheck
	cmd := &cobra.Command{
		Use:   "inspect TOKEN | - | --account ACCOUNT",
		Short: "Show what a token holds and whether a profile would accept it, and why",
		Long: `Decodes a token and checks it as serve would: the header, the claims (times
as dates and relative), the signature against the profile's JWKS, each
restriction, the user and roles it maps to, and a one-line verdict with the
reason. Nothing is written: a user that would be created is only shown.

Without --profile the token is checked against every profile, side by side.

A DPoP-bound token shows its binding (cnf.jkt, the thumbprint of the key it
is bound to). --dpop-proof PROOF checks a DPoP proof (RFC 9449) with it as
serve would: signature with the key in its header, typ, alg, iat, ath =
the token's hash, the key's thumbprint = cnf.jkt, and htm/htu against
--method and --url when given (else they are only shown). The proof is not
used up: serve still takes it once.

Exit codes: 0 accepted, 3 refused (the token, or the proof), 1 for other errors.`,
		Example: `  oidcctl token inspect eyJhbGciOi...
  pbpaste | oidcctl token inspect - --profile keycloak
  oidcctl token inspect --account billing -o json
  oidcctl token inspect "$tok" --dpop-proof "$proof" --method GET --url https://api.example/x`,
		Args: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (account != "") || len(args) > 1 {
				return usagef("token inspect needs a token, - for standard input, or --account, one of them")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, err := a.open(ctx); err != nil {
				return err
			}
			token, err := a.tokenToInspect(ctx, args, account, &profile)
			if err != nil {
				return err
			}
			var profiles []core.Profile
			if profile != "" {
				p, err := a.store.Profile(ctx, profile)
				if err != nil {
					return err
				}
				profiles = []core.Profile{p}
			} else if profiles, err = a.store.Profiles(ctx); err != nil {
				return err
			} else if len(profiles) == 0 {
				return errors.New("no profile to check the token against: add one with oidcctl profile add")
			}
			v := a.svc.validator
			results := make([]*validate.Result, len(profiles))
			for i, p := range profiles {
				results[i] = v.Inspect(ctx, p, token)
			}
			if pc.proof != "" {
				return a.inspectWithProof(results, len(profiles) == 1, token, pc)
			}
			if err := a.printInspection(results, len(profiles) == 1); err != nil {
				return err
			}
			return inspectionExit(results)
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "inspect a token of this functional account (obtained or refreshed first when needed)")
	cmd.Flags().StringVar(&profile, "profile", "", "check against this profile only (default: every profile; with --account, its profile)")
	pc.register(cmd)
	return cmd
}

// tokenToInspect reads the token from the argument, standard input or an
// account; an account's profile becomes the default profile.
func (a *app) tokenToInspect(ctx context.Context, args []string, account string, profile *string) (string, error) {
	if account != "" {
		acc, err := a.store.Account(ctx, account)
		if err != nil {
			return "", err
		}
		set, err := a.svc.tokens.Token(ctx, acc.Name)
		if err != nil {
			return "", err
		}
		if *profile == "" {
			*profile = acc.Profile
		}
		return set.Token(acc.TokenType).Reveal(), nil
	}
	token := args[0]
	if token == "-" {
		b, err := readInput(ctx, a.env, "-")
		if err != nil {
			return "", fmt.Errorf("read the token: %w", err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	token = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(token, "Bearer "), "bearer "))
	if token == "" {
		return "", usagef("the token is empty")
	}
	return token, nil
}

// inspectionExit: 0 when a profile accepts the token, 3 when every one
// refuses it, 1 when a profile could not judge it.
func inspectionExit(results []*validate.Result) error {
	for _, r := range results {
		if r.Accepted() {
			return nil
		}
	}
	for _, r := range results {
		if r.Reason.ErrorCode() == "" {
			return exitCodeError{exitFailure, fmt.Errorf("profile %s could not judge the token: %s", r.Profile, r.Message)}
		}
	}
	return exitCodeError{exitRefused, silentError{}}
}

// silentError ends a run with an exit code and nothing more to say.
type silentError struct{}

func (silentError) Error() string { return "" }

func (a *app) printInspection(results []*validate.Result, one bool) error {
	if a.output == "json" {
		if one {
			return writeJSON(a.stdout, results[0])
		}
		return writeJSON(a.stdout, results)
	}
	w := a.stdout
	r := results[0]
	now := time.Now()
	if r.Header != nil {
		fmt.Fprintln(w, "Header:")
		printClaims(w, r.Header, now)
	}
	if r.Claims != nil {
		fmt.Fprintln(w, "\nClaims:")
		printClaims(w, r.Claims, now)
	}
	if !one {
		fmt.Fprintln(w, "\nVerdicts:")
		t := newTable(w, "  PROFILE", "VERDICT", "REASON", "")
		for _, r := range results {
			t.row("  "+r.Profile, verdictWord(r), cmp.Or(string(r.Reason), "-"), tui.Truncate(r.Message, 90))
		}
		return t.flush()
	}
	fmt.Fprintf(w, "\nChecks against profile %s:\n", tui.Escape(r.Profile))
	t := newTable(w)
	for _, c := range r.Checks {
		mark := "pass"
		if !c.OK {
			mark = "FAIL"
		}
		t.row("  "+mark, c.Name, c.Detail)
	}
	t.flush()
	if r.JKT != "" {
		fmt.Fprintf(w, "\nDPoP binding: cnf.jkt %s (present it as Authorization: DPoP with a proof of that key)\n", tui.Escape(r.JKT))
	}
	if r.Login != "" || r.User != nil {
		fmt.Fprintln(w)
		kv := newTable(w)
		kv.row("login:", cmp.Or(r.Login, "-"))
		kv.row("roles:", cmp.Or(strings.Join(r.Roles, ", "), "-"))
		if r.UserAction != validate.UserNone {
			kv.row("user:", string(r.UserAction))
		}
		kv.flush()
	}
	fmt.Fprintf(w, "\nVerdict: %s", verdictWord(r))
	if !r.Accepted() {
		fmt.Fprintf(w, " (%s, HTTP %d)", r.Reason, r.Status())
	}
	fmt.Fprintf(w, ": %s\n", tui.EscapeText(r.Message))
	return nil
}

func verdictWord(r *validate.Result) string {
	if r.Accepted() {
		return "ACCEPTED"
	}
	return "REFUSED"
}

// timeClaims are shown as dates with the time from now.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true, "updated_at": true}

// printClaims prints a claim set, one claim a line, sorted.
func printClaims(w io.Writer, claims map[string]any, now time.Time) {
	t := newTable(w)
	for _, k := range slices.Sorted(maps.Keys(claims)) {
		v := claims[k]
		text := claimText(v)
		if n, ok := v.(float64); ok && timeClaims[k] {
			at := time.Unix(int64(n), 0).UTC()
			text = fmt.Sprintf("%s (%s)", at.Format("2006-01-02 15:04:05 MST"), tui.Relative(at, now))
		}
		t.row("  "+k, text)
	}
	t.flush()
}

func claimText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// keysJSON is the -o json form of profile keys: times in RFC 3339 and
// the cache's age in seconds, as in every other JSON oidcctl writes.
type keysJSON struct {
	URL         string         `json:"url"`
	FetchedAt   *time.Time     `json:"fetched_at,omitempty"`
	AgeSeconds  int64          `json:"age_seconds"`
	Reason      string         `json:"reason"`
	Fetches     int            `json:"fetches"`
	LastAttempt *time.Time     `json:"last_attempt,omitempty"`
	LastError   string         `json:"last_error,omitempty"`
	Keys        []jwks.KeyInfo `json:"keys"`
}

func (a *app) profileKeys() *cobra.Command {
	return &cobra.Command{
		Use:   "keys NAME",
		Short: "Show the provider's signing keys (JWKS) for a profile",
		Long: `Fetches the profile's JWKS through discovery and shows every key: kid, alg,
use, x5t, size, and whether it is used; then the cache's age and why the set
was last fetched.`,
		Example: "  oidcctl profile keys keycloak\n  oidcctl profile keys keycloak -o json",
		Args:    exactArgs(1, "a profile name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, err := a.open(ctx); err != nil {
				return err
			}
			p, err := a.store.Profile(ctx, args[0])
			if err != nil {
				return err
			}
			d, err := a.svc.discovery.Get(ctx, p)
			if err != nil {
				return err
			}
			_, info, err := a.svc.keys.Set(ctx, p, d.JWKSURI)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, keysJSON{URL: info.URL, FetchedAt: optTime(info.FetchedAt), AgeSeconds: int64(info.Age.Seconds()),
					Reason: info.Reason, Fetches: info.Fetches, LastAttempt: optTime(info.LastAttempt), LastError: info.LastErrorText, Keys: info.Keys})
			}
			t := newTable(a.stdout, "KID", "KTY", "ALG", "USE", "SIZE", "X5T", "NOTE")
			for _, k := range info.Keys {
				size := k.Curve
				if k.Bits > 0 {
					size = fmt.Sprintf("%d bits", k.Bits)
				}
				t.row(cmp.Or(k.KID, "-"), k.Kty, cmp.Or(k.Alg, "-"), cmp.Or(k.Use, "-"), cmp.Or(size, "-"), cmp.Or(k.X5T, "-"), k.Problem)
			}
			t.flush()
			fmt.Fprintf(a.stdout, "\n%d keys from %s, fetched %s (%s), %d fetches.\n",
				len(info.Keys), info.URL, tui.Relative(info.FetchedAt, time.Now()), info.Reason, info.Fetches)
			if info.LastErrorText != "" {
				fmt.Fprintf(a.stdout, "The last fetch failed: %s\n", info.LastErrorText)
			}
			return nil
		},
	}
}
