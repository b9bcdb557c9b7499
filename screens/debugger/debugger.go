// Package debugger is the console's webservice debugger: the calls that
// `oidcctl serve` recorded, newest first, with their webservice,
// direction, method, path, status, duration, user and verdict; filters by
// webservice, status and verdict (keys) and by any text (/); a detail page
// with the request and response headers and bodies (redacted by serve
// before they were stored, JSON pretty-printed here); clearing the log.
// While shown it reads the log again every few seconds.
package debugger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
	"oidcctl/screens"
	"oidcctl/tui"
)

// ReloadEvery is how often the list is read again while shown.
const ReloadEvery = 3 * time.Second

// Limit is how many calls the list reads: the newest.
const Limit = 200

// verdicts are the verdicts the v key steps through, after "all".
var verdicts = []string{"accepted", "refused", "error"}

// Screen is the list of recorded calls.
type Screen struct {
	id      tui.ID
	now     func() time.Time
	store   Store
	st      tui.Styles
	table   tui.Table[string, core.DebugEntry]
	confirm tui.Confirm
	busy    tui.Busy
	loads   tui.Loads
	visible bool
	ticking bool

	// The filters the keys chose (zero values select all), and those of
	// the rows shown: they differ while a load is on its way.
	service string
	status  int
	verdict string
	applied core.DebugFilter

	services []string
	statuses []int // every status seen, for the s key

	width, height int
}

type keyMap struct {
	Open, Service, Status, Verdict, All, Clear, Reload key.Binding
}

var keys = keyMap{
	Open:    tui.Keys("enter", "open", "enter"),
	Service: tui.Keys("w", "webservice", "w"),
	Status:  tui.Keys("s", "status", "s"),
	Verdict: tui.Keys("v", "verdict", "v"),
	All:     tui.Keys("a", "all calls", "a"),
	Clear:   tui.Keys("x", "clear", "x"),
	Reload:  tui.Keys("r", "reload", "r"),
}

// Store is what the debugger reads and clears: the recorded calls, and
// the webservices to filter by.
type Store interface {
	Webservices(ctx context.Context) ([]core.Webservice, error)
	DebugEntries(ctx context.Context, f core.DebugFilter) ([]core.DebugEntry, error)
	DebugEntry(ctx context.Context, id int64) (core.DebugEntry, error)
	ClearDebug(ctx context.Context, webservice string) (int, error)
}

// New returns the debugger.
func New(d screens.Deps) *Screen {
	now := d.Clockf()
	row := func(e core.DebugEntry) tui.Row {
		return tui.Row{
			Cells: []string{clock(e.Time, now()), cmp.Or(e.Webservice, "-"), direction(e.Direction), e.Method, path(e),
				strconv.Itoa(e.Status), took(e.Duration), cmp.Or(e.User, "-"), cmp.Or(e.Verdict, "-")},
			Tones: []tui.Tone{tui.ToneMuted, tui.TonePrimary, tui.ToneMuted, 0, 0, statusTone(e.Status), tui.ToneMuted, 0, verdictTone(e.Verdict)},
		}
	}
	t := tui.NewTable(d.Styles, func(e core.DebugEntry) string { return strconv.FormatInt(e.ID, 10) }, row,
		tui.Column{Title: "TIME", Width: 8},
		tui.Column{Title: "SERVICE", Width: 8},
		tui.Column{Title: "DIR", Width: 3},
		tui.Column{Title: "METHOD", Width: 6},
		tui.Column{Title: "PATH", Width: 6, Flex: 4},
		tui.Column{Title: "ST", Width: 3},
		tui.Column{Title: "TOOK", Width: 6},
		tui.Column{Title: "USER", Width: 7},
		tui.Column{Title: "VERDICT", Width: 8},
	)
	return &Screen{id: tui.NewID(), now: d.Clockf(), store: d.Registry.Store, st: d.Styles, table: t, confirm: tui.NewConfirm(d.Styles), busy: tui.NewBusy(d.Styles)}
}

func (s *Screen) ID() tui.ID    { return s.id }
func (s *Screen) Title() string { return "Debugger" }

// ShortTitle is the name in the tab bar at 80 columns.
func (s *Screen) ShortTitle() string { return "Debug" }
func (s *Screen) Capturing() bool    { return s.table.Filtering() || s.confirm.Active() }

func (s *Screen) Init() tea.Cmd {
	s.visible = true
	return tea.Batch(s.load(), s.startTick())
}

// The rows around the table: the filters above, the selected call's
// reason below.
const (
	headRows   = 1
	detailRows = 2
)

func (s *Screen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.table.SetSize(w, max(3, h-headRows-detailRows-1))
}

func (s *Screen) KeyMap() help.KeyMap {
	switch {
	case s.confirm.Active():
		return tui.KeyMap{Short: s.confirm.Bindings()}
	case s.table.Filtering():
		return tui.KeyMap{Short: s.table.Bindings()}
	}
	var own []key.Binding
	if _, ok := s.table.Selected(); ok {
		own = append(own, keys.Open)
	}
	own = append(own, keys.Service, keys.Status, keys.Verdict)
	if s.filtered() {
		own = append(own, keys.All)
	}
	if s.table.Len() > 0 {
		own = append(own, keys.Clear)
	}
	return tui.KeyMap{
		Short: slices.Concat(own, s.table.Bindings()),
		Full:  [][]key.Binding{slices.Concat(own, []key.Binding{keys.Reload}), s.table.FullBindings()},
	}
}

func (s *Screen) filtered() bool { return s.service != "" || s.status != 0 || s.verdict != "" }

// pending reports whether the rows shown are of other filters than those
// chosen: a load is on its way.
func (s *Screen) pending() bool {
	return s.applied.Webservice != s.service || s.applied.Status != s.status || s.applied.Verdict != s.verdict
}

type (
	// loaded is what a load reads, with the filters it read by.
	loaded struct {
		filter   core.DebugFilter
		entries  []core.DebugEntry
		services []core.Webservice
	}
	tickMsg    struct{ tui.To }
	clearedMsg struct {
		tui.To
		service string
		n       int
		err     error
	}
)

func (s *Screen) load() tea.Cmd {
	store := s.store
	f := core.DebugFilter{Webservice: s.service, Status: s.status, Verdict: s.verdict, Limit: Limit}
	return tui.Load(&s.loads, s.id, func(ctx context.Context) (m loaded, err error) {
		m.filter = f
		if m.services, err = store.Webservices(ctx); err != nil {
			return m, err
		}
		m.entries, err = store.DebugEntries(ctx, f)
		return m, err
	})
}

func (s *Screen) startTick() tea.Cmd {
	if s.ticking {
		return nil
	}
	s.ticking = true
	to := tui.To(s.id)
	return tea.Tick(ReloadEvery, func(time.Time) tea.Msg { return tickMsg{to} })
}

func (s *Screen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tui.Loaded[loaded]:
		if !s.loads.Take(msg.Seq) {
			return s, nil
		}
		var nf *core.NotFoundError
		if errors.As(msg.Err, &nf) && s.service != "" {
			// The webservice was deleted: show every call again.
			s.service = ""
			return s, s.load()
		}
		if msg.Err != nil {
			return s, tui.ShowError(fmt.Errorf("reading the debugger's log: %w", msg.Err))
		}
		s.applied = msg.Value.filter
		s.fill(msg.Value)
		return s, nil
	case tickMsg:
		s.ticking = false
		if !s.visible {
			return s, nil
		}
		// No reload while a question is open or a clear runs: the rows
		// must not move under the person.
		if s.confirm.Active() || s.busy.Active() {
			return s, s.startTick()
		}
		return s, tea.Batch(s.load(), s.startTick())
	case clearedMsg:
		s.busy.Stop()
		if msg.err != nil {
			return s, tea.Batch(tui.ShowError(msg.err), s.load())
		}
		what := "every webservice"
		if msg.service != "" {
			what = msg.service
		}
		return s, tea.Batch(tui.Toast(fmt.Sprintf("Removed %d recorded calls of %s.", msg.n, what)), s.load())
	case tui.ActivatedMsg:
		s.visible = true
		return s, tea.Batch(s.load(), s.busy.Resume(), s.startTick())
	case tui.DeactivatedMsg:
		s.visible = false
		return s, nil
	case tea.KeyPressMsg:
		return s, s.handleKey(msg)
	}
	if s.table.Filtering() {
		_, cmd := s.table.Update(msg)
		return s, cmd
	}
	return s, s.busy.Update(msg)
}

func (s *Screen) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if s.confirm.Active() {
		if answered, yes := s.confirm.Update(k); answered && yes {
			return s.clear(s.confirm.Tag)
		}
		return nil
	}
	if used, cmd := s.table.Update(k); used {
		return cmd
	}
	if s.busy.Active() {
		return nil
	}
	switch {
	case key.Matches(k, keys.Open):
		if e, ok := s.table.Selected(); ok {
			return tui.Push(newDetail(s.st, s.store, s.now, e.ID))
		}
	case key.Matches(k, keys.Service):
		s.service = next(s.services, s.service)
		return s.load()
	case key.Matches(k, keys.Status):
		s.status = next(s.statuses, s.status)
		return s.load()
	case key.Matches(k, keys.Verdict):
		s.verdict = next(verdicts, s.verdict)
		return s.load()
	case key.Matches(k, keys.All):
		s.service, s.status, s.verdict = "", 0, ""
		return s.load()
	case key.Matches(k, keys.Reload):
		return s.load()
	case key.Matches(k, keys.Clear):
		if s.table.Len() == 0 {
			return nil
		}
		// What is shown is what goes.
		ws := s.applied.Webservice
		q, detail := "Clear the log of every webservice?", "Every recorded call is removed from the database"
		if ws != "" {
			q, detail = "Clear the log of "+ws+"?", "Its recorded calls are removed from the database"
		}
		s.confirm.Ask(q, detail+"; serve goes on recording new ones.", "Clear", ws)
	}
	return nil
}

// next steps through all (the zero value), then each of list in turn.
func next[T comparable](list []T, cur T) T {
	var zero T
	i := slices.Index(list, cur)
	if cur == zero {
		i = -1
	}
	if i+1 < len(list) {
		return list[i+1]
	}
	return zero
}

func (s *Screen) clear(service string) tea.Cmd {
	to, store := tui.To(s.id), s.store
	return tea.Batch(s.busy.Start("Clearing…"), func() tea.Msg {
		n, err := store.ClearDebug(context.Background(), service)
		return clearedMsg{To: to, service: service, n: n, err: err}
	})
}

func (s *Screen) fill(m loaded) {
	s.services = s.services[:0]
	for _, w := range m.services {
		s.services = append(s.services, w.Name)
	}
	for _, e := range m.entries {
		if !slices.Contains(s.statuses, e.Status) {
			s.statuses = append(s.statuses, e.Status)
		}
	}
	slices.Sort(s.statuses)
	s.table.SetItems(m.entries)
	empty := "No call recorded yet: oidcctl serve records the calls of webservices with the debugger on."
	if m.filter != (core.DebugFilter{Limit: Limit}) {
		empty = "No recorded call matches the filters: press a for all calls."
	}
	s.table.SetEmpty(empty)
}

func (s *Screen) View() string {
	if !s.loads.Done() {
		return s.st.Muted.Render("Reading the debugger's log…")
	}
	head := s.filters()
	if s.confirm.Active() {
		box := s.confirm.View(s.width)
		t := s.table
		t.SetSize(s.width, max(3, s.height-headRows-lipgloss.Height(box)-1))
		return head + "\n" + t.View() + "\n" + box
	}
	bottom := s.detail()
	if s.busy.Active() {
		bottom = s.busy.View()
	}
	return head + "\n" + s.table.View() + "\n" + bottom
}

// filters says what the list shows: the filters of the rows shown, and
// that others are on their way.
func (s *Screen) filters() string {
	label := s.st.Muted.Render
	f := s.applied
	value := func(v string, on bool) string {
		if on {
			return s.st.Primary.Render(v)
		}
		return v
	}
	status := "all"
	if f.Status != 0 {
		status = strconv.Itoa(f.Status)
	}
	line := label("webservice ") + value(cmp.Or(f.Webservice, "all"), f.Webservice != "") +
		label(" · status ") + value(status, f.Status != 0) +
		label(" · verdict ") + value(cmp.Or(f.Verdict, "all"), f.Verdict != "")
	if s.pending() {
		line += label(" · reading…")
	} else {
		line += label(fmt.Sprintf(" · newest %d, every %s", Limit, ReloadEvery))
	}
	return tui.Truncate(line, s.width)
}

// detail is the selected call's request id, user and reason.
func (s *Screen) detail() string {
	e, ok := s.table.Selected()
	if !ok {
		return ""
	}
	label := s.st.Muted.Render
	first := label("call ") + fmt.Sprintf("#%d", e.ID) + label(" at ") + tui.Stamp(e.Time) +
		label(" · request ") + tui.Escape(cmp.Or(e.RequestID, "-")) + label(" · ") + fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	reason := label("no token involved")
	switch {
	case e.Reason != "":
		reason = s.st.Tone(verdictTone(e.Verdict)).Render(tui.Escape(e.Reason))
	case e.Verdict == "accepted":
		reason = "accepted as " + tui.Escape(cmp.Or(e.User, "-"))
	}
	return tui.Truncate(first, s.width) + "\n" + tui.Truncate(label("why  ")+reason, s.width)
}

// clock is the time of a call: the time of day for today's calls, the
// date for older ones.
func clock(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 02")
}

// path is the path of an incoming call after the webservice's own prefix
// (/ws/NAME), which the SERVICE column already says; the detail page has
// it whole.
func path(e core.DebugEntry) string {
	if e.Direction != core.DirectionIncoming || e.Webservice == "" {
		return e.Path
	}
	rest, ok := strings.CutPrefix(e.Path, "/ws/"+e.Webservice)
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?') {
		return e.Path
	}
	if rest == "" || rest[0] == '?' {
		rest = "/" + rest
	}
	return rest
}

func direction(d string) string {
	switch d {
	case core.DirectionIncoming:
		return "in"
	case core.DirectionOutgoing:
		return "out"
	case core.DirectionForwardAuth:
		return "fwd"
	}
	return d
}

// took is a duration in at most six columns.
func took(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

func statusTone(code int) tui.Tone {
	switch {
	case code >= 500:
		return tui.ToneError
	case code >= 400:
		return tui.ToneWarning
	}
	return tui.ToneNormal
}

func verdictTone(v string) tui.Tone {
	switch v {
	case "accepted":
		return tui.ToneSuccess
	case "refused":
		return tui.ToneError
	case "error":
		return tui.ToneWarning
	}
	return tui.ToneMuted
}
