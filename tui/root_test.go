package tui_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"oidcctl/tui"
	"oidcctl/tui/tuitest"
)

// fake is a screen that shows its name and what it received.
type fake struct {
	id        tui.ID
	name      string
	log       []string
	capturing bool
	width     int
	height    int
	closed    bool
	resized   atomic.Int32 // ResizedMsg received
	onKey     func(tea.KeyPressMsg) tea.Cmd
}

type resultMsg struct {
	tui.To
	text string
}

func newFake(name string) *fake { return &fake{id: tui.NewID(), name: name} }

func (f *fake) ID() tui.ID       { return f.id }
func (f *fake) Title() string    { return f.name }
func (f *fake) Capturing() bool  { return f.capturing }
func (f *fake) Close()           { f.closed = true }
func (f *fake) SetSize(w, h int) { f.width, f.height = w, h }
func (f *fake) KeyMap() help.KeyMap {
	return tui.KeyMap{Short: []key.Binding{tui.Keys("x", "do "+f.name, "x")}}
}

func (f *fake) Init() tea.Cmd {
	f.log = append(f.log, "init")
	return nil
}

func (f *fake) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		f.log = append(f.log, "key "+msg.String())
		if f.onKey != nil {
			return f, f.onKey(msg)
		}
	case tui.ActivatedMsg:
		f.log = append(f.log, "activated")
	case tui.DeactivatedMsg:
		f.log = append(f.log, "deactivated")
	case tui.ResizedMsg:
		f.resized.Add(1)
	case resultMsg:
		f.log = append(f.log, "result "+msg.text)
	}
	return f, nil
}

func (f *fake) View() string {
	return fmt.Sprintf("screen %s %dx%d\nlog: %s", f.name, f.width, f.height, strings.Join(f.log, ", "))
}

func mono() *tui.Styles {
	st := tui.NewStyles(false)
	return &st
}

func TestTabsStackAndGlobalKeys(t *testing.T) {
	a, b, c := newFake("Alpha"), newFake("Beta"), newFake("Gamma")
	pushed := newFake("Detail")
	a.onKey = func(k tea.KeyPressMsg) tea.Cmd {
		if k.String() == "x" {
			return tui.Push(pushed)
		}
		return nil
	}
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, a, b, c), 80, 24)
	f := term.WaitFor("screen Alpha 80x20", "log: init")
	tuitest.Golden(t, "shell", f)

	term.Type("2")
	term.WaitFor("screen Beta", "log: init")
	term.Press("tab")
	term.WaitFor("screen Gamma")
	term.Press("shift+tab", "shift+tab")
	term.WaitFor("screen Alpha", "log: init, deactivated, activated")
	term.Type("9") // no such tab
	term.Type("x")
	term.WaitFor("screen Detail", "Alpha › Detail", "esc back")
	term.Type("2")
	term.WaitFor("screen Beta")
	term.Type("1")
	term.WaitFor("screen Detail") // each tab keeps its stack
	term.Press("esc")
	term.WaitFor("screen Alpha", "activated, key x, deactivated, activated")
	if !pushed.closed {
		t.Fatal("a popped screen was not closed")
	}
	term.Press("esc") // nothing to pop: the screen gets it
	term.WaitFor("key esc")

	term.Type("?")
	f = term.WaitFor("Keys  (? or esc closes)", "go to tab", "do Alpha")
	tuitest.Golden(t, "help", f)
	term.Press("esc")
	term.WaitGone("Keys  (? or esc closes)")

	before := a.resized.Load()
	term.Resize(100, 30)
	term.WaitFor("screen Alpha 100x26")
	if a.resized.Load() == before {
		t.Error("the active screen was not told of the resize")
	}
	term.Type("q")
	term.WaitFinished(t)
}

func TestCapturingScreenGetsEveryKeyButCtrlC(t *testing.T) {
	a, b := newFake("Alpha"), newFake("Beta")
	a.capturing = true
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, a, b), 80, 24)
	term.WaitFor("screen Alpha")
	term.Type("q2?")
	term.Press("esc", "tab")
	f := term.WaitFor("key q, key 2, key ?, key esc, key tab")
	if strings.Contains(f, "? help") {
		t.Fatalf("global keys in the help line of a capturing screen:\n%s", f)
	}
	term.Press("ctrl+c")
	term.WaitFinished(t)
}

func TestStatusLine(t *testing.T) {
	a := newFake("Alpha")
	a.onKey = func(k tea.KeyPressMsg) tea.Cmd {
		switch k.String() {
		case "e":
			return tui.ShowError(errors.New(strings.Repeat("a long error that wraps ", 12)))
		case "t":
			return tui.Toast("saved")
		}
		return nil
	}
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono(), ToastFor: 300 * time.Millisecond}, a), 80, 24)
	term.WaitFor("screen Alpha 80x20")
	term.Type("e")
	f := term.WaitFor("✗ a long error", "screen Alpha 80x18")
	if lines := strings.Count(f, "a long error"); lines < 3 {
		t.Fatalf("the error does not wrap over three rows:\n%s", f)
	}
	tuitest.Golden(t, "error", f)
	term.Type("z") // any key clears an error
	term.WaitFor("screen Alpha 80x20")
	term.WaitGone("✗")
	term.Type("t")
	term.WaitFor("✓ saved")
	term.WaitGone("✓ saved") // a toast goes by itself
}

func TestAddressedMessagesFindTheirScreenOrAreDropped(t *testing.T) {
	a, b := newFake("Alpha"), newFake("Beta")
	pushed := newFake("Detail")
	m := tui.New(tui.Options{Styles: mono()}, a, b)
	term := tuitest.Start(t, m, 80, 24)
	term.WaitFor("screen Alpha")
	term.Send(resultMsg{tui.To(b.ID()), "for beta"})
	term.Type("2")
	term.WaitFor("screen Beta", "result for beta") // delivered while in the background
	term.Send(tui.PushMsg{Screen: pushed})
	term.WaitFor("screen Detail")
	term.Press("esc")
	term.WaitFor("screen Beta")
	term.Send(resultMsg{tui.To(pushed.ID()), "stale"})
	term.Send(resultMsg{tui.To(b.ID()), "fresh"})
	term.WaitFor("result fresh")
	if strings.Contains(strings.Join(pushed.log, ","), "stale") || strings.Contains(term.Frame(), "stale") {
		t.Fatal("a result for a popped screen was delivered")
	}
	term.Send(tui.SwitchTabMsg{Title: "Alpha"})
	term.WaitFor("screen Alpha")
}

// panicky panics on any key.
type panicky struct{ *fake }

func (p panicky) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	if _, ok := msg.(tea.KeyPressMsg); ok {
		panic("boom")
	}
	return p, nil
}

func TestPanicInAScreenIsShownNotFatal(t *testing.T) {
	p := panicky{newFake("Alpha")}
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, p), 80, 24)
	term.WaitFor("screen Alpha")
	term.Type("x")
	term.WaitFor("✗ internal error in Alpha: boom")
}

func TestTabBarShortensWhenNarrow(t *testing.T) {
	var tabs []tui.Screen
	for _, n := range []string{"Home", "Profiles", "Accounts", "Tokens", "Inspector", "Users", "Webservices", "Debugger", "Serve"} {
		tabs = append(tabs, newFake(n))
	}
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, tabs...), 80, 24)
	f := term.WaitFor("screen Home")
	// Without an abbreviation a title is cut to four letters.
	if first := strings.SplitN(f, "\n", 2)[0]; first != "oidcctl  1 Home  2 Prof 3 Acco 4 Toke 5 Insp 6 Users 7 Webs 8 Debu 9 Serve" {
		t.Fatalf("tab bar at 80 columns: %q", first)
	}
	term.Resize(140, 24)
	f = term.WaitFor("2 Profiles")
	if !strings.Contains(f, "9 Serve") {
		t.Fatalf("tab bar at 140 columns:\n%s", f)
	}
}
