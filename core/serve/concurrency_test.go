package serve_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"oidcctl/core"
)

// Many callers at once, of every kind, while the configuration changes
// under them: every answer is the right one (run with -race).
func TestConcurrentCallsDuringReloads(t *testing.T) {
	h := start(t)
	good := h.serviceToken("openid")
	bad := tamper(good)
	up := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Header.Get("X-Auth-User")))
	})
	h.addWebservice(provider("tickets", "/GetTicket/:ID", up.url, "GET"))
	h.addWebservice(requester("out", "billing", up.url, "/", "POST"))
	sock := unixClient(h.sock)

	stop := make(chan struct{})
	var reloads atomic.Int32
	var churn sync.WaitGroup
	churn.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w := provider(fmt.Sprintf("churn%d", i%5), "/", up.url, "GET")
			ctx := context.Background()
			_ = h.store.DeleteWebservice(ctx, w.Name)
			must(t, h.store.CreateWebservice(ctx, w))
			must(t, h.srv.Reload(ctx))
			reloads.Add(1)
		}
	})

	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	check := func(what string, got, want int) {
		if got != want {
			errs <- fmt.Sprintf("%s: %d, want %d", what, got, want)
		}
	}
	for g := range 16 {
		wg.Go(func() {
			for i := range 25 {
				switch (g + i) % 5 {
				case 0:
					check("forward-auth accepted", h.do("GET", "/auth", good, nil).status, 200)
				case 1:
					check("forward-auth refused", h.do("GET", "/auth", bad, nil).status, 401)
				case 2:
					r := h.do("GET", fmt.Sprintf("/ws/tickets/GetTicket/%d", i), good, nil)
					check("provider", r.status, 200)
					if r.body != "sid1" {
						errs <- "provider user " + r.body
					}
				case 3:
					check("requester", h.do("POST", "/invoke/out", "", strings.NewReader("x")).status, 200)
				case 4:
					status, _ := get(t, sock, "http://x/token/billing")
					check("token socket", status, 200)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	churn.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if reloads.Load() == 0 {
		t.Fatal("no reload happened during the calls")
	}
	// Only one token was obtained for all those calls.
	n := 0
	for _, r := range h.op.TokenRequests() {
		if r.Get("grant_type") == "client_credentials" && r.Get("scope") == "" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d tokens obtained for the account, want 1: %v\n%s", n, h.op.TokenRequests(), h.logs.String())
	}
	if es := h.entries("tickets"); len(es) != 80 {
		t.Fatalf("%d debugger entries of tickets, want 80", len(es))
	}
	_ = core.Provider
}
