package tui

import (
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
)

// Busy is a spinner with a label, for work in progress ("Testing
// discovery…"). The zero value is idle; Start it with NewBusy.
type Busy struct {
	spin  spinner.Model
	label string
	on    bool
}

// NewBusy returns an idle spinner in the styles' primary tone.
func NewBusy(st Styles) Busy {
	return Busy{spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Primary))}
}

// Start shows label with a spinning mark and returns the command that
// turns it.
func (b *Busy) Start(label string) tea.Cmd {
	b.label = label
	if b.on {
		return nil
	}
	b.on = true
	return b.spin.Tick
}

// Stop hides the spinner.
func (b *Busy) Stop() { b.on = false }

// Active reports whether work is in progress.
func (b Busy) Active() bool { return b.on }

// Label is what is in progress.
func (b Busy) Label() string { return b.label }

// Resume returns the command that turns the spinner again after its ticks
// were lost (the screen was not active); nil when idle.
func (b Busy) Resume() tea.Cmd {
	if !b.on {
		return nil
	}
	return b.spin.Tick
}

// Update turns the spinner on its ticks.
func (b *Busy) Update(msg tea.Msg) tea.Cmd {
	if !b.on {
		return nil
	}
	if _, ok := msg.(spinner.TickMsg); !ok {
		return nil
	}
	var cmd tea.Cmd
	b.spin, cmd = b.spin.Update(msg)
	return cmd
}

// View is the spinner and the label, or "" when idle.
func (b Busy) View() string {
	if !b.on {
		return ""
	}
	return b.spin.View() + " " + b.label
}
