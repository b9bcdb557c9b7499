package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Tone is the meaning of a piece of text; Styles turns it into a look.
type Tone int

// The tones.
const (
	ToneNormal Tone = iota
	TonePrimary
	ToneMuted
	ToneSuccess
	ToneWarning
	ToneError
)

// Styles are the console's looks, built once. Screens use these and never
// write a colour themselves. With Color false (NO_COLOR, a monochrome
// terminal) meaning is carried by bold, faint and reverse video, and by
// the words and marks that screens always write (✓, !, ✗).
type Styles struct {
	Color bool

	Normal  lipgloss.Style
	Primary lipgloss.Style // headings, the active tab, names that matter
	Muted   lipgloss.Style // secondary text, hints
	Success lipgloss.Style
	Warning lipgloss.Style
	Error   lipgloss.Style
	Bold    lipgloss.Style

	TabActive   lipgloss.Style
	TabInactive lipgloss.Style
	Title       lipgloss.Style // the breadcrumb row
	Header      lipgloss.Style // table column titles
	Selected    lipgloss.Style // the table row under the cursor
	Box         lipgloss.Style // dialogs
	Button      lipgloss.Style
	ButtonFocus lipgloss.Style

	Help help.Styles
}

// NewStyles builds the styles. Colours are the 16 basic ANSI colours, so
// that they look as meant in a 16-colour terminal; Bubble Tea drops them
// altogether where the terminal has none.
func NewStyles(color bool) Styles {
	s := Styles{Color: color}
	base := lipgloss.NewStyle()
	s.Normal = base
	s.Bold = base.Bold(true)
	s.Selected = base.Reverse(true)
	s.ButtonFocus = base.Reverse(true).Bold(true).Padding(0, 2)
	s.Button = base.Padding(0, 2)
	if color {
		s.Primary = base.Foreground(lipgloss.Blue).Bold(true)
		s.Muted = base.Foreground(lipgloss.BrightBlack)
		s.Success = base.Foreground(lipgloss.Green)
		s.Warning = base.Foreground(lipgloss.Yellow)
		s.Error = base.Foreground(lipgloss.Red).Bold(true)
		s.TabActive = base.Foreground(lipgloss.BrightWhite).Background(lipgloss.Blue).Bold(true).Padding(0, 1)
		s.TabInactive = base.Padding(0, 1)
		s.Title = base.Foreground(lipgloss.Blue).Bold(true)
		s.Header = base.Foreground(lipgloss.BrightBlack).Bold(true)
		s.Box = base.Border(lipgloss.RoundedBorder()).BorderForeground(lipgloss.Blue).Padding(0, 1)
	} else {
		s.Primary = base.Bold(true)
		s.Muted = base.Faint(true)
		s.Success = base
		s.Warning = base.Bold(true)
		s.Error = base.Bold(true)
		s.TabActive = base.Reverse(true).Bold(true).Padding(0, 1)
		s.TabInactive = base.Padding(0, 1)
		s.Title = base.Bold(true)
		s.Header = base.Bold(true).Underline(true)
		s.Box = base.Border(lipgloss.NormalBorder()).Padding(0, 1)
	}
	s.Help = help.Styles{
		ShortKey:       s.Bold,
		ShortDesc:      s.Muted,
		ShortSeparator: s.Muted,
		Ellipsis:       s.Muted,
		FullKey:        s.Bold,
		FullDesc:       s.Muted,
		FullSeparator:  s.Muted,
	}
	return s
}

// StylesFromEnv builds the styles for the environment: without colour when
// NO_COLOR is set to anything (https://no-color.org) or TERM is dumb.
func StylesFromEnv(getenv func(string) string) Styles {
	if getenv == nil {
		return NewStyles(true)
	}
	return NewStyles(getenv("NO_COLOR") == "" && getenv("TERM") != "dumb")
}

// Tone returns the style of a tone.
func (s Styles) Tone(t Tone) lipgloss.Style {
	switch t {
	case TonePrimary:
		return s.Primary
	case ToneMuted:
		return s.Muted
	case ToneSuccess:
		return s.Success
	case ToneWarning:
		return s.Warning
	case ToneError:
		return s.Error
	}
	return s.Normal
}
