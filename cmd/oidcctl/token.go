package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/core/dpop"
	"oidcctl/core/grant"
	"oidcctl/core/tokens"
	"oidcctl/tui"
)

// noteInterrupt tells, when ctx ends before done is called, that a
// renewal under way is finished first (tokens.Manager never abandons one
// at the provider) and how to quit at once. done waits for the note.
func (a *app) noteInterrupt(ctx context.Context) (done func()) {
	finished, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			fmt.Fprintf(a.stderr, "Interrupted: a token request under way is finished first, so that a rotated refresh token is not lost (at most %s). Interrupt again to quit at once.\n",
				tokens.DefaultRenewTimeout)
		case <-finished:
		}
	}()
	return func() {
		close(finished)
		<-exited
	}
}

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "token",
		Aliases: []string{"tokens"},
		Short:   "Get, list, refresh and revoke the tokens of functional accounts",
		Args:    noArgs,
	}
	cmd.AddCommand(a.tokenGet(), a.tokenList(), a.tokenRefresh(), a.tokenRevoke(), a.tokenInspect())
	return cmd
}

// tokenJSON is the -o json form of a token set: only the token asked for.
// token_type is the account's word (access_token or id_token, as in
// account show); the scheme the provider gave (RFC 6749's token_type,
// usually Bearer) is scheme, to put before the token in an Authorization
// header.
type tokenJSON struct {
	Account          string     `json:"account"`
	TokenType        string     `json:"token_type"` // access_token or id_token
	Token            string     `json:"token"`
	Scheme           string     `json:"scheme,omitempty"` // as the provider said, usually Bearer
	ExpiresAt        *time.Time `json:"expires_at,omitempty"`
	ExpiresInSeconds int64      `json:"expires_in_seconds,omitempty"`
	Scope            string     `json:"scope"`
	// DPoPProof is the proof made with --dpop-proof METHOD URL.
	DPoPProof string `json:"dpop_proof,omitempty"`
}

func (a *app) tokenGet() *cobra.Command {
	var proofMethod string
	cmd := &cobra.Command{
		Use:   "get ACCOUNT [--dpop-proof METHOD URL]",
		Short: "Print a valid token of an account, obtaining or refreshing it first when needed",
		Long: `Prints the account's access token (or id token, if the account hands out
id tokens) on standard output, for scripts. A stored token is used while it
is valid for at least another minute; otherwise it is refreshed or obtained
first, by one process at a time. Stored tokens that cannot be opened are
replaced by new ones where no person is needed (client_credentials, password).

A refresh under way is finished even when interrupted (ctrl-c), so that a
refresh token the provider has just rotated is not lost; interrupt again to
quit at once.

For an account with DPoP (account edit --dpop), --dpop-proof METHOD URL
prints a second line: a fresh DPoP proof (RFC 9449) of the account's key
for that one request (htm, htu, iat, jti, ath). Send the token as
"Authorization: DPoP <token>" and the proof as "DPoP: <proof>"; a proof is
good for one request only, within a minute.`,
		Example: `  curl -H "Authorization: Bearer $(oidcctl token get billing)" https://api.example/
  oidcctl token get billing -o json
  { read -r tok; read -r proof; } < <(oidcctl token get signer --dpop-proof GET https://api.example/x)
  curl -H "Authorization: DPoP $tok" -H "DPoP: $proof" https://api.example/x`,
		Args: func(cmd *cobra.Command, args []string) error {
			if proofMethod != "" {
				if len(args) != 2 {
					return usagef("token get --dpop-proof METHOD needs the account and the URL of the request: token get ACCOUNT --dpop-proof METHOD URL")
				}
				return nil
			}
			return exactArgs(1, "an account name")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			acc, err := a.store.Account(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			done := a.noteInterrupt(cmd.Context())
			set, err := a.svc.tokens.Token(cmd.Context(), acc.Name)
			done()
			if err != nil {
				return err
			}
			tok := set.Token(acc.TokenType)
			proof := ""
			if proofMethod != "" {
				if proof, err = dpopProof(acc, proofMethod, args[1], tok.Reveal()); err != nil {
					return err
				}
			}
			if a.output != "json" {
				fmt.Fprintln(a.stdout, tok.Reveal())
				if proof != "" {
					fmt.Fprintln(a.stdout, proof)
				}
				return nil
			}
			out := tokenJSON{Account: acc.Name, TokenType: string(acc.TokenType), Token: tok.Reveal(), Scheme: set.TokenType, Scope: set.Scope, DPoPProof: proof}
			if exp := optTime(set.Expiry); exp != nil {
				out.ExpiresAt, out.ExpiresInSeconds = exp, int64(time.Until(set.Expiry).Seconds())
			}
			return writeJSON(a.stdout, out)
		},
	}
	cmd.Flags().StringVar(&proofMethod, "dpop-proof", "", "also print a DPoP proof of the account's key for METHOD and the URL given after the account")
	return cmd
}

// dpopProof makes a proof of an account's DPoP key for one request with
// token.
func dpopProof(acc core.Account, method, rawURL, token string) (string, error) {
	key, err := grant.AccountKey(acc)
	if err != nil {
		return "", usageError{fmt.Errorf("--dpop-proof: %w", err)}
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if !strings.HasPrefix(rawURL, "https://") && !strings.HasPrefix(rawURL, "http://") {
		return "", usagef("--dpop-proof: the URL %q is not an absolute http(s) URL", rawURL)
	}
	return key.Proof(method, rawURL, dpop.ProofOptions{AccessToken: token})
}

// tokenState is the -o json form of an account's token state: no token.
type tokenState struct {
	Account            string     `json:"account"`
	Profile            string     `json:"profile"`
	GrantType          string     `json:"grant_type"`
	State              string     `json:"state"`
	HasAccessToken     bool       `json:"has_access_token"`
	HasRefreshToken    bool       `json:"has_refresh_token"`
	HasIDToken         bool       `json:"has_id_token"`
	ExpiresAt          *time.Time `json:"expires_at,omitempty"`
	RefreshExpiresAt   *time.Time `json:"refresh_expires_at,omitempty"`
	Scope              string     `json:"scope"`
	LastRefresh        *time.Time `json:"last_refresh,omitempty"` // LAST REFRESH in the table
	LastError          string     `json:"last_error,omitempty"`
	LastErrorAt        *time.Time `json:"last_error_at,omitempty"`
	Failures           int        `json:"failures"`
	NextAttempt        *time.Time `json:"next_attempt,omitempty"`
	NeedsAuthorization bool       `json:"needs_authorization"`
	// Damaged says why stored tokens cannot be opened.
	Damaged string `json:"damaged,omitempty"`
}

// optTime is t for JSON: nil when unset, else UTC in whole seconds, so
// that every time oidcctl writes reads as RFC 3339 alike
// ("2026-12-04T19:30:55Z").
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = jsonTime(t)
	return &t
}

// jsonTime is a time that is always set, for JSON: UTC, whole seconds.
func jsonTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func (a *app) tokenList() *cobra.Command {
	var check bool
	var warn string
	cmd := &cobra.Command{
		Use:   "list [--check]",
		Short: "Show the token state of every account",
		Long: `Shows, for every account: state, when the access token and the refresh token
expire, the last refresh and the last error. Tokens themselves are never shown.
An account whose stored tokens cannot be opened (damaged, or sealed with
another key) is listed as "damaged" and explained on a line of its own on
standard error; the other accounts are listed as usual.

With -o json the array is written as the accounts are read: if reading
fails half-way, the output ends without its closing bracket and the
command exits 1.

With --check it exits 1 when any account is failing, needs authorization,
needs a secret (imported without one: see config import), or has a refresh
token that expires within the warning window, so that a monitoring system
can call it.`,
		Example: "  oidcctl token list\n  oidcctl token list --check --warn 7d",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			window, err := config.ParseDuration(warn)
			if err != nil {
				return usagef("--warn %q: %v", warn, err)
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			needs, err := core.SecretsNeeded(cmd.Context(), a.store)
			if err != nil {
				return err
			}
			now := a.clock()
			status := func(st core.TokenState) string {
				if needs[st.Account] != "" {
					return core.StateNeedsSecret
				}
				return st.Status(now)
			}
			// The states are read one at a time and only what is printed is
			// kept: the table's text, compactly, since its columns are as
			// wide as their widest cell; JSON is written as it comes. So
			// 100,000 accounts hold neither every token nor every row.
			var (
				problems, damaged []string
				jsonRows          *jsonArray
				t                 *table
			)
			if a.output == "json" {
				jsonRows = newJSONArray(a.stdout)
			}
			err = a.store.EachTokenState(cmd.Context(), func(st core.TokenState) error {
				if check {
					if fix := needs[st.Account]; fix != "" {
						problems = append(problems, st.Account+": "+core.StateNeedsSecret+": "+fix)
					} else if p := healthProblem(st, now, window); p != "" {
						problems = append(problems, st.Account+": "+p)
					}
				}
				if st.Damaged != nil {
					// Listed with the others, explained on a line of its own.
					damaged = append(damaged, fmt.Sprintf("oidcctl: %s: %v; %s", st.Account, st.Damaged, damagedHint(st)))
				}
				if a.output == "json" {
					row := tokenState{
						Account: st.Account, Profile: st.Profile, GrantType: string(st.GrantType), State: status(st),
						HasAccessToken: st.Tokens.AccessToken.IsSet(), HasRefreshToken: st.Tokens.RefreshToken.IsSet(), HasIDToken: st.Tokens.IDToken.IsSet(),
						ExpiresAt: optTime(st.Tokens.Expiry), RefreshExpiresAt: optTime(st.Tokens.RefreshExpiry), Scope: st.Tokens.Scope,
						LastRefresh: optTime(st.LastSuccess), LastError: st.LastError, LastErrorAt: optTime(st.LastErrorAt),
						Failures: st.Failures, NextAttempt: optTime(st.NextAttempt), NeedsAuthorization: st.NeedsAuthorization,
					}
					if st.Damaged != nil {
						row.Damaged = st.Damaged.Error()
					}
					return jsonRows.add(row)
				}
				if t == nil {
					t = newTable(a.stdout, "ACCOUNT", "PROFILE", "GRANT", "STATE", "EXPIRES", "REFRESH EXPIRES", "LAST REFRESH", "LAST ERROR")
				}
				refresh := tui.Relative(st.Tokens.RefreshExpiry, now)
				if st.Tokens.RefreshToken.IsSet() && st.Tokens.RefreshExpiry.IsZero() {
					refresh = "unknown"
				}
				lastErr := st.LastError
				if st.Damaged != nil {
					lastErr = "stored tokens cannot be opened (see below)"
				}
				t.row(st.Account, st.Profile, string(st.GrantType), status(st), tui.Relative(st.Tokens.Expiry, now),
					refresh, tui.Relative(st.LastSuccess, now), cmp.Or(tui.Truncate(lastErr, 60), "-"))
				return nil
			})
			if err != nil {
				if jsonRows != nil {
					jsonRows.abort()
				}
				return err
			}
			switch {
			case a.output == "json":
				if err := jsonRows.close(); err != nil {
					return err
				}
			case t == nil:
				fmt.Fprintln(a.stdout, "No accounts yet. Add one with: oidcctl account add NAME --profile PROFILE")
			default:
				if err := t.flush(); err != nil {
					return err
				}
			}
			for _, line := range damaged {
				fmt.Fprintln(a.stderr, line)
			}
			if check && len(problems) > 0 {
				return exitCodeError{exitFailure, fmt.Errorf("%d accounts need attention:\n  %s", len(problems), strings.Join(problems, "\n  "))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "exit 1 when any account is failing, needs a secret or will need authorization soon")
	cmd.Flags().Var(newDurationText(&warn, "7d"), "warn", "warning window before a refresh token expires")
	return cmd
}

// damagedHint says how an account with damaged stored tokens gets new
// ones.
func damagedHint(st core.TokenState) string {
	if st.GrantType == core.GrantAuthorizationCode {
		return "run oidcctl account authorize " + st.Account
	}
	return "oidcctl token get " + st.Account + " obtains new tokens"
}

// healthProblem says why an account needs attention, or "".
func healthProblem(st core.TokenState, now time.Time, window time.Duration) string {
	switch {
	case st.NeedsAuthorization:
		return "needs authorization: run oidcctl account authorize " + st.Account
	case st.Damaged != nil:
		return "damaged: stored tokens cannot be opened; " + damagedHint(st)
	case st.LastError != "":
		return "failing: " + st.LastError
	case st.GrantType == core.GrantAuthorizationCode && !st.Tokens.RefreshToken.IsSet() && !st.Tokens.AccessToken.IsSet():
		return "never authorized: run oidcctl account authorize " + st.Account
	case st.GrantType == core.GrantAuthorizationCode && !st.Tokens.RefreshExpiry.IsZero() && st.Tokens.RefreshExpiry.Before(now.Add(window)):
		return "refresh token expires " + tui.Relative(st.Tokens.RefreshExpiry, now) + ": authorize again before then"
	}
	return ""
}

func (a *app) tokenRefresh() *cobra.Command {
	var due bool
	var concurrency int
	cmd := &cobra.Command{
		Use:   "refresh ACCOUNT | --due",
		Short: "Refresh an account's tokens now, or every account the scheduler would refresh now",
		Example: `  oidcctl token refresh billing
  oidcctl token refresh --due`,
		Args: func(cmd *cobra.Command, args []string) error {
			if due == (len(args) == 1) && len(args) <= 1 {
				return usagef("token refresh needs an account name or --due, not both")
			}
			if len(args) > 1 {
				return usagef("token refresh takes one account name")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			m := a.svc.tokens
			if !due {
				done := a.noteInterrupt(cmd.Context())
				set, err := m.Refresh(cmd.Context(), args[0])
				done()
				if err != nil {
					return err
				}
				return a.printDone("refreshed (expires "+tui.Relative(set.Expiry, time.Now())+")", "account", args[0])
			}
			sched, err := tokens.LoadSchedule(cmd.Context(), a.store)
			if err != nil {
				return err
			}
			outcomes, err := m.RunDue(cmd.Context(), sched.Window(time.Now()), concurrency)
			if err != nil {
				return err
			}
			return a.printOutcomes(outcomes)
		},
	}
	cmd.Flags().BoolVar(&due, "due", false, "refresh every account the scheduler would renew now: its token expires before the next scheduled run (see config set --help)")
	cmd.Flags().IntVar(&concurrency, "concurrency", 8, "accounts refreshed at once with --due")
	return cmd
}

func (a *app) printOutcomes(outcomes []tokens.Outcome) error {
	failed := 0
	type row struct {
		Account string     `json:"account"`
		Verdict string     `json:"verdict"`
		Error   string     `json:"error,omitempty"`
		Expiry  *time.Time `json:"expires_at,omitempty"`
	}
	rows := make([]row, len(outcomes))
	for i, o := range outcomes {
		rows[i] = row{Account: o.Account, Verdict: string(o.Verdict), Expiry: optTime(o.Expiry)}
		if o.Err != nil {
			rows[i].Error = o.Err.Error()
			failed++
		}
	}
	if a.output == "json" {
		if err := writeJSON(a.stdout, rows); err != nil {
			return err
		}
	} else {
		t := newTable(a.stdout, "ACCOUNT", "VERDICT", "RESULT")
		for _, r := range rows {
			result := "-"
			switch {
			case r.Error != "":
				result = "failed: " + r.Error
			case r.Verdict == string(tokens.Due):
				result = "refreshed"
			case r.Verdict == string(tokens.Elsewhere):
				result = "left to another process (it holds the lease or renewed it)"
			}
			t.row(r.Account, r.Verdict, result)
		}
		t.flush()
	}
	if failed > 0 {
		return exitCodeError{exitFailure, fmt.Errorf("%d of the due accounts could not be refreshed", failed)}
	}
	return nil
}

func (a *app) tokenRevoke() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ACCOUNT",
		Short: "Revoke an account's tokens at the provider (RFC 7009) and forget them",
		Long: `Revokes the refresh token, then the access token, at the provider's
revocation endpoint, where it has one, then removes them from the store. The
tokens are forgotten even when the provider offers no revocation, and a token
the provider says it does not revoke (unsupported_token_type, as JWT access
tokens often are) is forgotten and stays valid there until it expires.

When revoking the refresh token fails, the tokens are kept and the command
exits 1. Once the refresh token is revoked the tokens are always forgotten;
if revoking the access token then fails, the command says so and exits 1.`,
		Example: "  oidcctl token revoke billing",
		Args:    exactArgs(1, "an account name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			r, err := a.svc.tokens.Revoke(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if r.Unsupported {
				fmt.Fprintf(a.stderr, "The provider offers no token revocation; the tokens are only forgotten here.\n")
			}
			if r.Damaged {
				fmt.Fprintf(a.stderr, "Stored tokens that could not be opened were forgotten without being revoked.\n")
			}
			for _, kind := range r.NotRevocable {
				life := "until it expires"
				if kind == "access_token" && !r.AccessExpiry.IsZero() {
					life = "until it expires " + tui.Relative(r.AccessExpiry, time.Now())
				}
				fmt.Fprintf(a.stderr, "The provider does not revoke the %s (unsupported_token_type); it was forgotten here and stays valid there %s.\n", kind, life)
			}
			return a.printDone(fmt.Sprintf("revoked (%d tokens at the provider) and forgotten", r.AtProvider), "tokens of account", args[0])
		},
	}
}
