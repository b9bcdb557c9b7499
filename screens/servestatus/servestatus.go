// Package servestatus is the console's serve status screen: every
// `oidcctl serve` process that reported to this database, whether it is
// running (its heartbeat is recent), stopped or gone without a word, its
// listen address and token socket, when it started, and its last refresh
// run with the accounts it renewed and those that failed; and the refresh
// schedule every serve process follows (the refresh.schedule and
// refresh.interval settings, or their defaults). It only reads: the
// schedule is changed with `oidcctl config set`, and a running serve
// follows a change within its reload interval (a few seconds). A stored
// schedule that cannot be used (one that never fires) is shown with why,
// and that serve keeps the schedule it runs with and will not start with
// this one. A schedule that fires more often than runs may happen says
// that runs are at least tokens.DefaultMinGap apart.
package servestatus

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oidcctl/core"
	"oidcctl/core/tokens"
	"oidcctl/screens"
	"oidcctl/tui"
)

// ReloadEvery is how often the statuses are read again while shown; the
// ages move every second.
const ReloadEvery = 5 * time.Second

// Screen is the serve status.
type Screen struct {
	id      tui.ID
	now     func() time.Time
	store   Store
	st      tui.Styles
	table   tui.RowTable
	loads   tui.Loads
	ticks   int
	ticking bool
	visible bool

	statuses []core.ServeStatus
	byName   map[string]core.ServeStatus
	sched    schedule

	width, height int
}

// schedule is the refresh schedule as stored, and as parsed.
type schedule struct {
	spec, interval       string // "" when not set
	specSet, intervalSet bool
	parsed               tokens.Schedule
	err                  error
}

var reloadKey = tui.Keys("r", "reload", "r")

// Store is what the screen reads: the status each serve process
// writes, and the refresh schedule's settings.
type Store interface {
	ServeStatuses(ctx context.Context) ([]core.ServeStatus, error)
	Setting(ctx context.Context, key string) (value string, ok bool, err error)
}

// New returns the serve status screen.
func New(d screens.Deps) *Screen {
	t := tui.NewRowTable(d.Styles,
		tui.Column{Title: "INSTANCE", Width: 10, Flex: 1},
		tui.Column{Title: "STATE", Width: 12},
		tui.Column{Title: "LISTEN", Width: 15},
		tui.Column{Title: "SOCKET", Width: 8, Flex: 1},
		tui.Column{Title: "STARTED", Width: 8},
		tui.Column{Title: "HEARTBEAT", Width: 9},
	)
	t.SetEmpty("No serve process has run on this database.")
	return &Screen{id: tui.NewID(), now: d.Clockf(), store: d.Registry.Store, st: d.Styles, table: t}
}

func (s *Screen) ID() tui.ID      { return s.id }
func (s *Screen) Title() string   { return "Serve" }
func (s *Screen) Capturing() bool { return s.table.Filtering() }

func (s *Screen) Init() tea.Cmd {
	s.visible = true
	return tea.Batch(s.load(), s.startTick())
}

// bottomRows are the rows under the table: the selected process (3), a
// gap, and the schedule (3).
const bottomRows = 7

func (s *Screen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.table.SetSize(w, max(3, h-bottomRows-1))
}

func (s *Screen) KeyMap() help.KeyMap {
	if s.table.Filtering() {
		return tui.KeyMap{Short: s.table.Bindings()}
	}
	keys := []key.Binding{reloadKey}
	if _, ok := s.selected(); ok {
		keys = append(keys, tui.OpenKey)
	}
	return tui.KeyMap{Short: append([]key.Binding{reloadKey}, s.table.Bindings()...), Full: [][]key.Binding{keys, s.table.FullBindings()}}
}

type (
	// loaded is what a load reads.
	loaded struct {
		statuses []core.ServeStatus
		sched    schedule
	}
	tickMsg struct{ tui.To }
)

func (s *Screen) load() tea.Cmd {
	store := s.store
	return tui.Load(&s.loads, s.id, func(ctx context.Context) (m loaded, err error) {
		if m.statuses, err = store.ServeStatuses(ctx); err != nil {
			return m, err
		}
		sc := &m.sched
		if sc.spec, sc.specSet, err = store.Setting(ctx, tokens.SettingSchedule); err != nil {
			return m, err
		}
		if sc.interval, sc.intervalSet, err = store.Setting(ctx, tokens.SettingInterval); err != nil {
			return m, err
		}
		sc.parsed, sc.err = tokens.ParseSchedule(sc.spec, sc.interval)
		return m, nil
	})
}

func (s *Screen) startTick() tea.Cmd {
	if s.ticking {
		return nil
	}
	s.ticking = true
	return s.tick()
}

func (s *Screen) tick() tea.Cmd {
	to := tui.To(s.id)
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{to} })
}

func (s *Screen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tui.Loaded[loaded]:
		m, cmd, ok := tui.Take(&s.loads, msg, "the serve status")
		if ok {
			s.statuses, s.sched = m.statuses, m.sched
			s.fill()
		}
		return s, cmd
	case tickMsg:
		if !s.visible {
			s.ticking = false
			return s, nil
		}
		s.ticks++
		s.fill()
		cmd := s.tick()
		if s.ticks%int(ReloadEvery/time.Second) == 0 {
			cmd = tea.Batch(cmd, s.load())
		}
		return s, cmd
	case tui.ActivatedMsg:
		s.visible = true
		return s, tea.Batch(s.load(), s.startTick())
	case tui.DeactivatedMsg:
		s.visible = false
		return s, nil
	case tea.KeyPressMsg:
		if used, cmd := s.table.Update(msg); used {
			return s, cmd
		}
		switch {
		case key.Matches(msg, reloadKey):
			return s, s.load()
		case key.Matches(msg, tui.OpenKey):
			if st, ok := s.selected(); ok {
				// The whole of what the columns and the pane cut, such
				// as a long socket path.
				now, styles := s.now(), s.st
				return s, tui.Push(tui.NewPage(styles, st.Instance, func(width int) string {
					return tui.Fit(processLines(styles, st, now, true), width, true)
				}))
			}
		}
		return s, nil
	}
	if s.table.Filtering() {
		_, cmd := s.table.Update(msg)
		return s, cmd
	}
	return s, nil
}

// state says in a word whether a serve process runs, and the tone to
// show it in: running (a recent heartbeat), stopped (it shut down
// cleanly), or no heartbeat (it went without a word: killed, crashed, or
// its host is down).
func state(st core.ServeStatus, now time.Time) (string, tui.Tone) {
	switch {
	case st.Alive(now):
		return "running", tui.ToneSuccess
	case st.Stopped:
		return "stopped", tui.ToneMuted
	}
	return "no heartbeat", tui.ToneWarning
}

func (s *Screen) fill() {
	if !s.loads.Done() {
		return
	}
	now := s.now()
	s.byName = make(map[string]core.ServeStatus, len(s.statuses))
	rows := make([]tui.Row, len(s.statuses))
	for i, st := range s.statuses {
		s.byName[st.Instance] = st
		word, tone := state(st, now)
		rows[i] = tui.Row{
			Key:   st.Instance,
			Cells: []string{st.Instance, word, cmp.Or(st.Listen, "-"), cmp.Or(st.Socket, "-"), age(st.StartedAt, now), age(st.Heartbeat, now)},
			Tones: []tui.Tone{tui.TonePrimary, tone, 0, 0, tui.ToneMuted, tui.ToneMuted},
		}
	}
	s.table.SetItems(rows)
}

func (s *Screen) selected() (core.ServeStatus, bool) {
	r, ok := s.table.Selected()
	if !ok {
		return core.ServeStatus{}, false
	}
	st, ok := s.byName[r.Key]
	return st, ok
}

func (s *Screen) View() string {
	if !s.loads.Done() {
		return s.st.Muted.Render("Reading the serve status…")
	}
	return s.table.View() + "\n" + s.process() + "\n\n" + s.schedule()
}

// process describes the selected serve process in three rows.
func (s *Screen) process() string {
	label := s.st.Muted.Render
	st, ok := s.selected()
	if !ok {
		lines := []string{
			"Start one with oidcctl serve (for systemd: oidcctl serve --print-unit);",
			"it reports here every " + core.ServeHeartbeat.String() + ", and the console and serve may share the database.",
			"",
		}
		for i, l := range lines {
			lines[i] = label(tui.Truncate(l, s.width))
		}
		return strings.Join(lines, "\n")
	}
	return tui.Fit(processLines(s.st, st, s.now(), false), s.width, false)
}

// processLines describe a serve process: three for the pane under the
// table; with all, first what the columns show, for the page that enter
// opens.
func processLines(sty tui.Styles, st core.ServeStatus, now time.Time, all bool) []string {
	label := sty.Muted.Render
	version := ""
	if st.Version != "" {
		version = label(" · version ") + st.Version
	}
	refresh := label("no refresh run yet")
	if !st.LastRefreshRun.IsZero() {
		failed := fmt.Sprintf("%d failed", st.LastRefreshFailed)
		if st.LastRefreshFailed > 0 {
			failed = sty.Error.Render(failed + " (see Tokens)")
		}
		refresh = tui.Stamp(st.LastRefreshRun) + label(" ("+tui.Relative(st.LastRefreshRun, now)+")") + ": " +
			fmt.Sprintf("%d renewed, ", st.LastRefreshRenewed) + failed
	}
	var lines []string
	if all {
		word, _ := state(st, now)
		lines = append(lines, label("state    ")+word+label(" · last heartbeat ")+tui.Stamp(st.Heartbeat)+label(" ("+tui.Relative(st.Heartbeat, now)+")"))
	}
	return append(lines,
		label("process  ")+st.Instance+version+label(" · started ")+tui.Stamp(st.StartedAt),
		label("refresh  ")+refresh,
		label("serves   ")+cmp.Or(st.Listen, "no listen address")+label(" · token socket ")+cmp.Or(st.Socket, "-"))
}

// schedule is the refresh schedule every serve process follows.
func (s *Screen) schedule() string {
	label := s.st.Muted.Render
	sc := s.sched
	def := func(set bool) string {
		if set {
			return ""
		}
		return label(" (default)")
	}
	spec := cmp.Or(sc.spec, tokens.DefaultSchedule)
	interval := sc.interval
	if interval == "" {
		interval = strconv.Itoa(int(tokens.DefaultInterval.Seconds()))
	}
	title := label(" (oidcctl config set; serve follows a change within seconds)")
	var when, ahead string
	if sc.err != nil {
		title = s.st.Error.Render(" unusable: serve keeps the one it runs with, and will not start")
		when = s.st.Error.Render("✗ " + sc.err.Error())
	} else {
		now := s.now()
		next := sc.parsed.Cron.Next(now)
		when = label("next run ") + tui.Stamp(next) + label(" ("+tui.Relative(next, now)+")")
		if after := sc.parsed.Cron.Next(next); after.Sub(next) < tokens.DefaultMinGap {
			when += label(" · runs ≥" + short(tokens.DefaultMinGap) + " apart")
		}
		ahead = label(" · each run looks ahead at least ") + short(sc.parsed.Interval)
	}
	lines := []string{
		s.st.Bold.Render("Refresh schedule") + title,
		label("schedule ") + spec + def(sc.specSet) + label(" · ") + when,
		label("interval ") + interval + " s" + def(sc.intervalSet) + ahead,
	}
	for i, l := range lines {
		lines[i] = tui.Truncate(l, s.width)
	}
	return strings.Join(lines, "\n")
}

// age is how long ago t was, short: "12s", "3m", "5h", "2d".
func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if d := now.Sub(t); d >= time.Second {
		return tui.Age(d) + " ago"
	}
	return "now"
}

// short writes a duration without its zero units: "1h", "10m", "1h30m".
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
