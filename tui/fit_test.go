package tui_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"oidcctl/tui"
)

// Fit cuts a detail pane's lines with "…", and wraps a page's under their
// value: after a label (a word or two and two spaces), else from the
// first column; a word wider than the room breaks where it must.
func TestFit(t *testing.T) {
	st := tui.NewStyles(true) // styled labels must measure as plain text
	label := st.Muted.Render
	lines := []string{
		label("call     ") + "/ws/tickets/t → http://otobo.example.org/otobo/nph-genericinterface.pl/Webservice/Tickets",
		label("hands out  ") + "access_token",
		"needs a login: press o on the account in Accounts, or run oidcctl account authorize",
	}
	cut := strings.Split(tui.Fit(lines, 40, false), "\n")
	want := []string{
		"call     /ws/tickets/t → http://otobo.e…",
		"hands out  access_token",
		"needs a login: press o on the account i…",
	}
	for i, l := range cut {
		if got := ansi.Strip(l); got != want[i] {
			t.Errorf("cut line %d = %q, want %q", i, got, want[i])
		}
	}
	wrapped := strings.Split(ansi.Strip(tui.Fit(lines, 40, true)), "\n")
	wantWrapped := []string{
		"call     /ws/tickets/t →",
		"         http://otobo.example.org/otobo/",
		"         nph-genericinterface.pl/Webserv",
		"         ice/Tickets",
		"hands out  access_token",
		"needs a login: press o on the account in",
		"Accounts, or run oidcctl account",
		"authorize",
	}
	if strings.Join(wrapped, "\n") != strings.Join(wantWrapped, "\n") {
		t.Errorf("wrapped:\n%s\nwant:\n%s", strings.Join(wrapped, "\n"), strings.Join(wantWrapped, "\n"))
	}
	for _, l := range wrapped {
		if ansi.StringWidth(l) > 40 {
			t.Errorf("wider than 40: %q", l)
		}
	}
}
