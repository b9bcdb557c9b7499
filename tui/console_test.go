package tui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"oidcctl/tui"
	"oidcctl/tui/tuitest"
)

// noteForm is a form on name and note that saves into saved.
func noteForm(name, note *string, saved *[]string) *tui.Form {
	build := func() *huh.Form {
		return huh.NewForm(huh.NewGroup(tui.Input("Name", name), tui.Input("Note", note)).Title("Thing"))
	}
	save := func(context.Context) (tui.Saved, error) {
		*saved = append(*saved, *name)
		return tui.Saved{Toast: "Thing " + *name + " saved.", Key: *name}, nil
	}
	return tui.NewForm(tui.NewStyles(false), "Add thing", build, save).Watch(name, note)
}

// A form with changes asks before esc or ctrl+c throws them away, no
// being the default; an untouched form leaves at once. ctrl+c while the
// question shows still quits, so that nobody is trapped.
func TestFormAsksBeforeDiscardingChanges(t *testing.T) {
	var name, note string
	var saved []string
	home := newFake("Home")
	home.onKey = func(k tea.KeyPressMsg) tea.Cmd {
		if k.String() == "a" {
			return tui.Push(noteForm(&name, &note, &saved))
		}
		return nil
	}
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono(), ToastFor: time.Hour}, home), 80, 24)
	term.WaitFor("screen Home")

	term.Type("a")
	term.WaitFocus("Name:")
	term.Press("esc") // nothing typed: nothing to lose
	term.WaitFor("screen Home")

	term.Type("a")
	term.WaitFocus("Name:")
	term.Type("half")
	term.WaitFor("┃ Name: half")
	term.Press("esc")
	term.WaitFor("Discard changes?", "Discard (y)", "Cancel (n)")
	term.Press("enter") // the default is Cancel
	term.WaitFor("┃ Name: half")

	term.Press("ctrl+c") // does the same, instead of quitting
	term.WaitFor("Discard changes?")
	term.Press("n")
	term.WaitFor("┃ Name: half")
	term.Type("way")
	term.WaitFor("┃ Name: halfway")

	term.Press("esc")
	term.WaitFor("Discard changes?")
	term.Press("y")
	term.WaitFor("screen Home")
	if len(saved) != 0 {
		t.Fatalf("discarding saved %v", saved)
	}

	term.Type("a")
	term.WaitFor("┃ Name: halfway") // the caller's values, as the form left them
	term.Press("backspace")
	term.Press("ctrl+c")
	term.WaitFor("Discard changes?")
	term.Press("ctrl+c") // a second ctrl+c quits
	term.WaitFinished(t)
}

// After an add, the list's cursor is on the new item (not on the one that
// was selected before), even where a filter would have hidden it.
func TestListSelectsTheAddedItem(t *testing.T) {
	store := &things{m: map[string]string{"alpha": "1", "beta": "2", "gamma": "3"}}
	var name, note string
	var saved []string
	getName := func(t thing) string { return t.name }
	list := tui.NewList(tui.NewStyles(false), tui.ListConfig[string, thing]{
		Title: "Things", Noun: "things",
		Columns: []tui.Column{{Title: "NAME", Width: 10}, {Title: "VALUE", Width: 10}},
		Key:     getName,
		Row:     func(t thing) tui.Row { return tui.Row{Cells: []string{t.name, t.value}} },
		Load:    store.list,
		Actions: []tui.Action[thing]{
			{Key: tui.ListKeys.Add, Open: func(context.Context, thing) (tui.Screen, error) {
				name, note = "", ""
				f := noteForm(&name, &note, &saved)
				return f, nil
			}},
		},
	})
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono(), ToastFor: time.Hour}, list), 80, 24)
	term.WaitFor("▸alpha")

	add := func(n string) {
		t.Helper()
		term.Type("a")
		term.WaitFocus("Name:")
		term.Type(n)
		term.WaitFor("┃ Name: " + n)
		// The store gets the item when the form saves, as a real store.
		store.set(n, "new")
		term.Press("ctrl+s")
		term.WaitFor("✓ Thing " + n + " saved.")
	}
	add("delta")
	term.WaitFor("▸delta", "3/4")

	term.Type("/al") // a filter that hides what comes next
	term.Press("enter")
	term.WaitFor("▸alpha", "filter: al")
	add("omega")
	term.WaitFor("▸omega", "5/5")
}

// wide is a fake tab whose title is long, with an abbreviation.
type wide struct {
	*fake
	short string
}

func (w wide) ShortTitle() string { return w.short }

func nineTabs() []tui.Screen {
	var tabs []tui.Screen
	for _, n := range [][2]string{{"Home", "Home"}, {"Profiles", "Prof"}, {"Accounts", "Acct"}, {"Tokens", "Tok"}, {"Inspector", "Insp"}, {"Users", "Users"}, {"Webservices", "Web"}, {"Debugger", "Debug"}, {"Serve", "Serve"}} {
		tabs = append(tabs, wide{newFake(n[0]), n[1]})
	}
	return tabs
}

// At 80 columns the tab bar names every tab, abbreviated, rather than
// showing bare numbers; ? lists every tab in full.
func TestTabBarNamesEveryTabAt80Columns(t *testing.T) {
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, nineTabs()...), 80, 24)
	frame := term.WaitFor("screen Home")
	bar := strings.SplitN(frame, "\n", 2)[0]
	for _, want := range []string{"1 Home", "2 Prof", "3 Acct", "4 Tok", "5 Insp", "6 Users", "7 Web", "8 Debug", "9 Serve"} {
		if !strings.Contains(bar, want) {
			t.Errorf("the tab bar lacks %q: %q", want, bar)
		}
	}
	if w := ansi.StringWidth(bar); w > 80 {
		t.Errorf("the tab bar is %d columns wide", w)
	}
	term.Press("7")
	frame = term.WaitFor("screen Webservices")
	if bar := strings.SplitN(frame, "\n", 2)[0]; !strings.Contains(bar, "2 Prof") || !strings.Contains(bar, "7 Web") {
		t.Errorf("the tab bar with a long active tab: %q", bar)
	}

	term.Press("?")
	term.WaitFor("Tabs", "1 Home · 2 Profiles · 3 Accounts · 4 Tokens", "9 Serve", ":name")
}

// : jumps to a tab by its name or the start of it, as in k9s; esc
// cancels; a name no tab has is an error that lists the names.
func TestJumpToTabByName(t *testing.T) {
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, nineTabs()...), 80, 24)
	term.WaitFor("screen Home")
	term.Type(":tokens")
	term.WaitFor(":tokens", "enter go • esc cancel")
	term.Press("enter")
	term.WaitFor("screen Tokens")
	term.Type(":debug")
	term.Press("enter")
	term.WaitFor("screen Debugger")
	term.Type(":PROF")
	term.Press("enter")
	term.WaitFor("screen Profiles")
	term.Type(":home")
	term.Press("esc")
	term.WaitGone(":home")
	if f := term.Frame(); !strings.Contains(f, "screen Profiles") {
		t.Fatalf("esc went somewhere:\n%s", f)
	}
	term.Type(":nope")
	term.Press("enter")
	term.WaitFor(`no tab is called "nope"`, ":tokens")
	// A pasted name goes to the prompt, not to the screen.
	term.Type(":")
	term.WaitFor("enter go • esc cancel")
	term.Paste("serve")
	term.WaitFor(":serve")
	term.Press("enter")
	term.WaitFor("screen Serve")
}

// Below 80×24 the console says so, and draws again when the terminal
// grows; q still quits.
func TestTerminalTooSmall(t *testing.T) {
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, newFake("Home")), 80, 24)
	term.WaitFor("screen Home")
	term.Resize(79, 24)
	term.WaitFor("terminal too small (need 80×24)", "this one is 79×24")
	term.Resize(100, 23)
	term.WaitFor("terminal too small (need 80×24)", "this one is 100×23")
	term.Resize(80, 24)
	term.WaitFor("screen Home 80x20")
	term.Resize(60, 20)
	term.WaitFor("terminal too small")
	term.Press("q")
	term.WaitFinished(t)
}

// The footer keeps / filter, ? help and q quit when the list's own keys
// do not fit; g and G go to the first and the last row.
func TestFooterKeepsFilterHelpQuitAndGJumps(t *testing.T) {
	store := &things{m: map[string]string{}}
	for _, n := range []string{"a1", "a2", "a3", "a4", "a5"} {
		store.m[n] = "x"
	}
	var actions []tui.Action[thing]
	for _, k := range []string{"b", "c", "f", "h", "i", "m", "n", "o"} {
		actions = append(actions, tui.Action[thing]{Key: tui.Keys(k, "a rather long action "+k, k), Do: func(thing) tea.Cmd { return nil }})
	}
	l := tui.NewList(tui.NewStyles(false), tui.ListConfig[string, thing]{
		Title: "Things", Noun: "things",
		Columns: []tui.Column{{Title: "NAME", Width: 10}},
		Key:     func(t thing) string { return t.name },
		Row:     func(t thing) tui.Row { return tui.Row{Cells: []string{t.name}} },
		Load:    store.list,
		Actions: actions,
	})
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono()}, l), 80, 24)
	frame := term.WaitFor("▸a1")
	lines := strings.Split(strings.TrimRight(frame, "\n"), "\n")
	footer := lines[len(lines)-1]
	// The global keys come first, then the row's, cut with "…".
	if !strings.HasPrefix(footer, "/ filter • ? help • q quit • b a rather long action b") || !strings.HasSuffix(footer, "…") {
		t.Fatalf("footer %q", footer)
	}
	term.Type("G")
	term.WaitFor("▸a5", "5/5")
	term.Type("g")
	term.WaitFor("▸a1", "1/5")
}

// Wrapped text breaks at spaces only: a command in a message keeps its
// flags whole ("--role", not "--" and "role").
func TestWrapKeepsFlagsWhole(t *testing.T) {
	msg := "create it by hand (oidcctl user add sid1 --email … --role …), or give the profile a role map"
	for w := 20; w <= 80; w++ {
		lines := tui.Wrap(msg, w)
		for _, l := range lines {
			if ansi.StringWidth(l) > w {
				t.Fatalf("width %d: line %q is wider", w, l)
			}
			if strings.HasSuffix(l, "-") || strings.HasPrefix(l, "role …") || strings.HasPrefix(l, "email …") {
				t.Fatalf("width %d: a flag broken at a hyphen:\n%s", w, strings.Join(lines, "\n"))
			}
		}
		if strings.Join(lines, " ") != msg {
			t.Fatalf("width %d: the words changed:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	if got := tui.Wrap("abcdefghij", 4); strings.Join(got, "|") != "abcd|efgh|ij" {
		t.Fatalf("a word wider than the line: %q", got)
	}
	if got := tui.Wrap("  {\n    \"a\": 1", 20); strings.Join(got, "|") != `  {|    "a": 1` {
		t.Fatalf("indentation lost: %q", got)
	}
}

// A table's empty-state hint wraps rather than being cut.
func TestTableEmptyHintWraps(t *testing.T) {
	tb := tui.NewRowTable(tui.NewStyles(false), tui.Column{Title: "TIME", Width: 8})
	hint := "No call recorded yet: oidcctl serve records the calls of webservices with the debugger on."
	tb.SetEmpty(hint)
	tb.SetSize(40, 8)
	v := tuitest.Plain(tb.View())
	var words []string
	for _, l := range strings.Split(v, "\n")[1:] {
		words = append(words, strings.Fields(l)...)
	}
	if got := strings.Join(words, " "); !strings.HasPrefix(got, hint) {
		t.Fatalf("the hint is cut:\n%s", v)
	}
}
