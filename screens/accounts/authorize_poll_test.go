package accounts_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"oidcctl/screens/accounts"
)

// The console's device login survives a failed poll: the provider's token
// endpoint answers the first poll with 502 (a proxy while the provider
// restarts), the screen says so ("poll failed, retrying"), the login goes
// on and ends authorized once the code is entered.
func TestAuthorizeDeviceFlowSurvivesAFailedPoll(t *testing.T) {
	prov, e := loginSetup(t)
	var polls atomic.Int32
	prov.SetTokenMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if polls.Add(1) == 1 {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<h1>502 Bad Gateway</h1>"))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	term, _ := e.Open(t, accounts.New(e.Deps), "support", "authorization_code")
	term.Type("o")
	term.WaitFor("and enter the code", "Waiting for the code to be entered…")
	// The warning shows before the code is entered; the frame it is in
	// still shows the code.
	f := term.WaitFor("! poll failed, retrying in", "(1 of 3 failed in a row)", "502", "Waiting for the code to be entered…")
	approveShownCode(t, prov, f)
	term.WaitFor("✓ support is authorized: access token and refresh token stored")
	authorized(t, e)
	if n := polls.Load(); n < 2 {
		t.Errorf("%d polls, want the failed one and another", n)
	}
}
