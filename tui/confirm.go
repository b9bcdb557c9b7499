package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Confirm is a yes/no question that a screen shows over its content, such
// as "Delete profile keycloak?". No is the default, so that enter alone
// never destroys anything.
type Confirm struct {
	styles   Styles
	question string
	detail   string
	yesLabel string
	active   bool
	yes      bool
	// Tag is what the question is about (a name), for the screen.
	Tag string
}

// ConfirmKeys are the keys of a confirmation.
var ConfirmKeys = struct{ Yes, No, Toggle, Choose key.Binding }{
	Yes:    Keys("y", "yes", "y", "Y"),
	No:     Keys("n/esc", "no", "n", "N", "esc"),
	Toggle: Keys("←/→", "choose", "left", "right", "h", "l", "tab"),
	Choose: Keys("enter", "answer", "enter"),
}

// NewConfirm returns an inactive confirmation.
func NewConfirm(st Styles) Confirm { return Confirm{styles: st} }

// Ask shows the question. yesLabel names the action ("Delete").
func (c *Confirm) Ask(question, detail, yesLabel, tag string) {
	c.question, c.detail, c.yesLabel, c.Tag = question, detail, yesLabel, tag
	c.active, c.yes = true, false
}

// Active reports whether the question is shown.
func (c Confirm) Active() bool { return c.active }

// Update takes a key while the question is shown. answered is true once
// the person chose; yes is their answer.
func (c *Confirm) Update(msg tea.Msg) (answered, yes bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || !c.active {
		return false, false
	}
	switch {
	case key.Matches(k, ConfirmKeys.Yes):
		c.active = false
		return true, true
	case key.Matches(k, ConfirmKeys.No):
		c.active = false
		return true, false
	case key.Matches(k, ConfirmKeys.Toggle):
		c.yes = !c.yes
	case key.Matches(k, ConfirmKeys.Choose):
		c.active = false
		return true, c.yes
	}
	return false, false
}

// Bindings are the keys for the help line.
func (c Confirm) Bindings() []key.Binding {
	return []key.Binding{ConfirmKeys.Yes, ConfirmKeys.No, ConfirmKeys.Toggle, ConfirmKeys.Choose}
}

// View renders the question as a box at most width wide.
func (c Confirm) View(width int) string {
	inner := max(20, min(width-4, 70))
	yes, no := c.styles.Button, c.styles.ButtonFocus
	if c.yes {
		yes, no = c.styles.ButtonFocus, c.styles.Button
	}
	label := c.yesLabel
	if label == "" {
		label = "Yes"
	}
	body := c.styles.Bold.Render(strings.Join(Wrap(c.question, inner), "\n"))
	if c.detail != "" {
		body += "\n" + strings.Join(Wrap(c.detail, inner), "\n")
	}
	body += "\n\n" + yes.Render(label+" (y)") + " " + no.Render("Cancel (n)")
	return c.styles.Box.Width(inner + 4).Render(body)
}
