package tokens

import (
	"context"
	"errors"
	"testing"
	"time"

	"oidcctl/core"
)

// The manager tells Config.Observe of every call to the provider, as it
// returns and before the new tokens are stored or handed out: the new
// tokens, the grant, and failures too. serve counts these calls for
// /metrics and redacts the tokens in its debugger; it used to do so by
// wrapping the Grants of a manager it had been handed.
func TestObserveHearsEveryCallBeforeTheTokensAreStored(t *testing.T) {
	e := newEnv(t)
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	ctx := context.Background()
	type seen struct {
		Event
		stored string // the access token in the store when Observe ran
	}
	var events []seen
	e.rebuild(func(c *Config) {
		c.Observe = func(ev Event) {
			st, err := e.store.TokenState(context.Background(), ev.Account)
			if err != nil {
				t.Error(err)
			}
			events = append(events, seen{ev, st.Tokens.AccessToken.Reveal()})
		}
	})
	first, err := e.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.m.Refresh(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	e.op.SlowTokenResponses(2 * time.Second)
	e.rebuild(func(c *Config) { c.RenewTimeout = 100 * time.Millisecond })
	_, failed := e.m.Refresh(ctx, "svc")
	if failed == nil {
		t.Fatal("the slow refresh did not fail")
	}

	if len(events) != 3 {
		t.Fatalf("%d events, want obtain, refresh, failed refresh: %+v", len(events), events)
	}
	want := []struct {
		grant    string
		tokens   core.TokenSet
		stored   string
		hasError bool
	}{
		{GrantObtain, first, "", false},
		{GrantRefresh, second, first.AccessToken.Reveal(), false},
		{GrantRefresh, core.TokenSet{}, second.AccessToken.Reveal(), true},
	}
	for i, w := range want {
		got := events[i]
		if got.Account != "svc" || got.Grant != w.grant || got.stored != w.stored ||
			got.Tokens.AccessToken.Reveal() != w.tokens.AccessToken.Reveal() || (got.Err != nil) != w.hasError {
			t.Errorf("event %d: %s %s, access token %.12q, stored then %.12q, err %v; want %s, %.12q, stored %.12q, error %v",
				i, got.Account, got.Grant, got.Tokens.AccessToken.Reveal(), got.stored, got.Err,
				w.grant, w.tokens.AccessToken.Reveal(), w.stored, w.hasError)
		}
	}
	if !errors.Is(events[2].Err, context.DeadlineExceeded) {
		t.Errorf("the failed refresh's error: %v", events[2].Err)
	}
}
