package tui

import (
	"sync/atomic"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// Screen is one page of the console. Screens are pointers whose Update
// changes them in place and returns themselves (or another screen to
// replace them). Update does no I/O: store and provider calls are
// commands whose results come back as messages that implement Addressed.
type Screen interface {
	// ID names this screen instance; see NewID.
	ID() ID
	// Init returns the first command, such as loading data. The shell calls
	// it when the screen first becomes active.
	Init() tea.Cmd
	Update(msg tea.Msg) (Screen, tea.Cmd)
	// View renders the screen into the size last given to SetSize.
	View() string
	// Title is the name in the tab bar and the breadcrumb.
	Title() string
	// KeyMap is the screen's keys, for the help line and the full help.
	KeyMap() help.KeyMap
	// SetSize gives the screen the space it has: the terminal minus the
	// shell's rows.
	SetSize(width, height int)
}

// Capturer is implemented by screens that sometimes take every key, such
// as a form or a filter being typed: while Capturing is true the shell
// passes them every key but ctrl+c, so that q, esc, tab and digits reach
// the screen.
type Capturer interface {
	Capturing() bool
}

// Guard is implemented by screens that hold unsaved work, such as a form
// with changes: while Guards is true the shell hands them ctrl+c instead
// of quitting, and they ask before the work is lost.
type Guard interface {
	Guards() bool
}

// Shorter is implemented by top-level screens whose title is too long
// for the tab bar at 80 columns: ShortTitle is the abbreviation shown
// there ("Prof" for "Profiles").
type Shorter interface {
	ShortTitle() string
}

// Closer is implemented by screens that hold something while shown, such
// as a login waiting for its callback: the shell calls Close when the
// screen is popped or replaced, and when the console quits.
type Closer interface {
	Close()
}

// ID names a screen instance.
type ID int64

var lastID atomic.Int64

// NewID returns an ID no other screen has.
func NewID() ID { return ID(lastID.Add(1)) }

// Addressed is a message for one screen instance: the shell hands it to
// that screen wherever it is in the stacks, and drops it when the screen
// is gone.
type Addressed interface {
	Recipient() ID
}

// To is embedded in a screen's result messages to address them.
type To ID

// Recipient implements Addressed.
func (t To) Recipient() ID { return ID(t) }

// ActivatedMsg is sent to a screen that becomes the active one again: its
// tab was chosen, or the screen above it was popped.
type ActivatedMsg struct{}

// DeactivatedMsg is sent to the active screen when another takes its
// place without removing it: another tab is chosen, or a screen is pushed
// on top. Screens stop background work that only matters while shown.
type DeactivatedMsg struct{}

// ResizedMsg is sent to the active screen after the terminal's size
// changed and SetSize gave it its new size: a screen that reads only the
// rows it shows reads those the new size shows. The others get their
// size with SetSize and are told ActivatedMsg when shown again.
type ResizedMsg struct{}

// PushMsg asks the shell to put a screen on top of the current tab's stack.
type PushMsg struct{ Screen Screen }

// PopMsg asks the shell to remove the top screen of the current tab.
type PopMsg struct{}

// SwitchTabMsg asks the shell to show the top-level tab with this title.
type SwitchTabMsg struct{ Title string }

// SelectMsg asks the active screen to put its cursor on the item with
// this key, once it has it: a form sends it to the list under it after
// adding an item.
type SelectMsg struct{ Key string }

// ErrorMsg shows an error in the status line until the next key.
type ErrorMsg struct{ Err error }

// ToastMsg shows a short success message in the status line for a few
// seconds.
type ToastMsg struct{ Text string }

// CopyMsg asks the shell to put text on the terminal's clipboard by OSC 52.
type CopyMsg struct{ Text string }

// Push returns a command that pushes s.
func Push(s Screen) tea.Cmd { return func() tea.Msg { return PushMsg{s} } }

// Pop returns a command that pops the top screen.
func Pop() tea.Cmd { return func() tea.Msg { return PopMsg{} } }

// SwitchTab returns a command that shows the tab with this title.
func SwitchTab(title string) tea.Cmd { return func() tea.Msg { return SwitchTabMsg{title} } }

// ShowError returns a command that shows err in the status line; nil err
// gives a nil command.
func ShowError(err error) tea.Cmd {
	if err == nil {
		return nil
	}
	return func() tea.Msg { return ErrorMsg{err} }
}

// Select returns a command that asks the active screen to put its cursor
// on the item with key; "" gives a nil command.
func Select(key string) tea.Cmd {
	if key == "" {
		return nil
	}
	return func() tea.Msg { return SelectMsg{key} }
}

// Toast returns a command that shows text in the status line for a while.
func Toast(text string) tea.Cmd { return func() tea.Msg { return ToastMsg{text} } }

// Copy returns a command that copies text to the terminal's clipboard.
func Copy(text string) tea.Cmd { return func() tea.Msg { return CopyMsg{text} } }
