// Package accounts is the console's functional account screen: the list of
// accounts with their grant and token state; adding and editing them in a
// form whose Advanced page (resources, resource parameter name, token
// type) shows only when asked for; getting a token now; and, for
// authorization_code accounts, the login (browser, device code, or a URL
// for a browser elsewhere).
package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"

	"oidcctl/core"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Registry is what the screen needs of core: the accounts with their
// token states, to list, read, add, change and delete, and the profiles
// an account may use.
type Registry interface {
	core.AccountStore // reads and deletes; adding and editing validate:
	AddAccount(ctx context.Context, a core.Account) error
	EditAccount(ctx context.Context, name string, fn func(*core.Account) error) (core.Account, error)
	TokenStates(ctx context.Context) ([]core.TokenState, error)
	Profiles(ctx context.Context) ([]core.Profile, error)
}

// Tokens hands out an account's tokens, obtaining them when needed.
type Tokens interface {
	Token(ctx context.Context, account string) (core.TokenSet, error)
}

// Screen is the list of accounts.
type Screen = tui.List[string, item]

// item is an account in the list, with the state of its tokens.
type item = screens.AccountState

var keys = struct{ Token, Authorize key.Binding }{
	// f, as in Tokens: g goes to the top of the list.
	Token:     tui.Keys("f", "fetch token", "f"),
	Authorize: tui.Keys("o", "authorize (log in)", "o"),
}

// New returns the accounts screen.
func New(d screens.Deps) *Screen { return newScreen(d, d.Registry, d.Tokens) }

// newScreen returns the accounts screen on reg and tokens; d serves the
// login.
func newScreen(d screens.Deps, reg Registry, tokens Tokens) *Screen {
	st, now := d.Styles, d.Clockf()
	return tui.NewList(st, tui.ListConfig[string, item]{
		Title: "Accounts",
		Short: "Acct",
		Noun:  "accounts",
		Columns: []tui.Column{
			{Title: "NAME", Width: 12, Flex: 2},
			{Title: "PROFILE", Width: 10, Flex: 1},
			{Title: "GRANT", Width: 18},
			{Title: "SCOPES", Width: 8, Flex: 2},
			{Title: "TOKEN", Width: 10},
		},
		Empty: "No functional account yet: press a to add one.",
		Key:   name,
		Row: func(a item) tui.Row {
			word, tone := a.Word(now())
			return tui.Row{
				Cells: []string{a.Name, a.Profile, string(a.GrantType), strings.Join(a.Scopes, " "), word},
				Tones: []tui.Tone{tui.TonePrimary, 0, tui.ToneMuted, 0, tone},
			}
		},
		Load:       func(ctx context.Context) ([]item, error) { return screens.AccountStates(ctx, reg) },
		Detail:     func(a item, width int) string { return detail(st, a, now(), width, false) },
		DetailRows: 3,
		Actions: []tui.Action[item]{
			{Key: tui.ListKeys.Add, Open: func(ctx context.Context, _ item) (tui.Screen, error) {
				profiles, err := profileNames(ctx, reg)
				if err != nil {
					return nil, err
				}
				if len(profiles) == 0 {
					return nil, errors.New("an account obtains tokens from a profile: add a profile first (Profiles tab, a)")
				}
				return addForm(st, reg, profiles, ""), nil
			}},
			{Key: tui.ListKeys.Edit, OnItem: true, Open: tui.Reread(name, reg.Account, func(ctx context.Context, a core.Account) (tui.Screen, error) {
				profiles, err := profileNames(ctx, reg)
				if err != nil {
					return nil, err
				}
				return editForm(st, reg, profiles, a), nil
			})},
			{Key: keys.Token, OnItem: true, Busy: func(a item) string { return "Getting a token for " + a.Name + "…" },
				Run: func(ctx context.Context, a item) (string, error) {
					// As `oidcctl token get`: the stored token while valid,
					// else refreshed or obtained.
					set, err := tokens.Token(ctx, a.Name)
					return screens.Obtained(a.Name, ": token obtained,", "press o to authorize it", set, err, now())
				}},
			{Key: keys.Authorize, OnItem: true, Shown: func(a item) bool { return a.GrantType == core.GrantAuthorizationCode },
				Check: func(a item) error {
					if a.GrantType != core.GrantAuthorizationCode {
						return fmt.Errorf("account %s uses the %s grant, which needs no login: press f to get a token", a.Name, a.GrantType)
					}
					return nil
				},
				Open: tui.Reread(name, reg.Account, func(_ context.Context, a core.Account) (tui.Screen, error) {
					return newAuthScreen(d, a), nil
				})},
			tui.DeleteAction("account", name, func(item) string {
				return "Its tokens are forgotten here (not revoked: use the token store's revoke first)."
			}, reg.DeleteAccount),
			tui.DetailsAction(st, name, func(a item, width int, wrap bool) string { return detail(st, a, now(), width, wrap) }),
			tui.ReloadAction[item](),
		},
	})
}

func name(a item) string { return a.Name }

func profileNames(ctx context.Context, reg Registry) ([]string, error) {
	ps, err := reg.Profiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading profiles: %w", err)
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names, nil
}

// detail describes the selected account: under the table, cut to its
// rows, or whole and wrapped (with what the columns show) on the page that
// enter opens.
func detail(sty tui.Styles, a item, now time.Time, width int, wrap bool) string {
	label := sty.Muted.Render
	st := a.State
	who := ""
	if a.GrantType == core.GrantPassword {
		who = " · user " + a.Username
	}
	res := "-"
	if len(a.Resources) > 0 {
		res = strings.Join(a.Resources, " ") + " (as " + a.ResourceParam + ")"
	}
	tok := "no token yet"
	switch {
	case st.Tokens.AccessToken.IsSet():
		tok = "expires " + tui.Relative(st.Tokens.Expiry, now)
		if st.Tokens.RefreshToken.IsSet() {
			tok += " · refresh token held"
		}
	case a.GrantType == core.GrantAuthorizationCode:
		tok = "no token yet: press o to authorize"
	}
	if st.LastError != "" {
		tok = sty.Error.Render("last error: " + st.LastError)
	}
	if a.NeedsSecret != "" {
		tok = sty.Warning.Render(a.SecretHint())
	}
	var lines []string
	if wrap {
		word, _ := screens.TokenState(st, now)
		lines = append(lines,
			label("account    ")+a.Name+label(" · profile ")+a.Profile+label(" · ")+string(a.GrantType)+label(" · ")+word,
			label("scopes     ")+cmp.Or(strings.Join(a.Scopes, " "), "-"))
	}
	lines = append(lines,
		label("hands out  ")+string(a.TokenType)+who,
		label("resources  ")+res,
		label("token      ")+tok)
	return tui.Fit(lines, width, wrap)
}
