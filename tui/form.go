package tui

import (
	"context"
	"errors"
	"reflect"
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

// Saved is what a form's save did: the sentence for the toast, and the
// key of the item it added or changed ("" for none), on which the list
// under the form puts its cursor.
type Saved struct {
	Toast string
	Key   string
}

// FormDoneMsg is the result of saving a form.
type FormDoneMsg struct {
	To
	Saved
	Err error
}

// Form is a screen around a huh form: esc cancels it, completing it runs
// Save in a command, and a refusal (core's *ValidationError lists every
// problem) is shown above the form, opened again with what was typed.
// A form that watches its values (Watch) asks "Discard changes?" before
// esc or ctrl+c throws changes away.
type Form struct {
	id     ID
	styles Styles
	title  string
	// Build makes the form, bound to the values it edits; it is called
	// again after a refusal.
	build func() *huh.Form
	// save stores the values and says what it did.
	save func(ctx context.Context) (Saved, error)

	form     *huh.Form
	problems []string
	busy     Busy
	width    int
	height   int

	// watched are the values the form edits, and their copies as they
	// were when the form opened: they differ once the person changed
	// something.
	watched, initial []reflect.Value
	discard          Confirm
}

// NewForm returns a form screen.
func NewForm(st Styles, title string, build func() *huh.Form, save func(ctx context.Context) (Saved, error)) *Form {
	return &Form{id: NewID(), styles: st, title: title, build: build, save: save, busy: NewBusy(st), discard: NewConfirm(st)}
}

// Watch names the values the form edits (pointers, as bound to its
// fields) and remembers them as they are now, so that the form knows when
// they were changed and asks before esc or ctrl+c throws the changes
// away. It returns f.
func (f *Form) Watch(ptrs ...any) *Form {
	for _, p := range ptrs {
		v := reflect.ValueOf(p)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			panic("tui: Form.Watch needs pointers")
		}
		c := reflect.New(v.Elem().Type()).Elem()
		c.Set(v.Elem())
		f.watched = append(f.watched, v.Elem())
		f.initial = append(f.initial, c)
	}
	return f
}

// Unsaved reports whether the watched values differ from what they were
// when the form opened.
func (f *Form) Unsaved() bool {
	for i, v := range f.watched {
		if !reflect.DeepEqual(v.Interface(), f.initial[i].Interface()) {
			return true
		}
	}
	return false
}

// Asking reports whether the form asks whether to discard the changes.
func (f *Form) Asking() bool { return f.discard.Active() }

func (f *Form) ID() ID          { return f.id }
func (f *Form) Title() string   { return f.title }
func (f *Form) Capturing() bool { return true }

// Guards implements Guard: ctrl+c reaches a form with unsaved changes,
// which asks before throwing them away; while it asks, ctrl+c quits.
func (f *Form) Guards() bool { return !f.busy.Active() && !f.discard.Active() && f.Unsaved() }

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
	if f.discard.Active() {
		return KeyMap{Short: f.discard.Bindings()}
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
			// the screen under the form, not the form; the screen under
			// it puts its cursor on what was saved.
			return f, tea.Sequence(Pop(), Select(msg.Key), Toast(msg.Toast))
		}
		f.problems = problemsOf(msg.Err)
		return f, f.open()
	case ActivatedMsg:
		return f, f.busy.Resume()
	case tea.KeyPressMsg:
		if f.busy.Active() {
			return f, nil
		}
		if f.discard.Active() {
			if answered, yes := f.discard.Update(msg); answered && yes {
				return f, Pop()
			}
			return f, nil
		}
		switch {
		case key.Matches(msg, FormKeys.Cancel, formGuardKey):
			return f, f.cancel()
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

// formGuardKey is ctrl+c, which the shell hands to a form with unsaved
// changes instead of quitting.
var formGuardKey = Keys("ctrl+c", "quit", "ctrl+c")

// cancel leaves the form, asking first when that throws changes away.
func (f *Form) cancel() tea.Cmd {
	if !f.Unsaved() {
		return Pop()
	}
	f.discard.Ask("Discard changes?", "What was typed in "+f.title+" is not saved.", "Discard", "")
	return nil
}

func (f *Form) submit() tea.Cmd {
	spin := f.busy.Start("Saving…")
	to, save := To(f.id), f.save
	return tea.Batch(spin, func() tea.Msg {
		saved, err := save(context.Background())
		return FormDoneMsg{To: to, Saved: saved, Err: err}
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
	return f.styles.Error.Render(strings.Join(Wrap(strings.Join(lines, "\n"), max(20, f.width)), "\n"))
}

func (f *Form) View() string {
	if f.busy.Active() {
		return f.busy.View()
	}
	if f.form == nil {
		return ""
	}
	if f.discard.Active() {
		return f.discard.View(f.width)
	}
	if len(f.problems) == 0 {
		return f.form.View()
	}
	return f.problemView() + "\n\n" + f.form.View()
}

// Create is a form's save that adds a new item: fresh makes it, apply
// writes the form's values onto it, add stores it; done says what was
// done, for the toast, and key names the new item, for the cursor of the
// list under the form.
func Create[T any](fresh func() T, apply func(*T) error, add func(context.Context, T) error, key func(T) string, done func(T) string) func(context.Context) (Saved, error) {
	return func(ctx context.Context) (Saved, error) {
		t := fresh()
		if err := apply(&t); err != nil {
			return Saved{}, err
		}
		if err := add(ctx, t); err != nil {
			return Saved{}, err
		}
		return Saved{Toast: done(t), Key: key(t)}, nil
	}
}

// Change is a form's save that writes the form's values (apply) onto the
// stored item name, inside edit's transaction, and says "<What> <name>
// saved.".
func Change[T any](what, name string, edit func(context.Context, string, func(*T) error) (T, error), apply func(*T) error) func(context.Context) (Saved, error) {
	return func(ctx context.Context) (Saved, error) {
		if _, err := edit(ctx, name, apply); err != nil {
			return Saved{}, err
		}
		return Saved{Toast: what + " " + name + " saved.", Key: name}, nil
	}
}
