package login_test

import (
	"strings"
	"testing"

	"oidcctl/core/grant"
	"oidcctl/core/login"
)

// serveRedirect makes support's redirect URI an https one, answered by
// serve.
func (e *env) serveRedirect() {
	a := e.store.accounts["support"]
	a.RedirectURI = "https://oidcctl.example.org/callback"
	e.store.accounts["support"] = a
}

// TestRunServeRedirectDevice: an account whose browser logins return to
// serve can still log in with the device flow, which needs no redirect,
// and needs no pending login for it.
func TestRunServeRedirectDevice(t *testing.T) {
	e := setup(t)
	e.serveRedirect()
	pr := &prompter{}
	pr.on = func(ev login.Event) {
		if d, ok := ev.(login.ShowDeviceCode); ok {
			if err := e.op.ApproveDevice(d.UserCode, e.op.Username()); err != nil {
				t.Error(err)
			}
		}
	}
	set, err := e.r.Run(ctxT(t), "support", login.Options{Method: grant.MethodDevice}, pr)
	e.loggedIn(t, set, err)
	if got, want := pr.kinds(), "ShowDeviceCode Waiting(device) Done"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// TestRunServeRedirectNeedsPendingLogins: a login through serve on a
// store that keeps no pending logins is refused before any URL is shown,
// saying why, rather than showing a URL that serve could never complete.
func TestRunServeRedirectNeedsPendingLogins(t *testing.T) {
	e := setup(t)
	e.serveRedirect()
	pr := &prompter{}
	_, err := e.r.Run(ctxT(t), "support", login.Options{}, pr)
	if err == nil || !strings.Contains(err.Error(), "pending logins") {
		t.Fatalf("err = %v, want one saying the store keeps no pending logins", err)
	}
	if got, want := pr.kinds(), "Done"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}
