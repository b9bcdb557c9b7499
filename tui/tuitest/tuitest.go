// Package tuitest drives a Bubble Tea model in a real program (through
// teatest) for tests, and reads what it shows: the last frame, as plain
// text. Waiting for text to appear in the last frame, rather than
// anywhere in the output so far, is what makes tests of huh forms, whose
// focus moves asynchronously, deterministic.
package tuitest

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// Updating reports whether the test runs with -update, which rewrites the
// golden files instead of comparing with them. The flag is the one that
// teatest's golden package defines.
func Updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Timeout bounds every wait; the race detector makes things slow.
var Timeout = 15 * time.Second

// Term is a program under test.
type Term struct {
	t   testing.TB
	tm  *teatest.TestModel
	rec *recorder
	out bytes.Buffer // what the program wrote so far
}

// recorder keeps the last frame the program rendered.
type recorder struct {
	model  tea.Model
	mu     sync.Mutex
	frame  string
	frames int
}

func (r *recorder) Init() tea.Cmd { return r.model.Init() }

func (r *recorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := r.model.Update(msg)
	r.model = m
	return r, cmd
}

func (r *recorder) View() tea.View {
	v := r.model.View()
	plain := Plain(v.Content)
	r.mu.Lock()
	r.frame = plain
	r.frames++
	r.mu.Unlock()
	return v
}

// Plain strips styles and trailing blanks from a frame.
func Plain(s string) string {
	lines := strings.Split(ansi.Strip(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

// Start runs m in a width×height terminal until the test ends.
func Start(t testing.TB, m tea.Model, width, height int) *Term {
	t.Helper()
	rec := &recorder{model: m}
	// A 16-colour terminal, as over SSH: the output keeps styles and
	// links (OSC 8), which the frames read by Frame leave out.
	tm := teatest.NewTestModel(t, rec, teatest.WithInitialTermSize(width, height),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ANSI)))
	term := &Term{t: t, tm: tm, rec: rec}
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(Timeout))
	})
	return term
}

// WaitFinished waits until the program has ended (q, ctrl+c).
func (c *Term) WaitFinished(t testing.TB) {
	t.Helper()
	c.tm.WaitFinished(t, teatest.WithFinalTimeout(Timeout))
}

// Frame is the last frame, as plain text.
func (c *Term) Frame() string {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	return c.rec.frame
}

// Send sends a message to the program.
func (c *Term) Send(msg tea.Msg) { c.tm.Send(msg) }

// Type types text, one key a rune.
func (c *Term) Type(s string) {
	for _, r := range s {
		if r == ' ' {
			c.tm.Send(tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
			continue
		}
		c.tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// Paste sends text as a bracketed paste.
func (c *Term) Paste(s string) { c.tm.Send(tea.PasteMsg{Content: s}) }

// Press presses named keys: enter, esc, tab, shift+tab, up, down, left,
// right, space, backspace, home, end, pgup, pgdown, ctrl+<letter>, or a
// single character.
func (c *Term) Press(keys ...string) {
	for _, k := range keys {
		c.tm.Send(Key(k))
	}
}

var named = map[string]rune{
	"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "up": tea.KeyUp, "down": tea.KeyDown,
	"left": tea.KeyLeft, "right": tea.KeyRight, "space": tea.KeySpace, "backspace": tea.KeyBackspace,
	"home": tea.KeyHome, "end": tea.KeyEnd, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "delete": tea.KeyDelete,
}

// Key makes the key press message for a key name (see Press).
func Key(name string) tea.KeyPressMsg {
	var mod tea.KeyMod
	rest := name
	for {
		switch {
		case strings.HasPrefix(rest, "ctrl+"):
			mod |= tea.ModCtrl
			rest = rest[5:]
			continue
		case strings.HasPrefix(rest, "shift+"):
			mod |= tea.ModShift
			rest = rest[6:]
			continue
		case strings.HasPrefix(rest, "alt+"):
			mod |= tea.ModAlt
			rest = rest[4:]
			continue
		}
		break
	}
	if code, ok := named[rest]; ok {
		k := tea.KeyPressMsg{Code: code, Mod: mod}
		if code == tea.KeySpace && mod == 0 {
			k.Text = " "
		}
		return k
	}
	r := []rune(rest)
	if len(r) != 1 {
		panic("tuitest: unknown key " + name)
	}
	if mod != 0 {
		return tea.KeyPressMsg{Code: r[0], Mod: mod}
	}
	return tea.KeyPressMsg{Code: r[0], Text: rest}
}

// Resize tells the program that the terminal has a new size.
func (c *Term) Resize(width, height int) { c.tm.Send(tea.WindowSizeMsg{Width: width, Height: height}) }

// WaitFor waits until the last frame contains every one of texts, and
// returns that frame; it fails the test with the last frame after Timeout.
func (c *Term) WaitFor(texts ...string) string {
	c.t.Helper()
	return c.WaitUntil(strings.Join(texts, " and "), func(f string) bool {
		for _, s := range texts {
			if !strings.Contains(f, s) {
				return false
			}
		}
		return true
	})
}

// Ask types key, waits for the question it brings up (every one of
// texts), compares that frame with the golden file golden and returns it;
// the test then answers.
func (c *Term) Ask(key, golden string, texts ...string) string {
	c.t.Helper()
	c.Type(key)
	f := c.WaitFor(texts...)
	Golden(c.t, golden, f)
	return f
}

// Confirm types key, waits for the question it brings up (every one of
// texts) and answers yes.
func (c *Term) Confirm(key string, texts ...string) {
	c.t.Helper()
	c.Type(key)
	c.WaitFor(texts...)
	c.Type("y")
}

// Discard leaves a form that has changes with esc and answers yes to the
// shell's "Discard changes?".
func (c *Term) Discard() {
	c.t.Helper()
	c.Press("esc")
	c.WaitFor("Discard changes?")
	c.Type("y")
}

// WaitOutput waits until what the program wrote to the terminal so far
// (escape sequences and all) contains raw, such as an OSC 52 sequence.
func (c *Term) WaitOutput(raw string) {
	c.t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		if _, err := io.Copy(&c.out, c.tm.Output()); err != nil {
			c.t.Fatal(err)
		}
		if bytes.Contains(c.out.Bytes(), []byte(raw)) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waited %s for %q in the output", Timeout, raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Output is what the program wrote to the terminal so far, escape
// sequences and all (OSC 8 links, OSC 52 copies).
func (c *Term) Output() string {
	c.t.Helper()
	if _, err := io.Copy(&c.out, c.tm.Output()); err != nil {
		c.t.Fatal(err)
	}
	return c.out.String()
}

// WaitTitle waits until the shell's title row (the breadcrumb, row 2) is
// title: the screen under it is the one shown.
func (c *Term) WaitTitle(title string) string {
	c.t.Helper()
	return c.WaitUntil("the screen "+title, func(f string) bool {
		lines := strings.SplitN(f, "\n", 3)
		return len(lines) > 1 && lines[1] == title
	})
}

// WaitGone waits until the last frame no longer contains text.
func (c *Term) WaitGone(text string) string {
	c.t.Helper()
	return c.WaitUntil("no "+text, func(f string) bool { return !strings.Contains(f, text) })
}

// WaitFocus waits until the focused field of a form (marked ┃ by
// tui.FormTheme) is title. Huh moves focus asynchronously: keys for the
// next field go only after it.
func (c *Term) WaitFocus(title string) string {
	c.t.Helper()
	return c.WaitUntil("focus on "+title, func(f string) bool {
		for _, l := range strings.Split(f, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "┃ "+title) {
				return true
			}
		}
		return false
	})
}

// Field is one field of a form to fill: its title, then the text to type.
type Field [2]string

// Fill fills fields in turn: it waits for each, types, and presses enter.
func (c *Term) Fill(fields ...Field) {
	c.t.Helper()
	for _, f := range fields {
		c.WaitFocus(f[0])
		c.Type(f[1])
		c.Press("enter")
	}
}

// WaitUntil waits until ok holds for the last frame.
func (c *Term) WaitUntil(what string, ok func(frame string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		f := c.Frame()
		if ok(f) {
			return f
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waited %s for %s; the last frame:\n%s", Timeout, what, f)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Golden compares got with testdata/<name>.golden, or writes it with
// -update.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if Updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (run with -update to accept):\n--- want\n%s\n--- got\n%s", name, path, want, got)
	}
}
