package profiles

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/tui"
)

// Key generation for profiles that authenticate by private_key_jwt, as
// `oidcctl profile keygen NAME` does: K (shift+k; k moves up) makes a new key (RS256; with a
// self-signed certificate for Entra, which registers certificates), seals
// it in the database as the key that signs from now on, keeps the older
// ones until `oidcctl profile keygen NAME --retire-old`, and shows the
// public keys (JWKS) to register at the provider, which c copies.

var (
	keygenKey = tui.Keys("K", "new client key", "K")
	copyJWKS  = tui.Keys("c", "copy public keys", "c")
)

// usesKeys reports whether the profile authenticates by a client key.
func usesKeys(p core.Profile) bool {
	return p.TokenAuthMethod == core.AuthPrivateKeyJWT || (p.TokenAuthMethod == "" && !p.ClientSecret.IsSet() && len(p.ClientKeys) > 0)
}

// keygenAction is K on a profile that authenticates by private_key_jwt.
func keygenAction(st tui.Styles, reg Registry, now func() time.Time) tui.Action[row] {
	return tui.Action[row]{Key: keygenKey, OnItem: true,
		Shown: func(r row) bool { return usesKeys(r.profile) },
		Check: func(r row) error {
			if !usesKeys(r.profile) {
				return fmt.Errorf("profile %s does not authenticate by private_key_jwt: press e and set its client authentication first", r.profile.Name)
			}
			return nil
		},
		Ask: func(r row) tui.Question {
			detail := "It signs the client assertions from now on; register its public key at the provider first."
			if n := len(r.profile.ClientKeys); n > 0 {
				detail = fmt.Sprintf("It signs the client assertions from now on; the %d older key(s) stay valid until "+
					"`oidcctl profile keygen %s --retire-old`, so register the new one at the provider before that.", n, r.profile.Name)
			}
			return tui.Question{Text: "Make a new client key for " + r.profile.Name + "?", Detail: detail, Yes: "Make key"}
		},
		Open: tui.Reread(name, reg.Profile, func(ctx context.Context, p core.Profile) (tui.Screen, error) {
			return newKey(ctx, st, reg, p, now())
		}),
	}
}

// newKey makes a key for p, stores it and returns the screen that shows
// the public keys.
func newKey(ctx context.Context, st tui.Styles, reg Registry, p core.Profile, now time.Time) (tui.Screen, error) {
	k, err := clientauth.Generate(core.KeyRS256, p.ClientID, p.Flavour == core.FlavourEntra, now)
	if err != nil {
		return nil, err
	}
	p, _, err = clientauth.StoreKey(ctx, reg.EditProfile, p.Name, k, clientauth.AddKey)
	if err != nil {
		return nil, fmt.Errorf("storing the new key of %s: %w", p.Name, err)
	}
	jwks, err := clientauth.PublicJWKS(p.ClientKeys)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Key %s (%s) created for profile %s; it signs the client assertions from now on.\n", k.ID, k.Algorithm, p.Name)
	if n := len(p.ClientKeys) - 1; n > 0 {
		fmt.Fprintf(&b, "%d older key(s) kept until `oidcctl profile keygen %s --retire-old`, once the new key is registered.\n", n, p.Name)
	}
	fmt.Fprintf(&b, "\nPublic keys (JWKS) to register at the provider (c copies them):\n%s\n", jwks)
	if k.Certificate != "" {
		fmt.Fprintf(&b, "\nSelf-signed certificate of the new key (Entra registers it):\n%s", k.Certificate)
	}
	text := b.String()
	page := tui.NewPage(st, "Key of "+p.Name, func(width int) string {
		return tui.Fit(strings.Split(strings.TrimRight(text, "\n"), "\n"), width, true)
	})
	return &keyScreen{Page: page, jwks: string(jwks)}, nil
}

// keyScreen shows a new key's public keys; c copies the JWKS by OSC 52.
type keyScreen struct {
	*tui.Page
	jwks string
}

func (s *keyScreen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, copyJWKS) {
		return s, tea.Batch(tui.Copy(s.jwks), tui.Toast("Public keys copied to your terminal's clipboard (OSC 52), where it supports that."))
	}
	s.Page.Update(msg)
	return s, nil
}

func (s *keyScreen) KeyMap() help.KeyMap {
	km, ok := s.Page.KeyMap().(tui.KeyMap)
	if !ok {
		return s.Page.KeyMap()
	}
	km.Short = append([]key.Binding{copyJWKS}, km.Short...)
	return km
}
