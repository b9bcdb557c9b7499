package profiles

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/tui"
)

// testScreen runs discovery.Client.Test on a profile and shows the report:
// the issuer, endpoints, grant types, keys and warnings, or why the
// provider cannot be used.
type testScreen struct {
	id      tui.ID
	disc    Discovery
	now     func() time.Time
	st      tui.Styles
	profile core.Profile
	record  func(testResult)
	busy    tui.Busy
	view    viewport.Model
	seq     int
	report  *discovery.Report
	err     error
	done    bool
	cancel  context.CancelFunc
	width   int
}

var testKeys = struct{ Again, Up, Down key.Binding }{
	Again: tui.Keys("r", "test again", "r"),
	Up:    tui.Keys("↑/pgup", "scroll", "up", "k", "pgup"),
	Down:  tui.Keys("↓/pgdn", "scroll", "down", "j", "pgdown"),
}

// Discovery tests a profile's discovery document and JWKS.
type Discovery interface {
	Test(ctx context.Context, p core.Profile) (*discovery.Report, error)
}

func newTestScreen(st tui.Styles, disc Discovery, now func() time.Time, p core.Profile, record func(testResult)) *testScreen {
	vp := viewport.New()
	vp.SoftWrap = true
	return &testScreen{id: tui.NewID(), disc: disc, now: now, st: st, profile: p, record: record, busy: tui.NewBusy(st), view: vp}
}

// Close stops a test in flight when the screen is left.
func (t *testScreen) Close() {
	if t.cancel != nil {
		t.cancel()
	}
}

func (t *testScreen) ID() tui.ID    { return t.id }
func (t *testScreen) Title() string { return "Test " + t.profile.Name }
func (t *testScreen) Init() tea.Cmd { return t.run() }

func (t *testScreen) SetSize(w, h int) {
	t.view.SetWidth(w)
	t.view.SetHeight(max(1, h))
	if w != t.width {
		t.width = w
		if t.done {
			t.view.SetContent(t.render())
		}
	}
}

func (t *testScreen) KeyMap() help.KeyMap {
	if t.busy.Active() {
		return tui.KeyMap{}
	}
	return tui.KeyMap{Short: []key.Binding{testKeys.Again, testKeys.Up, testKeys.Down}}
}

type testedMsg struct {
	tui.To
	seq    int
	report *discovery.Report
	err    error
	at     time.Time
}

func (t *testScreen) run() tea.Cmd {
	t.seq++
	t.done = false
	seq, to, disc, p, clock := t.seq, tui.To(t.id), t.disc, t.profile, t.now
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	return tea.Batch(t.busy.Start("Fetching the discovery document and JWKS of "+p.Name+"…"), func() tea.Msg {
		defer cancel()
		r, err := disc.Test(ctx, p)
		return testedMsg{To: to, seq: seq, report: r, err: err, at: clock()}
	})
}

func (t *testScreen) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case testedMsg:
		if msg.seq != t.seq {
			return t, nil
		}
		t.busy.Stop()
		t.done, t.report, t.err = true, msg.report, msg.err
		t.record(testResult{at: msg.at, err: msg.err})
		t.view.SetContent(t.render())
		t.view.GotoTop()
		return t, nil
	case tui.ActivatedMsg:
		return t, t.busy.Resume()
	case tea.KeyPressMsg:
		if key.Matches(msg, testKeys.Again) && !t.busy.Active() {
			return t, t.run()
		}
		var cmd tea.Cmd
		t.view, cmd = t.view.Update(msg)
		return t, cmd
	}
	return t, t.busy.Update(msg)
}

func (t *testScreen) View() string {
	if t.busy.Active() {
		return t.busy.View()
	}
	return t.view.View()
}

// render writes the report.
func (t *testScreen) render() string {
	st, r := t.st, t.report
	var b strings.Builder
	if t.err != nil {
		fmt.Fprintf(&b, "%s\n\n", st.Error.Render("✗ "+tui.Escape(t.profile.Name)+" cannot use this provider: "+tui.EscapeText(t.err.Error())))
	} else {
		fmt.Fprintf(&b, "%s\n\n", st.Success.Render("✓ Profile "+t.profile.Name+" works with this provider."))
	}
	// Values wrap at spaces into their column.
	valueWidth := max(20, t.width-23)
	// The provider wrote the values: escaped.
	kv := func(k, v string) {
		if v == "" {
			v = "-"
		}
		v = tui.Escape(v)
		lines := strings.Split(lipgloss.Wrap(v, valueWidth, " "), "\n")
		fmt.Fprintf(&b, "%s %s\n", st.Muted.Render(fmt.Sprintf("%-22s", k)), strings.TrimRight(lines[0], " "))
		for _, l := range lines[1:] {
			fmt.Fprintf(&b, "%23s%s\n", "", strings.TrimRight(l, " "))
		}
	}
	if r == nil {
		return b.String()
	}
	kv("discovery URL", r.URL)
	if d := r.Document; d != nil {
		kv("fetched in", r.Duration.Round(time.Millisecond).String())
		kv("issuer", d.Issuer)
		kv("authorization endpoint", d.AuthorizationEndpoint)
		kv("token endpoint", d.TokenEndpoint)
		kv("device endpoint", d.DeviceAuthorizationEndpoint)
		kv("userinfo endpoint", d.UserinfoEndpoint)
		kv("introspection", d.IntrospectionEndpoint)
		kv("revocation endpoint", d.RevocationEndpoint)
		kv("JWKS URI", d.JWKSURI)
		kv("grant types", strings.Join(d.GrantTypesSupported, " "))
		kv("token auth methods", strings.Join(d.TokenEndpointAuthMethodsSupported, " "))
		kv("id_token signing algs", strings.Join(d.IDTokenSigningAlgValuesSupported, " "))
		kv("PKCE methods", strings.Join(d.CodeChallengeMethodsSupported, " "))
		if d.JWKSURI != "" && t.err == nil {
			fmt.Fprintf(&b, "\n%s\n", st.Bold.Render(fmt.Sprintf("JWKS: %d keys (fetched in %s)", len(r.Keys), r.JWKSDuration.Round(time.Millisecond))))
			for _, k := range r.Keys {
				size := k.Curve
				if k.Bits > 0 {
					size = fmt.Sprintf("%d bits", k.Bits)
				}
				line := tui.Escape(fmt.Sprintf("  %s %s %s %s %s", cmp.Or(k.ID, "-"), k.Type, cmp.Or(k.Algorithm, "-"), cmp.Or(k.Use, "-"), cmp.Or(size, "-")))
				if k.Problem != "" {
					line += " " + st.Warning.Render("! "+tui.Escape(k.Problem))
				}
				b.WriteString(line + "\n")
			}
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(&b, "\n%s\n", st.Warning.Render("Warnings:"))
		for _, w := range r.Warnings {
			fmt.Fprintf(&b, "  ! %s\n", tui.EscapeText(w))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
