package servestatus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/tokens"
	"oidcctl/screens/internal/screentest"
	"oidcctl/screens/servestatus"
)

func TestNoServeYet(t *testing.T) {
	e := screentest.New(t)
	_, f := e.OpenGolden(t, servestatus.New(e.Deps), "empty", "No serve process has run on this database.", "(for systemd: oidcctl serve --print-unit)", "0 * * * * (default)", "3600 s (default)")
	if !strings.Contains(f, "next run 2026-03-04 11:00:00 (in 1h0m)") {
		t.Errorf("next run:\n%s", f)
	}
}

func TestProcessesAndSchedule(t *testing.T) {
	e := screentest.New(t)
	ctx, t0 := context.Background(), screentest.T0
	for _, st := range []core.ServeStatus{
		{Instance: "api-1:4242", Listen: "127.0.0.1:8080", Socket: "/run/oidcctl/token.sock", Version: "v1.2.0",
			StartedAt: t0.Add(-3 * time.Hour), Heartbeat: t0.Add(-4 * time.Second),
			LastRefreshRun: t0.Add(-10 * time.Minute), LastRefreshRenewed: 3, LastRefreshFailed: 1},
		{Instance: "api-2:977", Listen: "127.0.0.1:8081", StartedAt: t0.Add(-26 * time.Hour), Heartbeat: t0.Add(-2 * time.Hour), Stopped: true},
		{Instance: "old:13", Listen: "127.0.0.1:8082", StartedAt: t0.Add(-5 * time.Hour), Heartbeat: t0.Add(-5 * time.Minute)},
	} {
		if err := e.DB.PutServeStatus(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{tokens.SettingSchedule: "*/10 * * * *", tokens.SettingInterval: "600"} {
		if err := e.DB.SetSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	term, f := e.OpenGolden(t, servestatus.New(e.Deps), "processes", "api-1:4242", "running", "stopped", "no heartbeat", "4s ago")
	for _, want := range []string{"3 renewed, 1 failed (see Tokens)", "*/10 * * * * · next run 2026-03-04 10:10:00 (in 10m0s)", "600 s · each run looks ahead at least 10m"} {
		if !strings.Contains(f, want) {
			t.Errorf("no %q in\n%s", want, f)
		}
	}

	// The heartbeat ages with the clock; without one for 30 s the process
	// is taken for gone.
	e.Clock.Add(time.Second)
	term.WaitFor("5s ago")
	e.Clock.Add(time.Minute)
	term.WaitUntil("api-1 without a heartbeat", func(f string) bool {
		for _, l := range strings.Split(f, "\n") {
			if strings.Contains(l, "api-1:4242") && strings.Contains(l, "no heartbeat") {
				return true
			}
		}
		return false
	})

	// A schedule that does not parse is shown as stored, with why.
	if err := e.DB.SetSetting(ctx, tokens.SettingSchedule, "every tuesday"); err != nil {
		t.Fatal(err)
	}
	term.Type("r")
	term.WaitFor("every tuesday · ✗ refresh schedule")
}

// A stored schedule that never fires (written by an older oidcctl, or by
// hand) is shown as unusable, with why and what serve does about it,
// rather than with a "next run" in the year 1; one that fires every
// second says that runs are at least 10s apart ("runs ≥10s apart").
func TestUnusableAndTooFrequentSchedules(t *testing.T) {
	e := screentest.New(t)
	ctx := context.Background()
	if err := e.DB.SetSetting(ctx, tokens.SettingSchedule, "0 0 31 2 *"); err != nil {
		t.Fatal(err)
	}
	term, f := e.Open(t, servestatus.New(e.Deps), `0 0 31 2 * · ✗ refresh schedule "0 0 31 2 *" never fires`)
	for _, want := range []string{"unusable: serve keeps the one it runs with, and will not start"} {
		if !strings.Contains(f, want) {
			t.Errorf("no %q in\n%s", want, f)
		}
	}
	if strings.Contains(f, "next run 0001") || strings.Contains(f, "each run looks ahead") {
		t.Errorf("an unusable schedule is shown as if it ran:\n%s", f)
	}
	if err := e.DB.SetSetting(ctx, tokens.SettingSchedule, "@every 1s"); err != nil {
		t.Fatal(err)
	}
	term.Type("r")
	term.WaitFor("@every 1s · next run 2026-03-04 10:00:01", "runs ≥10s apart", "serve follows a change within seconds")
}

// What the columns and the detail pane cut at 80 columns (a long socket
// path and instance name) is a key away: enter opens the process whole.
func TestLongValuesWholeOnEnter(t *testing.T) {
	e := screentest.New(t)
	st := core.ServeStatus{Instance: "ticket-gateway-frontend-02.dmz.example.org:48213", Listen: "127.0.0.1:8080",
		Socket: "/run/oidcctl-ticket-gateway/instances/frontend-02/token.sock", Version: "v1.2.0",
		StartedAt: screentest.T0.Add(-time.Hour), Heartbeat: screentest.T0.Add(-4 * time.Second)}
	if err := e.DB.PutServeStatus(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	term, f := e.Open(t, servestatus.New(e.Deps), "▸ticket-gateway")
	screentest.WholeOnEnter(t, term, f, "Serve › "+st.Instance, "Serve",
		"version v1.2.0 · started 2026-03-04 09:00:00", "token socket "+st.Socket)
}
