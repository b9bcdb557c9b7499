// Package screens holds what the console's screens share: the dependencies
// the command line builds for them, and a few words for token states. Each
// screen is a package below this one (home, profiles, accounts, tokenstore,
// inspector, users, webservices, debugger, servestatus) that talks to core
// only, never to the database or the network directly.
package screens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/tokens"
	"oidcctl/core/validate"
	"oidcctl/tui"
)

// Deps are what screens are built with.
type Deps struct {
	// Registry changes profiles and accounts and, through its Store, reads
	// them, the discovery cache and the token store.
	Registry core.Registry
	// Discovery fetches and tests discovery documents; it shares the
	// database's cache.
	Discovery *discovery.Client
	// Tokens hands out, obtains and refreshes tokens.
	Tokens *tokens.Manager
	// Grants runs logins and revocations.
	Grants *grant.Client
	// Validator inspects tokens as serve would validate them. The
	// inspector uses only Inspect, which writes nothing.
	Validator *validate.Validator
	// Styles are the console's styles.
	Styles tui.Styles
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Getenv reads the environment (SSH_CONNECTION, BROWSER, DISPLAY …);
	// nil means nothing is set.
	Getenv func(string) string
	// OpenBrowser opens a URL in a local browser; nil means there is none.
	OpenBrowser func(url string) error
}

// Clock returns the current time by Now.
func (d Deps) Clock() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Clockf is the clock as a function: Now, or time.Now when nil. Closures
// take it rather than Deps, which is large to copy.
func (d Deps) Clockf() func() time.Time {
	if d.Now != nil {
		return d.Now
	}
	return time.Now
}

// Env reads an environment variable by Getenv.
func (d Deps) Env(key string) string {
	if d.Getenv == nil {
		return ""
	}
	return d.Getenv(key)
}

// AccountState is an account with the state of its tokens, as lists
// show it.
type AccountState struct {
	core.Account
	State core.TokenState
	// NeedsSecret, when set, says how to give the secret that the account
	// or its profile was imported without (core.NeedsSecretFix).
	NeedsSecret string
}

// Word says in one word how the account stands: NeedsSecret's word when
// it lacks a secret, else TokenState's.
func (a AccountState) Word(now time.Time) (string, tui.Tone) {
	if a.NeedsSecret != "" {
		return NoSecret, tui.ToneWarning
	}
	return TokenState(a.State, now)
}

// SecretHint says, for the console, how to give the missing secret; ""
// when none is missing.
func (a AccountState) SecretHint() string {
	switch {
	case a.NeedsSecret == "":
		return ""
	case a.Account.NeedsSecret():
		return "password missing: press e to give it"
	}
	return "the secret of profile " + a.Profile + " is missing: press e on it in Profiles"
}

// NoSecret is the console's short word for core.StateNeedsSecret.
const NoSecret = "no secret"

// AccountStore reads the accounts, their profiles and their token states.
type AccountStore interface {
	Accounts(ctx context.Context, profile string) ([]core.Account, error)
	AccountsNeedingSecrets(ctx context.Context) ([]core.Account, error)
	Profiles(ctx context.Context) ([]core.Profile, error)
	TokenStates(ctx context.Context) ([]core.TokenState, error)
}

// AccountStates reads every account with the state of its tokens.
func AccountStates(ctx context.Context, store AccountStore) ([]AccountState, error) {
	accounts, err := store.Accounts(ctx, "")
	if err != nil {
		return nil, err
	}
	states, err := store.TokenStates(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]core.TokenState, len(states))
	for _, st := range states {
		byName[st.Account] = st
	}
	needs, err := core.SecretsNeeded(ctx, store)
	if err != nil {
		return nil, err
	}
	out := make([]AccountState, len(accounts))
	for i, a := range accounts {
		st, ok := byName[a.Name]
		if !ok { // added between the two reads: no tokens yet
			st = core.TokenState{Account: a.Name, Profile: a.Profile, GrantType: a.GrantType}
		}
		out[i] = AccountState{Account: a, State: st, NeedsSecret: needs[a.Name]}
	}
	return out, nil
}

// Obtained is the toast after an account's tokens were obtained or
// refreshed: the account, done ("refreshed:"), and when they expire. An
// account that needs a person to log in gets the error with login, which
// says how.
func Obtained(account, done, login string, set core.TokenSet, err error, now time.Time) (string, error) {
	if errors.Is(err, tokens.ErrNeedsAuthorization) {
		return "", fmt.Errorf("%s needs a person to log in: %s (%w)", account, login, err)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s%s expires %s.", account, done, tui.Relative(set.Expiry, now)), nil
}

// NeedsAuth is the console's short word for core.StateNeedsAuthorization.
const NeedsAuth = "needs auth"

// TokenState says in one word how an account's tokens stand (as `oidcctl
// token list` says it: core.TokenState.Status), and the tone to show it in.
func TokenState(st core.TokenState, now time.Time) (string, tui.Tone) {
	word := st.Status(now)
	switch word {
	case core.StateNeedsAuthorization:
		// Short, to fit the state columns at 80 columns uncut.
		return NeedsAuth, tui.ToneWarning
	case core.StateExpired:
		return word, tui.ToneWarning
	case core.StateFailing, core.StateDamaged:
		return word, tui.ToneError
	case core.StateNone:
		return word, tui.ToneMuted
	}
	return word, tui.ToneSuccess
}
