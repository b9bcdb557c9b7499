package debugger

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
	"oidcctl/tui"
)

// detail is one recorded call with its headers and bodies.
type detail struct {
	id     tui.ID
	store  Store
	now    func() time.Time
	st     tui.Styles
	entry  int64
	pager  tui.Pager
	loaded bool
	e      core.DebugEntry
	err    error
	width  int
}

func newDetail(st tui.Styles, store Store, now func() time.Time, id int64) *detail {
	return &detail{id: tui.NewID(), store: store, now: now, st: st, entry: id, pager: tui.NewPager(st)}
}

func (v *detail) ID() tui.ID    { return v.id }
func (v *detail) Title() string { return fmt.Sprintf("Call #%d", v.entry) }

type entryMsg struct {
	tui.To
	e   core.DebugEntry
	err error
}

// Init reads the call: the list has it too, but the store is the truth
// and a clear may have removed it meanwhile.
func (v *detail) Init() tea.Cmd {
	to, store, id := tui.To(v.id), v.store, v.entry
	return func() tea.Msg {
		e, err := store.DebugEntry(context.Background(), id)
		return entryMsg{To: to, e: e, err: err}
	}
}

func (v *detail) SetSize(w, h int) {
	v.pager.SetSize(w, h)
	if w != v.width {
		v.width = w
		if v.loaded && v.err == nil {
			v.pager.SetContent(v.render())
		}
	}
}

func (v *detail) KeyMap() help.KeyMap {
	return tui.KeyMap{Short: v.pager.Bindings(), Full: [][]key.Binding{v.pager.FullBindings()}}
}

func (v *detail) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case entryMsg:
		v.loaded, v.e, v.err = true, msg.e, msg.err
		if v.err == nil {
			v.pager.SetContent(v.render())
			v.pager.GotoTop()
		}
	case tea.KeyPressMsg:
		v.pager.Update(msg)
	}
	return v, nil
}

func (v *detail) View() string {
	switch {
	case !v.loaded:
		return v.st.Muted.Render("Reading the call…")
	case v.err != nil:
		return v.st.Error.Render(strings.Join(tui.Wrap("✗ "+v.err.Error(), max(20, v.width)), "\n"))
	}
	return v.pager.View()
}

func (v *detail) render() string {
	e, st := v.e, v.st
	t := tui.NewText(st, max(30, v.width))
	now := v.now()
	const kw = 10
	kv := func(k, val string, style lipgloss.Style) { t.KV(0, k, kw, val, style) }
	kv("time", e.Time.Local().Format("2006-01-02 15:04:05.000")+" · "+tui.Relative(e.Time, now), st.Normal)
	kv("request", cmp.Or(e.RequestID, "-"), st.Normal)
	kv("service", cmp.Or(e.Webservice, "none (forward-auth)")+" · "+e.Direction, st.Normal)
	kv("call", e.Method+" "+e.Path, st.Bold)
	kv("status", fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status)), st.Tone(statusTone(e.Status)))
	kv("took", e.Duration.String(), st.Normal)
	kv("user", cmp.Or(e.User, "-"), st.Normal)
	verdict := cmp.Or(e.Verdict, "no token involved")
	kv("verdict", verdict, st.Tone(verdictTone(e.Verdict)))
	if e.Reason != "" {
		kv("reason", e.Reason, st.Tone(verdictTone(e.Verdict)))
	}
	if e.BodiesTruncated {
		kv("bodies", "cut at the webservice's debug max body", st.Warning)
	}
	exchange(t, st, "Request", e.RequestHeader, e.RequestBody)
	exchange(t, st, "Response", e.ResponseHeader, e.ResponseBody)
	if e.TokenClaims != "" {
		// The profile's log token claims: for building role maps.
		t.Blank()
		t.Heading("Token header and claims (no signature)")
		for _, l := range strings.Split(strings.TrimRight(pretty(http.Header{"Content-Type": {"application/json"}}, []byte(e.TokenClaims)), "\n"), "\n") {
			t.Hang("  ", 2, expandTabs(l), st.Normal)
		}
	}
	t.Blank()
	t.Muted("Secrets, cookies and tokens were redacted by serve before the call was stored.")
	return t.String()
}

// exchange writes the headers and the body of a request or a response.
func exchange(t *tui.Text, st tui.Styles, title string, h http.Header, body []byte) {
	t.Blank()
	t.Heading(title + " headers")
	if len(h) == 0 {
		t.Line(st.Muted.Render("  (none)"))
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, val := range h[k] {
			t.Hang("  "+st.Muted.Render(k+":")+" ", 2+len(k)+2, val, st.Normal)
		}
	}
	t.Blank()
	t.Heading(title + " body")
	switch {
	case len(body) == 0:
		t.Line(st.Muted.Render("  (empty)"))
	case !utf8.Valid(body):
		t.Line(st.Muted.Render(fmt.Sprintf("  (%d bytes of binary data; oidcctl debug show -o json has them in base64)", len(body))))
	default:
		for _, l := range strings.Split(strings.TrimRight(pretty(h, body), "\n"), "\n") {
			t.Hang("  ", 2, expandTabs(l), st.Normal)
		}
	}
}

// pretty indents a JSON body; anything else stays as it is.
func pretty(h http.Header, body []byte) string {
	trimmed := bytes.TrimSpace(body)
	isJSON := strings.Contains(h.Get("Content-Type"), "json") ||
		(len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['))
	if isJSON && json.Valid(trimmed) {
		var b bytes.Buffer
		if json.Indent(&b, trimmed, "", "  ") == nil {
			return b.String()
		}
	}
	return string(body)
}

func expandTabs(s string) string {
	return strings.ReplaceAll(strings.TrimSuffix(s, "\r"), "\t", "    ")
}
