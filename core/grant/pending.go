package grant

import (
	"net/http"
	"slices"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// Logins through serve: the process that starts the login (StartAuthCode
// with an https redirect URI) keeps the flow in the store as a
// core.PendingLogin, and the serve that the browser returns to rebuilds
// it (ResumeAuthCode) and completes it with Exchange, which checks the
// state, its expiry, iss, PKCE and the nonce as for a loopback login.

// Pending returns what the store keeps of the flow for a serve to
// complete it: state, redirect URI, PKCE verifier, nonce and scopes, in
// status core.LoginPending, expiring when the flow's state does.
func (f *AuthCodeFlow) Pending() core.PendingLogin {
	return core.PendingLogin{
		State:       f.State,
		Account:     f.a.Name,
		RedirectURI: f.RedirectURI,
		Verifier:    core.NewSecret(f.verifier),
		Nonce:       f.nonce,
		Scopes:      slices.Clone(f.scopes),
		ExpiresAt:   f.Expires,
		Status:      core.LoginPending,
	}
}

// ResumeAuthCode rebuilds the flow of a pending login, for the serve that
// the browser returns to: its Exchange then completes the login as the
// process that started it would have. The login's status is the store's
// business: the flow is unused whatever it says.
func (c *Client) ResumeAuthCode(p core.Profile, d *discovery.Document, a core.Account, l core.PendingLogin) *AuthCodeFlow {
	return &AuthCodeFlow{
		RedirectURI: l.RedirectURI,
		State:       l.State,
		Expires:     l.ExpiresAt,
		c:           c, p: p, d: d, a: a,
		scopes:   slices.Clone(l.Scopes),
		verifier: l.Verifier.Reveal(),
		nonce:    l.Nonce,
	}
}

// WritePage answers a browser with the short page that the loopback
// callback shows (title and text, escaped), for the serve that completes
// a login.
func WritePage(w http.ResponseWriter, status int, title, text string) {
	writePage(w, page{status: status, title: title, text: text})
}
