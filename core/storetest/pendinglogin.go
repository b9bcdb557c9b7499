package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
)

// testPendingLogins: a pending login reads back as written (its verifier
// opened, its times to the millisecond), one state is one login, only one
// of several concurrent updates moves it out of pending, expired ones are
// deleted, and removing the account removes its logins.
func testPendingLogins(t *testing.T, e *env) {
	e.profile(t, "op")
	e.account(t, "acc", "op")
	l := core.PendingLogin{
		State: "state-1", Account: "acc", RedirectURI: "https://oidcctl.example.org/callback",
		Verifier: core.NewSecret("verifier-secret"), Nonce: "nonce-1", Scopes: []string{"openid", "offline_access"},
		ExpiresAt: t0.Add(core.PendingLoginTTL),
	}
	must(t, e.Store.CreatePendingLogin(e.ctx, l))
	if err := e.Store.CreatePendingLogin(e.ctx, l); !isA[*core.ExistsError](err) {
		t.Fatalf("second login with one state: %v", err)
	}
	other := l
	other.State, other.Account = "state-2", "nope"
	if err := e.Store.CreatePendingLogin(e.ctx, other); !isA[*core.NotFoundError](err) {
		t.Fatalf("login of a missing account: %v", err)
	}
	if _, err := e.Store.PendingLogin(e.ctx, "state-x"); !isA[*core.NotFoundError](err) {
		t.Fatalf("unknown state: %v", err)
	}
	got, err := e.Store.PendingLogin(e.ctx, "state-1")
	must(t, err)
	if got.Account != "acc" || got.RedirectURI != l.RedirectURI || got.Verifier.Reveal() != "verifier-secret" ||
		got.Nonce != "nonce-1" || !slices.Equal(got.Scopes, l.Scopes) || got.Status != core.LoginPending ||
		!got.CreatedAt.Equal(ms(t0)) || !got.ExpiresAt.Equal(ms(l.ExpiresAt)) || !got.FinishedAt.IsZero() || got.Reason != "" {
		t.Fatalf("read back as %+v", got)
	}
	if other := e.Another(t); other != e.Store {
		got, err := other.PendingLogin(e.ctx, "state-1")
		must(t, err)
		if got.Verifier.Reveal() != "verifier-secret" {
			t.Fatal("another handle does not open the verifier")
		}
	}

	// Of several processes taking the login at once, one does.
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken int
	)
	errTaken := errors.New("taken")
	for range 8 {
		wg.Go(func() {
			_, err := e.Store.UpdatePendingLogin(e.ctx, "state-1", func(l *core.PendingLogin) error {
				if l.Status != core.LoginPending {
					return errTaken
				}
				l.Status = core.LoginExchanging
				return nil
			})
			if err == nil {
				mu.Lock()
				taken++
				mu.Unlock()
			} else if !errors.Is(err, errTaken) {
				t.Errorf("update: %v", err)
			}
		})
	}
	wg.Wait()
	if taken != 1 {
		t.Fatalf("%d updates took the login, want 1", taken)
	}
	// fn's error leaves it as it is; only status, reason and the finish
	// time are written.
	finished := t0.Add(time.Minute)
	upd, err := e.Store.UpdatePendingLogin(e.ctx, "state-1", func(l *core.PendingLogin) error {
		l.Status, l.Reason, l.FinishedAt = core.LoginFailed, "access_denied", finished
		l.Nonce, l.RedirectURI = "changed", "changed"
		return nil
	})
	must(t, err)
	if upd.Status != core.LoginFailed || upd.Reason != "access_denied" || !upd.FinishedAt.Equal(ms(finished)) {
		t.Fatalf("updated to %+v", upd)
	}
	got, err = e.Store.PendingLogin(e.ctx, "state-1")
	must(t, err)
	if got.Status != core.LoginFailed || got.Reason != "access_denied" || !got.FinishedAt.Equal(ms(finished)) ||
		got.Nonce != "nonce-1" || got.RedirectURI != l.RedirectURI {
		t.Fatalf("read back after the update as %+v", got)
	}
	if _, err := e.Store.UpdatePendingLogin(e.ctx, "state-x", func(*core.PendingLogin) error { return nil }); !isA[*core.NotFoundError](err) {
		t.Fatalf("update of an unknown state: %v", err)
	}

	// Expired ones go.
	later := l
	later.State, later.ExpiresAt = "state-3", t0.Add(time.Hour)
	must(t, e.Store.CreatePendingLogin(e.ctx, later))
	// The states of the logins not expired at a time, whatever their
	// status, sorted.
	for _, c := range []struct {
		at   time.Time
		want []string
	}{
		{t0, []string{"state-1", "state-3"}},
		{l.ExpiresAt, []string{"state-1", "state-3"}},
		{l.ExpiresAt.Add(time.Second), []string{"state-3"}},
		{t0.Add(2 * time.Hour), []string{}},
	} {
		states, err := e.Store.PendingLoginStates(e.ctx, c.at)
		must(t, err)
		if !slices.Equal(states, c.want) || states == nil {
			t.Fatalf("states at %v: %q, want %q", c.at.Sub(t0), states, c.want)
		}
	}
	n, err := e.Store.DeletePendingLogins(e.ctx, t0.Add(30*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d expired logins, want 1", n)
	}
	if _, err := e.Store.PendingLogin(e.ctx, "state-1"); !isA[*core.NotFoundError](err) {
		t.Fatalf("expired login after the delete: %v", err)
	}
	if _, err := e.Store.PendingLogin(e.ctx, "state-3"); err != nil {
		t.Fatalf("login not yet expired: %v", err)
	}

	// So do those of a removed account, also when one of that name comes
	// back.
	must(t, e.Store.DeleteAccount(e.ctx, "acc"))
	e.account(t, "acc", "op")
	if _, err := e.Store.PendingLogin(e.ctx, "state-3"); !isA[*core.NotFoundError](err) {
		t.Fatalf("login of a removed account: %v", err)
	}
	if states, err := e.Store.PendingLoginStates(e.ctx, t0); err != nil || len(states) != 0 {
		t.Fatalf("states after the account went: %q %v", states, err)
	}
}
