package tui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"oidcctl/core"
	"oidcctl/tui"
	"oidcctl/tui/tuitest"
)

func press(name string) tea.KeyPressMsg { return tuitest.Key(name) }

func rows(n int) []tui.Row {
	out := make([]tui.Row, n)
	for i := range out {
		out[i] = tui.Row{Key: fmt.Sprint(i), Cells: []string{fmt.Sprintf("row-%03d", i), fmt.Sprintf("value %d with a long tail that is cut", i)}}
	}
	return out
}

func TestTableScrollsFiltersAndKeepsSelection(t *testing.T) {
	tb := tui.NewRowTable(tui.NewStyles(false), tui.Column{Title: "NAME", Width: 8}, tui.Column{Title: "VALUE", Width: 10, Flex: 1})
	tb.SetSize(40, 7) // header, 5 rows, footer
	tb.SetItems(rows(5000))
	view := tuitest.Plain(tb.View())
	if want := " NAME     VALUE\n▸row-000  value 0 with a long tail that…\n"; !strings.HasPrefix(view, want) {
		t.Fatalf("view:\n%s", view)
	}
	if !strings.HasSuffix(view, "1/5000\n") {
		t.Fatalf("footer:\n%s", view)
	}
	for range 7 {
		tb.Update(press("down"))
	}
	if r, _ := tb.Selected(); r.Key != "7" || !strings.Contains(tb.View(), "row-003") || strings.Contains(tb.View(), "row-002") {
		t.Fatalf("after 7 downs: selected %q\n%s", r.Key, tuitest.Plain(tb.View()))
	}
	tb.Update(press("end"))
	if r, _ := tb.Selected(); r.Key != "4999" {
		t.Fatalf("end selects %q", r.Key)
	}
	tb.Update(press("pgup"))
	if r, _ := tb.Selected(); r.Key != "4994" {
		t.Fatalf("pgup selects %q", r.Key)
	}

	// Filter: typing narrows, enter keeps it, esc clears it.
	tb.Update(press("/"))
	if !tb.Filtering() {
		t.Fatal("/ does not start the filter")
	}
	for _, r := range "row-42" {
		tb.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if tb.Shown() != 110 { // row-420..row-429, row-4200..row-4299
		t.Fatalf("row-42 shows %d rows", tb.Shown())
	}
	tb.Update(press("down")) // arrows move while typing
	tb.Update(press("enter"))
	if tb.Filtering() || tb.FilterText() != "row-42" {
		t.Fatalf("enter: filtering %v, filter %q", tb.Filtering(), tb.FilterText())
	}
	if r, _ := tb.Selected(); r.Key != "421" {
		t.Fatalf("selected %q", r.Key)
	}
	if v := tuitest.Plain(tb.View()); !strings.Contains(v, "filter: row-42  2/110 (of 5000)") {
		t.Fatalf("footer with filter:\n%s", v)
	}
	// New rows keep the cursor on the same key.
	tb.SetItems(rows(5000))
	if r, _ := tb.Selected(); r.Key != "421" {
		t.Fatalf("after SetRows selected %q", r.Key)
	}
	tb.Update(press("esc"))
	if tb.Shown() != 5000 || tb.FilterText() != "" {
		t.Fatalf("esc leaves %d rows, filter %q", tb.Shown(), tb.FilterText())
	}
	tb.Update(press("/"))
	for _, r := range "nothing" {
		tb.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if v := tuitest.Plain(tb.View()); !strings.Contains(v, `No row matches "nothing".`) {
		t.Fatalf("no match:\n%s", v)
	}
}

func TestConfirmDefaultsToNo(t *testing.T) {
	c := tui.NewConfirm(tui.NewStyles(false))
	c.Ask("Delete x?", "It goes for good.", "Delete", "x")
	if answered, yes := c.Update(press("enter")); !answered || yes {
		t.Fatalf("enter answers %v %v; want no", answered, yes)
	}
	c.Ask("Delete x?", "", "Delete", "x")
	c.Update(press("right"))
	if answered, yes := c.Update(press("enter")); !answered || !yes {
		t.Fatalf("right, enter answers %v %v; want yes", answered, yes)
	}
	c.Ask("Delete x?", "", "Delete", "x")
	if answered, yes := c.Update(press("y")); !answered || !yes || c.Active() {
		t.Fatalf("y answers %v %v", answered, yes)
	}
	c.Ask("Delete x?", "", "Delete", "x")
	if answered, yes := c.Update(press("esc")); !answered || yes {
		t.Fatalf("esc answers %v %v", answered, yes)
	}
	c.Ask("Delete profile x?", "Its document goes with it.", "Delete", "x")
	v := tuitest.Plain(c.View(80))
	for _, want := range []string{"Delete profile x?", "Its document goes with it.", "Delete (y)", "Cancel (n)"} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q in\n%s", want, v)
		}
	}
}

func TestQR(t *testing.T) {
	st := tui.NewStyles(false)
	url := "http://127.0.0.1:43123/device?user_code=ABCD-EFGH"
	qr := tui.QR(st, url, 80, 40)
	lines := strings.Split(qr, "\n")
	w := ansi.StringWidth(lines[0])
	// Version 3 (29 modules) plus a quiet zone of 2 on each side.
	if w != 33 || len(lines) != 17 {
		t.Fatalf("QR of %d×%d:\n%s", w, len(lines), qr)
	}
	// The top quiet zone is light (drawn), the finder pattern's top row dark.
	if !strings.HasPrefix(lines[0], "██") || !strings.HasPrefix(lines[1], "██ ▄▄▄▄▄ █") {
		t.Fatalf("unexpected corner:\n%s", qr)
	}
	if tui.QR(st, url, 32, 40) != "" || tui.QR(st, url, 80, 16) != "" {
		t.Fatal("a QR code that does not fit is drawn")
	}
	if c := tui.QR(tui.NewStyles(true), url, 80, 40); !strings.Contains(c, "\x1b[") {
		t.Fatal("with colour the QR code sets its colours")
	}
}

func TestStylesHonourNoColor(t *testing.T) {
	env := map[string]string{"NO_COLOR": "1"}
	mono := tui.StylesFromEnv(func(k string) string { return env[k] })
	if mono.Color {
		t.Fatal("NO_COLOR gives colour")
	}
	for tone := tui.ToneNormal; tone <= tui.ToneError; tone++ {
		out := mono.Tone(tone).Render("x")
		if strings.Contains(out, "[3") || strings.Contains(out, "[9") || strings.Contains(out, "38;") {
			t.Errorf("tone %d sets a colour without colour: %q", tone, out)
		}
	}
	if out := mono.Selected.Render("x"); !strings.Contains(out, "\x1b[7m") {
		t.Errorf("the selected row is not reverse video without colour: %q", out)
	}
	color := tui.StylesFromEnv(func(string) string { return "" })
	if out := color.Error.Render("x"); !strings.Contains(out, "\x1b[1;31m") {
		t.Errorf("error in colour: %q (want the 16-colour red)", out)
	}
	if dumb := tui.StylesFromEnv(func(k string) string { return map[string]string{"TERM": "dumb"}[k] }); dumb.Color {
		t.Error("TERM=dumb gives colour")
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{4*time.Minute + 12*time.Second + 300*time.Millisecond, "in 4m12s"},
		{-10 * time.Second, "10s ago"},
		{3*time.Hour + 5*time.Minute + 10*time.Second, "in 3h5m"},
		{-72 * time.Hour, "3d ago"},
		{100 * time.Millisecond, "now"},
	} {
		if got := tui.Relative(now.Add(c.d), now); got != c.want {
			t.Errorf("Relative(%s) = %q, want %q", c.d, got, c.want)
		}
	}
	if tui.Relative(time.Time{}, now) != "-" {
		t.Error("zero time")
	}
}

func TestFormScreen(t *testing.T) {
	var name, note string
	saves := 0
	build := func() *huh.Form {
		return huh.NewForm(huh.NewGroup(tui.Input("Name", &name), tui.Input("Note", &note)).Title("Thing"))
	}
	save := func(context.Context) (tui.Saved, error) {
		saves++
		if name == "bad" {
			return tui.Saved{}, &core.ValidationError{Kind: "thing", Name: name, Problems: []core.FieldError{{Field: "name", Problem: "is bad"}, {Field: "note", Problem: "is missing"}}}
		}
		if name == "taken" {
			return tui.Saved{}, errors.New(`thing "taken" already exists`)
		}
		return tui.Saved{Toast: "Thing " + name + " saved."}, nil
	}
	home := newFake("Home")
	home.onKey = func(k tea.KeyPressMsg) tea.Cmd {
		if k.String() == "a" {
			return tui.Push(tui.NewForm(tui.NewStyles(false), "Add thing", build, save).Watch(&name, &note))
		}
		return nil
	}
	term := tuitest.Start(t, tui.New(tui.Options{Styles: mono(), ToastFor: time.Hour}, home), 80, 24)
	term.WaitFor("screen Home")
	term.Type("a")
	term.WaitFor("┃ Name:", "esc cancel • ctrl+s save")
	term.Type("bad")
	term.Press("ctrl+s")
	term.WaitFor("✗ name is bad", "✗ note is missing", "┃ Name: bad")
	if saves != 1 {
		t.Fatalf("%d saves", saves)
	}
	term.Press("backspace", "backspace", "backspace")
	term.Type("taken")
	term.Press("enter")
	term.WaitFor("┃ Note:")
	term.Press("enter") // the last field submits
	term.WaitFor(`✗ thing "taken" already exists`)
	term.Press("esc") // asks first: what was typed would be lost
	term.WaitFor("Discard changes?", "Discard (y)", "Cancel (n)")
	term.Press("y")
	term.WaitFor("screen Home")
	term.Type("a")
	term.WaitFor("┃ Name: taken") // the values were kept by the caller
	term.Press("backspace", "backspace", "backspace", "backspace", "backspace")
	term.Type("good")
	term.Press("ctrl+s")
	term.WaitFor("✓ Thing good saved.", "screen Home")
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:     "now",
		12 * time.Second: "12s",
		3 * time.Minute:  "3m",
		47 * time.Hour:   "47h",
		72 * time.Hour:   "3d",
	} {
		if got := tui.Age(d); got != want {
			t.Errorf("Age(%s) = %q, want %q", d, got, want)
		}
	}
}

// A generic table renders only the rows in view: a frame costs the same
// at 100 rows or 100,000. The filter renders every item once per change
// of the items, not once per key.
func TestTableRendersOnlyTheRowsInView(t *testing.T) {
	rendered := 0
	tb := tui.NewTable(tui.NewStyles(false), func(n int) int { return n }, func(n int) tui.Row {
		rendered++
		return tui.Row{Cells: []string{fmt.Sprintf("item-%06d", n)}}
	}, tui.Column{Title: "ITEM", Width: 12})
	tb.SetSize(40, 7) // header, 5 rows, footer
	items := make([]int, 100_000)
	for i := range items {
		items[i] = i
	}
	tb.SetItems(items)
	tb.Update(press("end"))
	if v := tb.View(); !strings.Contains(v, "item-099999") || rendered != 5 {
		t.Fatalf("rendered %d rows for one frame:\n%s", rendered, v)
	}
	rendered = 0
	tb.Update(press("/"))
	for _, k := range []string{"9", "9", "9", "9", "8"} {
		tb.Update(press(k))
	}
	if rendered != len(items) {
		t.Fatalf("filtering rendered %d rows, want each item once (%d)", rendered, len(items))
	}
	if r, ok := tb.Selected(); !ok || r != 99998 || tb.Shown() != 1 {
		t.Fatalf("filter 99998: selected %d of %d", r, tb.Shown())
	}
}
