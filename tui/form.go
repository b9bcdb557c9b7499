package tui

import (
	"context"
	"errors"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
)

// FormTheme is the huh theme made of the styles: the focused field is
// marked by a bar and bold title in every mode, so that forms read in a
// monochrome terminal too.
func FormTheme(st Styles) huh.Theme {
	return huh.ThemeFunc(func(bool) *huh.Styles {
		t := huh.ThemeBase(true)
		t.FieldSeparator = lipgloss.NewStyle().SetString("\n")
		t.Group.Title = st.Primary
		t.Group.Description = st.Muted
		f := &t.Focused
		f.Base = lipgloss.NewStyle().PaddingLeft(1).BorderStyle(lipgloss.ThickBorder()).BorderLeft(true)
		if st.Color {
			f.Base = f.Base.BorderForeground(lipgloss.Blue)
		}
		f.Card = f.Base
		f.Title = st.Primary
		f.NoteTitle = st.Primary
		f.Description = st.Muted
		f.ErrorIndicator = st.Error.SetString(" *")
		f.ErrorMessage = st.Error.SetString(" *")
		f.SelectSelector = st.Primary.SetString("> ")
		f.Option = st.Normal
		f.SelectedOption = st.Bold
		f.NextIndicator = st.Primary.MarginLeft(1).SetString("→")
		f.PrevIndicator = st.Primary.MarginRight(1).SetString("←")
		f.FocusedButton = st.ButtonFocus
		f.BlurredButton = st.Button
		f.Next = st.ButtonFocus
		f.TextInput.Prompt = st.Primary
		f.TextInput.Placeholder = st.Muted
		f.TextInput.Text = st.Normal
		t.Blurred = *f
		t.Blurred.Base = f.Base.BorderStyle(lipgloss.HiddenBorder())
		t.Blurred.Card = t.Blurred.Base
		t.Blurred.Title = st.Normal
		t.Blurred.SelectSelector = lipgloss.NewStyle().SetString("  ")
		t.Blurred.NextIndicator = lipgloss.NewStyle()
		t.Blurred.PrevIndicator = lipgloss.NewStyle()
		t.Help = st.Help
		return t
	})
}

// YesNo is a boolean field that shows its value as the word yes or no,
// so that it reads without colour.
func YesNo(title string, v *bool) *huh.Select[bool] {
	return huh.NewSelect[bool]().Title(title).Inline(true).
		Options(huh.NewOption("yes", true), huh.NewOption("no", false)).Value(v)
}

// Input is a one-line text field with its title on the same line.
func Input(title string, v *string) *huh.Input {
	return huh.NewInput().Title(title + ": ").Prompt("").Inline(true).Value(v)
}

// FormDoneMsg is the result of saving a form.
type FormDoneMsg struct {
	To
	Toast string
	Err   error
}

// Form is a screen around a huh form: esc cancels it, completing it runs
// Save in a command, and a refusal (core's *ValidationError lists every
// problem) is shown above the form, opened again with what was typed.
type Form struct {
	id     ID
	styles Styles
	title  string
	// Build makes the form, bound to the values it edits; it is called
	// again after a refusal.
	build func() *huh.Form
	// save stores the values and says what it did, for a toast.
	save func(ctx context.Context) (string, error)

	form     *huh.Form
	problems []string
	busy     Busy
	width    int
	height   int
}

// NewForm returns a form screen.
func NewForm(st Styles, title string, build func() *huh.Form, save func(ctx context.Context) (string, error)) *Form {
	return &Form{id: NewID(), styles: st, title: title, build: build, save: save, busy: NewBusy(st)}
}

func (f *Form) ID() ID          { return f.id }
func (f *Form) Title() string   { return f.title }
func (f *Form) Capturing() bool { return true }

// Problems are the problems shown above the form.
func (f *Form) Problems() []string { return f.problems }

func (f *Form) open() tea.Cmd {
	f.form = f.build().WithTheme(FormTheme(f.styles)).WithShowHelp(false).WithShowErrors(true)
	f.size()
	return f.form.Init()
}

func (f *Form) Init() tea.Cmd { return f.open() }

func (f *Form) SetSize(width, height int) {
	f.width, f.height = width, height
	f.size()
}

func (f *Form) size() {
	if f.form == nil || f.width <= 0 {
		return
	}
	h := f.height - f.headerRows()
	f.form.WithWidth(f.width).WithHeight(max(4, h))
}

func (f *Form) headerRows() int {
	if len(f.problems) == 0 {
		return 0
	}
	return lipgloss.Height(f.problemView()) + 1
}

// FormKeys are the keys a form screen adds to huh's: esc cancels, ctrl+s
// saves from any field without walking through the remaining pages.
var FormKeys = struct{ Cancel, Save key.Binding }{
	Cancel: Keys("esc", "cancel", "esc"),
	Save:   Keys("ctrl+s", "save", "ctrl+s"),
}

func (f *Form) KeyMap() help.KeyMap {
	if f.busy.Active() || f.form == nil {
		return KeyMap{}
	}
	// enter and shift+tab first: they are what moves through the form.
	var first, rest []key.Binding
	for _, b := range f.form.KeyBinds() {
		if k := b.Help().Key; strings.Contains(k, "enter") || strings.Contains(k, "tab") {
			first = append(first, b)
		} else {
			rest = append(rest, b)
		}
	}
	own := []key.Binding{FormKeys.Cancel, FormKeys.Save}
	return KeyMap{Short: slices.Concat(own, first, rest), Full: [][]key.Binding{own, first, rest}}
}

func (f *Form) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case FormDoneMsg:
		f.busy.Stop()
		if msg.Err == nil {
			// In this order: a key typed after the toast shows must reach
			// the screen under the form, not the form.
			return f, tea.Sequence(Pop(), Toast(msg.Toast))
		}
		f.problems = problemsOf(msg.Err)
		return f, f.open()
	case ActivatedMsg:
		return f, f.busy.Resume()
	case tea.KeyPressMsg:
		if f.busy.Active() {
			return f, nil
		}
		switch {
		case key.Matches(msg, FormKeys.Cancel):
			return f, Pop()
		case key.Matches(msg, FormKeys.Save):
			return f, f.submit()
		}
	}
	if f.busy.Active() {
		return f, f.busy.Update(msg)
	}
	if f.form == nil {
		return f, nil
	}
	m, cmd := f.form.Update(msg)
	if ff, ok := m.(*huh.Form); ok {
		f.form = ff
	}
	switch f.form.State {
	case huh.StateCompleted:
		return f, tea.Batch(cmd, f.submit())
	case huh.StateAborted:
		return f, Pop()
	}
	return f, cmd
}

func (f *Form) submit() tea.Cmd {
	spin := f.busy.Start("Saving…")
	to, save := To(f.id), f.save
	return tea.Batch(spin, func() tea.Msg {
		text, err := save(context.Background())
		return FormDoneMsg{To: to, Toast: text, Err: err}
	})
}

// problemsOf lists a refusal one problem a line.
func problemsOf(err error) []string {
	var v *core.ValidationError
	if errors.As(err, &v) {
		out := make([]string, len(v.Problems))
		for i, p := range v.Problems {
			out[i] = p.Field + " " + p.Problem
		}
		return out
	}
	return []string{err.Error()}
}

func (f *Form) problemView() string {
	lines := make([]string, len(f.problems))
	for i, p := range f.problems {
		lines[i] = "✗ " + p
	}
	return f.styles.Error.Render(lipgloss.Wrap(strings.Join(lines, "\n"), max(20, f.width), " "))
}

func (f *Form) View() string {
	if f.busy.Active() {
		return f.busy.View()
	}
	if f.form == nil {
		return ""
	}
	if len(f.problems) == 0 {
		return f.form.View()
	}
	return f.problemView() + "\n\n" + f.form.View()
}

// Create is a form's save that adds a new item: fresh makes it, apply
// writes the form's values onto it, add stores it; done says what was
// done, for the toast.
func Create[T any](fresh func() T, apply func(*T) error, add func(context.Context, T) error, done func(T) string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		t := fresh()
		if err := apply(&t); err != nil {
			return "", err
		}
		if err := add(ctx, t); err != nil {
			return "", err
		}
		return done(t), nil
	}
}

// Change is a form's save that writes the form's values (apply) onto the
// stored item name, inside edit's transaction, and says "<What> <name>
// saved.".
func Change[T any](what, name string, edit func(context.Context, string, func(*T) error) (T, error), apply func(*T) error) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if _, err := edit(ctx, name, apply); err != nil {
			return "", err
		}
		return what + " " + name + " saved.", nil
	}
}
