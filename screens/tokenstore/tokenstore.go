// Package tokenstore is the console's token store screen: every account
// with the state of its tokens, a live expiry countdown, when its refresh
// token expires, the last refresh and the last error; refreshing now,
// revoking (at the provider, then forgetting the tokens) and copying a
// token to the terminal's clipboard after a warning.
package tokenstore

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oidcctl/core"
	"oidcctl/core/tokens"
	"oidcctl/screens"
	"oidcctl/tui"
)

// ReloadEvery is how often the screen reads the store again while shown,
// so that refreshes by serve or the scheduler appear.
const ReloadEvery = 5 * time.Second

// Store is what the screen reads of core: the accounts (for the token
// type each hands out) and their token states.
type Store = screens.AccountStore

// Tokens refreshes and revokes an account's tokens.
type Tokens interface {
	Refresh(ctx context.Context, account string) (core.TokenSet, error)
	Revoke(ctx context.Context, account string) (tokens.Revoked, error)
}

// Screen is the token store.
type Screen = tui.List[string, item]

// item is an account's token state, with the token type it hands out.
type item struct {
	core.TokenState
	kind core.TokenType
	// needsSecret says how to give a missing secret; see
	// screens.AccountState.
	needsSecret string
	// hint is how to give it in the console.
	hint string
}

var keys = struct{ Refresh, Revoke, Copy key.Binding }{
	// r reloads the list, as everywhere; f goes to the provider.
	Refresh: tui.Keys("f", "refresh token", "f"),
	Revoke:  tui.Keys("x", "revoke", "x"),
	Copy:    tui.Keys("c", "copy token", "c"),
}

// New returns the token store screen.
func New(d screens.Deps) *Screen { return NewWith(d.Styles, d.Registry.Store, d.Tokens, d.Clockf()) }

// NewWith returns the token store screen on store and tokens; now is the
// clock of the countdown.
func NewWith(st tui.Styles, store Store, m Tokens, now func() time.Time) *Screen {
	return tui.NewList(st, tui.ListConfig[string, item]{
		Title: "Tokens",
		Short: "Tok",
		Noun:  "the token store",
		Columns: []tui.Column{
			{Title: "ACCOUNT", Width: 11, Flex: 2},
			{Title: "STATE", Width: 10},
			{Title: "EXPIRES", Width: 11},
			{Title: "REFRESH EXP", Width: 11},
			{Title: "LAST REFRESH", Width: 12},
			{Title: "LAST ERROR", Width: 6, Flex: 3},
		},
		Empty:      "No functional account yet: add one in Accounts.",
		Key:        func(it item) string { return it.Account },
		Row:        func(it item) tui.Row { return row(it, now()) },
		Load:       func(ctx context.Context) ([]item, error) { return load(ctx, store) },
		Detail:     func(it item, width int) string { return detail(st, it, now(), width, 2) },
		DetailRows: 5,
		// The countdown moves every second without reading the store.
		Tick:        time.Second,
		ReloadTicks: int(ReloadEvery / time.Second),
		Actions: []tui.Action[item]{
			{Key: keys.Refresh, OnItem: true, Busy: func(it item) string { return "Refreshing " + it.Account + "…" },
				Run: func(ctx context.Context, it item) (string, error) {
					// As `oidcctl token refresh`.
					set, err := m.Refresh(ctx, it.Account)
					return screens.Obtained(it.Account, " refreshed:", "press o on it in Accounts", set, err, now())
				}},
			{Key: keys.Revoke, OnItem: true,
				Check: func(it item) error {
					if !it.Tokens.AccessToken.IsSet() && !it.Tokens.RefreshToken.IsSet() && it.Damaged == nil {
						return fmt.Errorf("%s has no tokens to revoke", it.Account)
					}
					return nil
				},
				Ask: func(it item) tui.Question {
					detail := "The refresh and access tokens are revoked at the provider (RFC 7009), then forgotten here."
					if it.GrantType == core.GrantAuthorizationCode {
						detail += " The account then needs a new login."
					}
					return tui.Question{Text: "Revoke the tokens of " + it.Account + "?", Detail: detail, Yes: "Revoke"}
				},
				Busy: func(it item) string { return "Revoking the tokens of " + it.Account + "…" },
				Run:  func(ctx context.Context, it item) (string, error) { return revoke(ctx, m, it.Account) }},
			{Key: keys.Copy, OnItem: true,
				Check: func(it item) error {
					if !it.Tokens.Token(it.kind).IsSet() {
						return fmt.Errorf("%s has no %s to copy: press f to get one", it.Account, it.kind)
					}
					return nil
				},
				Ask: func(it item) tui.Question {
					life := "until it expires " + tui.Relative(it.Tokens.Expiry, now())
					if it.Tokens.Expiry.IsZero() {
						life = "for as long as the provider accepts it"
					}
					return tui.Question{Text: fmt.Sprintf("Copy the %s of %s to the clipboard?", it.kind, it.Account),
						Detail: "It is a live credential: whoever reads your clipboard can call APIs as " + it.Account + " " + life +
							". It goes to your terminal by OSC 52, also over SSH. Clear the clipboard when done.", Yes: "Copy"}
				},
				Do: func(it item) tea.Cmd {
					return tea.Batch(tui.Copy(it.Tokens.Token(it.kind).Reveal()),
						tui.Toast(fmt.Sprintf("The %s of %s is on your clipboard. Clear it when done.", it.kind, it.Account)))
				}},
			// The whole of what the detail pane cuts, such as a long error.
			tui.DetailsAction(st, func(it item) string { return it.Account }, func(it item, width int, wrap bool) string {
				return detail(st, it, now(), width, 0)
			}),
			tui.ReloadAction[item](),
		},
	})
}

func load(ctx context.Context, store Store) ([]item, error) {
	accounts, err := screens.AccountStates(ctx, store)
	if err != nil {
		return nil, err
	}
	items := make([]item, len(accounts))
	for i, a := range accounts {
		items[i] = item{TokenState: a.State, kind: cmp.Or(a.TokenType, core.TokenAccess), needsSecret: a.NeedsSecret, hint: a.SecretHint()}
	}
	return items, nil
}

// revoke revokes the refresh token, then the access token, at the
// provider's revocation endpoint, and forgets them, as `oidcctl token
// revoke` does. A provider without revocation only gets them forgotten.
func revoke(ctx context.Context, m Tokens, name string) (string, error) {
	r, err := m.Revoke(ctx, name)
	if err != nil {
		return "", err
	}
	if r.Unsupported {
		return fmt.Sprintf("The provider offers no revocation: the tokens of %s are only forgotten here.", name), nil
	}
	note := fmt.Sprintf("Tokens of %s revoked (%d at the provider) and forgotten.", name, r.AtProvider)
	if len(r.NotRevocable) > 0 {
		note += fmt.Sprintf(" The provider does not revoke the %s: it stays valid there until it expires.", strings.Join(r.NotRevocable, " or "))
	}
	return note, nil
}

// row shows an account's tokens at the clock's now: the countdown moves
// on every tick without reading the store.
func row(it item, now time.Time) tui.Row {
	st := it.TokenState
	word, tone := screens.AccountState{State: st, NeedsSecret: it.needsSecret}.Word(now)
	exp, expTone := "-", tui.ToneNormal
	if st.Tokens.AccessToken.IsSet() {
		exp = tui.Relative(st.Tokens.Expiry, now)
		if st.Tokens.Expiry.IsZero() {
			exp = "unknown"
		}
		if !st.Tokens.Expiry.IsZero() && st.Tokens.Expiry.Sub(now) < 2*time.Minute {
			expTone = tui.ToneWarning
		}
	}
	refresh := tui.Relative(st.Tokens.RefreshExpiry, now)
	if st.Tokens.RefreshToken.IsSet() && st.Tokens.RefreshExpiry.IsZero() {
		refresh = "unknown"
	} else if !st.Tokens.RefreshToken.IsSet() {
		refresh = "-"
	}
	lastErr := st.LastError
	if st.Damaged != nil {
		lastErr = "stored tokens cannot be opened"
	}
	return tui.Row{
		Cells: []string{st.Account, word, exp, refresh, tui.Relative(st.LastSuccess, now), cmp.Or(lastErr, "-")},
		Tones: []tui.Tone{tui.TonePrimary, tone, expTone, 0, tui.ToneMuted, errTone(lastErr)},
	}
}

func errTone(e string) tui.Tone {
	if e != "" {
		return tui.ToneError
	}
	return tui.ToneMuted
}

// detail describes an account's tokens for width columns, with at most
// errRows rows of its error and every line cut to the width; errRows 0
// gives all of it, wrapped (the page that enter opens).
func detail(sty tui.Styles, it item, now time.Time, width, errRows int) string {
	st := it.TokenState
	label := sty.Muted.Render
	held := []string{}
	for _, t := range []struct {
		name string
		set  bool
	}{{"access", st.Tokens.AccessToken.IsSet()}, {"refresh", st.Tokens.RefreshToken.IsSet()}, {"id", st.Tokens.IDToken.IsSet()}} {
		if t.set {
			held = append(held, t.name)
		}
	}
	tokens := "none"
	if len(held) > 0 {
		tokens = strings.Join(held, ", ") + " · scope " + cmp.Or(st.Tokens.Scope, "-")
	}
	lines := []string{
		label("account  ") + st.Account + label(" · profile ") + st.Profile + label(" · ") + string(st.GrantType),
		label("tokens   ") + tokens,
		label("expires  ") + tui.Stamp(st.Tokens.Expiry) + label(" · last refresh ") + tui.Stamp(st.LastSuccess),
	}
	switch {
	case it.needsSecret != "":
		lines = append(lines, errorLines(sty, width, errRows, core.StateNeedsSecret, strings.Replace(it.hint, "press e to", "press e on the account in Accounts to", 1))...)
	case st.NeedsAuthorization:
		lines = append(lines, sty.Warning.Render("needs a login: press o on the account in Accounts"))
	case st.Damaged != nil:
		fix := "press f to obtain new tokens"
		if st.GrantType == core.GrantAuthorizationCode {
			fix = "press o on the account in Accounts to log in again"
		}
		lines = append(lines, errorLines(sty, width, errRows, "damaged ("+fix+")", st.Damaged.Error())...)
	case st.LastError != "":
		head := "error"
		if !st.NextAttempt.IsZero() {
			head = fmt.Sprintf("error (%s, next try %s)", plural(st.Failures, "failure"), tui.Relative(st.NextAttempt, now))
		}
		lines = append(lines, errorLines(sty, width, errRows, head, st.LastError)...)
	default:
		lines = append(lines, label("no error"))
	}
	return tui.Fit(lines, width, errRows == 0)
}

// errorLines renders head: msg as two rows at most: the rest is in
// `oidcctl token list -o json`.
func errorLines(sty tui.Styles, width, rows int, head, msg string) []string {
	// The provider wrote part of the error: escaped.
	wrapped := tui.Wrap(head+": "+tui.EscapeText(msg), width)
	if rows > 0 && len(wrapped) > rows {
		// The rest is on the page that enter opens.
		wrapped = append(wrapped[:rows-1], tui.Truncate(strings.TrimSpace(strings.Join(wrapped[rows-1:], " ")), width-1)+"…")
	}
	lines := make([]string, len(wrapped))
	for i, l := range wrapped {
		lines[i] = sty.Error.Render(strings.TrimRight(l, " "))
	}
	return lines
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
