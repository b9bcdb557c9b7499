package tui_test

import (
	"fmt"
	"strings"
	"testing"

	"oidcctl/tui"
	"oidcctl/tui/tuitest"
)

func TestPagerScrollsAndSaysWhere(t *testing.T) {
	st := tui.NewStyles(false)
	p := tui.NewPager(st)
	p.SetSize(30, 6) // 5 lines and the footer
	lines := make([]string, 20)
	for i := range lines {
		lines[i] = fmt.Sprintf("line %02d", i+1)
	}
	p.SetContent(strings.Join(lines, "\n"))
	view := tuitest.Plain(p.View())
	if !strings.HasPrefix(view, "line 01\n") || !strings.HasSuffix(view, "lines 1–5 of 20 · ↓ more\n") || !p.Scrollable() {
		t.Fatalf("first page:\n%s", view)
	}
	for _, k := range []string{"down", "j", "space"} {
		if !p.Update(press(k)) {
			t.Fatalf("%s was not used", k)
		}
	}
	if view = tuitest.Plain(p.View()); !strings.HasPrefix(view, "line 08\n") {
		t.Fatalf("after down, j, space:\n%s", view)
	}
	p.Update(press("end"))
	if view = tuitest.Plain(p.View()); !strings.HasSuffix(view, "line 20\nlines 16–20 of 20 · end\n") {
		t.Fatalf("end:\n%s", view)
	}
	// New content keeps the place; left and right are the screen's.
	p.SetContent(strings.Join(lines, "\n") + "\nline 21")
	if view = tuitest.Plain(p.View()); !strings.HasPrefix(view, "line 16\n") {
		t.Fatalf("after new content:\n%s", view)
	}
	if p.Update(press("left")) || p.Update(press("right")) {
		t.Fatal("the pager took left or right")
	}
	p.Update(press("home"))
	if view = tuitest.Plain(p.View()); !strings.HasPrefix(view, "line 01\n") {
		t.Fatalf("home:\n%s", view)
	}
	// Short content: no footer, no keys.
	p.SetContent("one\ntwo")
	if p.Scrollable() || len(p.Bindings()) != 0 || strings.Contains(tuitest.Plain(p.View()), "lines") {
		t.Fatalf("short content:\n%s", p.View())
	}
}

func TestTextWrapsValuesUnderThemselves(t *testing.T) {
	normal := tui.NewStyles(false).Normal
	tx := tui.NewText(tui.NewStyles(false), 40)
	tx.Heading("Claims")
	tx.KV(2, "iss", 5, "https://idp.example/realms/master/protocol", normal)
	tx.KV(2, "a_long_claim_name", 5, "v", normal)
	tx.KV(2, "scope", 5, "openid profile email offline_access", normal)
	// Too little room after the key: the value goes under it.
	tx.KV(2, "a_much_longer_claim_name", 5, "value", normal)
	want := "Claims\n" +
		"  iss    https://idp.example/realms/mast\n" +
		"         er/protocol\n" +
		"  a_long_claim_name  v\n" +
		"  scope  openid profile email\n" +
		"         offline_access\n" +
		"  a_much_longer_claim_name\n" +
		"    value\n"
	if got := tuitest.Plain(tx.String()); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got := tui.Wrap("a bc def", 4); strings.Join(got, "|") != "a bc|def" {
		t.Fatalf("Wrap: %q", got)
	}
	if got := tui.Truncate("abcdef", 4); got != "abc…" {
		t.Fatalf("Truncate: %q", got)
	}
}
