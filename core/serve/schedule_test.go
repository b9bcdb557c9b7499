package serve_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"oidcctl/core/serve"
	"oidcctl/core/tokens"
	"oidcctl/internal/testkit"
)

// A schedule changed while serve runs takes effect within the reload
// interval. Before, the scheduler slept until the old schedule's next run:
// here the first of January.
func TestScheduleChangeTakesEffectWithinReload(t *testing.T) {
	ctx := context.Background()
	h := startWith(t, func(h *harness) {
		must(t, h.store.SetSetting(ctx, tokens.SettingSchedule, "0 0 1 1 *"))
	}, func(c *serveConfig) { c.NoScheduler = false })
	var first string
	testkit.Eventually(t, 10*time.Second, "the first run", func() bool {
		st, err := h.store.TokenState(ctx, "billing")
		if err != nil || !st.Tokens.AccessToken.IsSet() {
			return false
		}
		first = st.Tokens.AccessToken.Reveal()
		return true
	})
	// Three of the token's five minutes pass: due at any run now, but
	// the next run of the old schedule is months away.
	h.clock.Add(3 * time.Minute)
	must(t, h.store.SetSetting(ctx, tokens.SettingSchedule, "*/10 * * * *"))
	changed := time.Now()
	testkit.Eventually(t, 10*time.Second, "a run with the new schedule", func() bool {
		st, err := h.store.TokenState(ctx, "billing")
		return err == nil && st.Tokens.AccessToken.Reveal() != first
	})
	// The harness polls every 50ms; the run itself takes a token request.
	if d := time.Since(changed); d > 5*time.Second {
		t.Errorf("the new schedule took %s to take effect", d)
	}
	if !strings.Contains(h.logs.String(), `"msg":"refresh schedule changed"`) {
		t.Errorf("the change is not logged:\n%s", h.logs.String())
	}
}

// serve refuses to start with a schedule that never fires, saying why,
// instead of renewing every token in a loop; without a scheduler it has
// nothing to refuse.
func TestNewRefusesScheduleThatNeverFires(t *testing.T) {
	ctx := context.Background()
	h := start(t)
	// Stored as an older oidcctl, or a hand-written SQL statement, would.
	must(t, h.store.SetSetting(ctx, tokens.SettingSchedule, "0 0 31 2 *"))
	sv := newServices(h.store, nil, "x", nil)
	_, err := serve.New(ctx, sv.config(serve.Config{Store: h.store}))
	if !errors.Is(err, tokens.ErrBadSchedule) || !strings.Contains(err.Error(), "never fires") {
		t.Fatalf("New with 31 February: %v", err)
	}
	if _, err := serve.New(ctx, sv.config(serve.Config{Store: h.store, NoScheduler: true})); err != nil {
		t.Fatalf("New without a scheduler: %v", err)
	}
}
