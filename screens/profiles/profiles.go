// Package profiles is the console's profile screen: the list of OIDC
// provider profiles with their issuer, client id, accounts and discovery
// state; adding (prefilled from another profile, never its secret) and
// editing them in a form; testing discovery and the JWKS; deleting them,
// which core refuses while accounts use the profile.
package profiles

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"oidcctl/core"
	"oidcctl/screens"
	"oidcctl/tui"
)

// Registry is what the screen needs of core: the profiles, to list, read,
// add, change and delete, the accounts that use them and their cached
// discovery documents.
type Registry interface {
	core.ProfileStore // reads and deletes; adding and editing validate:
	AddProfile(ctx context.Context, p core.Profile) error
	EditProfile(ctx context.Context, name string, fn func(*core.Profile) error) (core.Profile, error)
	Accounts(ctx context.Context, profile string) ([]core.Account, error)
	CachedDiscovery(ctx context.Context, profile string) (core.CachedDocument, error)
}

// Screen is the list of profiles.
type Screen = tui.List[string, row]

// row is what the list knows of one profile.
type row struct {
	profile  core.Profile
	accounts []string
	issuer   string
	fetched  time.Time // of the cached document; zero when none
}

type testResult struct {
	at  time.Time
	err error
}

var testKey = tui.Keys("t", "test", "t")

// New returns the profiles screen.
func New(d screens.Deps) *Screen { return NewWith(d.Styles, d.Registry, d.Discovery, d.Clockf()) }

// NewWith returns the profiles screen on reg, testing with disc; now is
// the clock.
func NewWith(st tui.Styles, reg Registry, disc Discovery, now func() time.Time) *Screen {
	// tested keeps the last test of each profile in this session: a
	// failed test leaves no trace in the discovery cache.
	tested := map[string]testResult{}
	del := tui.DeleteAction("profile", name, func(r row) string {
		if len(r.accounts) > 0 {
			return fmt.Sprintf("It is used by %s: oidcctl will refuse until they are removed or moved.", strings.Join(r.accounts, ", "))
		}
		return "Its cached discovery document goes with it."
	}, reg.DeleteProfile)
	del.Done = func(r row) { delete(tested, r.profile.Name) }
	return tui.NewList(st, tui.ListConfig[string, row]{
		Title: "Profiles",
		Short: "Prof",
		Noun:  "profiles",
		Columns: []tui.Column{
			{Title: "NAME", Width: 12, Flex: 1},
			{Title: "ISSUER", Width: 16, Flex: 3},
			{Title: "CLIENT ID", Width: 12, Flex: 1},
			{Title: "ACCTS", Width: 5},
			{Title: "DISCOVERY", Width: 15},
		},
		Empty: "No profile yet: press a to add one.",
		Key:   name,
		Row: func(r row) tui.Row {
			state, tone := discoveryState(tested[r.profile.Name], r, now())
			if r.profile.NeedsSecret() {
				// Imported without its secret: unusable until it is given.
				state, tone = screens.NoSecret, tui.ToneWarning
			}
			return tui.Row{
				Cells: []string{r.profile.Name, cmp.Or(r.issuer, "-"), r.profile.ClientID, fmt.Sprint(len(r.accounts)), state},
				Tones: []tui.Tone{tui.TonePrimary, tui.ToneNormal, tui.ToneNormal, tui.ToneNormal, tone},
			}
		},
		Load:       func(ctx context.Context) ([]row, error) { return loadRows(ctx, reg) },
		Detail:     func(r row, width int) string { return detail(st, r, width, false) },
		DetailRows: 4,
		Actions: []tui.Action[row]{
			{Key: tui.ListKeys.Add, Open: func(ctx context.Context, _ row) (tui.Screen, error) {
				profiles, err := reg.Profiles(ctx)
				if err != nil {
					return nil, fmt.Errorf("reading profiles: %w", err)
				}
				if len(profiles) == 0 {
					return addForm(st, reg, newValues(nil)), nil
				}
				return newChooser(st, reg, profiles), nil
			}},
			{Key: tui.ListKeys.Edit, OnItem: true, Open: tui.Reread(name, reg.Profile, func(_ context.Context, p core.Profile) (tui.Screen, error) {
				return editForm(st, reg, p), nil
			})},
			{Key: testKey, OnItem: true, Open: tui.Reread(name, reg.Profile, func(_ context.Context, p core.Profile) (tui.Screen, error) {
				// record runs in the test screen's Update, as the list's.
				return newTestScreen(st, disc, now, p, func(t testResult) { tested[p.Name] = t }), nil
			})},
			keygenAction(st, reg, now),
			del,
			tui.DetailsAction(st, name, func(r row, width int, wrap bool) string { return detail(st, r, width, wrap) }),
			{Key: tui.ListKeys.Reload, Reload: true},
		},
	})
}

func name(r row) string { return r.profile.Name }

// loadRows reads the profiles, who uses them and their cached discovery
// documents.
func loadRows(ctx context.Context, store Registry) ([]row, error) {
	profiles, err := store.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	accounts, err := store.Accounts(ctx, "")
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, a := range accounts {
		users[a.Profile] = append(users[a.Profile], a.Name)
	}
	rows := make([]row, len(profiles))
	for i, p := range profiles {
		rows[i] = row{profile: p, accounts: users[p.Name]}
		doc, err := store.CachedDiscovery(ctx, p.Name)
		switch {
		case errors.Is(err, core.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		if doc.URL != p.DiscoveryURL {
			continue // cached for an older URL: as good as none
		}
		var d struct {
			Issuer string `json:"issuer"`
		}
		if json.Unmarshal(doc.Body, &d) == nil {
			rows[i].issuer = d.Issuer
		}
		rows[i].fetched = doc.FetchedAt
	}
	return rows, nil
}

// discoveryState says whether the profile's discovery document is known
// and fresh.
func discoveryState(t testResult, r row, now time.Time) (string, tui.Tone) {
	if t.err != nil && !t.at.Before(r.fetched) {
		return "test failed", tui.ToneError
	}
	if r.fetched.IsZero() {
		return "not fetched", tui.ToneMuted
	}
	age := now.Sub(r.fetched)
	if age < r.profile.DiscoveryTTL {
		return "ok " + tui.Age(age), tui.ToneSuccess
	}
	return "stale " + tui.Age(age), tui.ToneWarning
}

// detail describes the selected profile: under the table, cut to its
// rows, or whole and wrapped (with what the columns show) on the page that
// enter opens.
func detail(st tui.Styles, r row, width int, wrap bool) string {
	p := r.profile
	label := st.Muted.Render
	secret := "no secret (public client)"
	switch {
	case p.TokenAuthMethod != "" && p.TokenAuthMethod != core.AuthSecretBasic && p.TokenAuthMethod != core.AuthSecretPost:
		secret = p.TokenAuthMethod
	case p.ClientSecret.IsSet():
		secret = "secret set"
	case len(p.ClientKeys) > 0:
		secret = core.AuthPrivateKeyJWT
	}
	if p.TokenAuthMethod == core.AuthPrivateKeyJWT || (p.TokenAuthMethod == "" && !p.ClientSecret.IsSet() && len(p.ClientKeys) > 0) {
		secret += fmt.Sprintf(" (%d key(s))", len(p.ClientKeys))
	}
	if p.NeedsSecret() {
		secret = st.Warning.Render(strings.ReplaceAll(strings.Join(p.MissingSecrets, ", "), "_", " ") + " missing: press e to give it")
	}
	tls := "system CAs"
	switch {
	case p.TLS.SkipVerifyPeer:
		tls = st.Error.Render("certificate NOT verified (tests only)")
	case p.TLS.SkipVerifyHostname:
		tls = st.Warning.Render("host name not verified")
	case p.TLS.CAFile != "" || p.TLS.CADir != "":
		tls = "extra CAs"
	}
	if p.TLS.ClientCert != "" {
		tls += ", client certificate"
	}
	accounts := "none"
	if len(r.accounts) > 0 {
		accounts = strings.Join(r.accounts, ", ")
	}
	var lines []string
	if wrap {
		lines = append(lines,
			label("profile  ")+p.Name+label(" · issuer ")+cmp.Or(r.issuer, "- (discovery not fetched)"),
			label("created  ")+tui.Stamp(p.CreatedAt)+label(" · changed ")+tui.Stamp(p.UpdatedAt))
	}
	lines = append(lines,
		label("URL      ")+p.DiscoveryURL,
		label("client   ")+p.ClientID+" · "+secret+" · "+string(p.Flavour)+" · scopes: "+cmp.Or(strings.Join(p.Scopes, " "), "-"),
		label("TLS      ")+tls+label(" · UID claim ")+p.UIDClaim,
		label("accounts ")+accounts)
	return tui.Fit(lines, width, wrap)
}
