package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// filterLine is a table's `/` filter: the line it is typed in, and
// whether it is being typed (the table then takes every key).
type filterLine struct {
	input  textinput.Model
	typing bool
}

func newFilterLine() filterLine {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "type to filter"
	return filterLine{input: ti}
}

// value is the filter in force.
func (f filterLine) value() string { return f.input.Value() }

// clear drops the filter and stops its typing.
func (f *filterLine) clear() {
	f.typing = false
	f.input.Blur()
	f.input.SetValue("")
}

// filterOutcome is what a message did to a filter line.
type filterOutcome int

const (
	filterNotUsed filterOutcome = iota // not the filter's: the table's, if anyone's
	filterUsed                         // taken, nothing more to do
	filterTyped                        // the text was typed: filter the rows again, from the top
	filterCleared                      // the filter went: show every row
	filterMove                         // an arrow while typing: move the cursor
)

// update hands msg to the filter line: `/` starts typing, enter applies,
// esc clears (when typing, or when a filter is in force), the arrows
// still move while typing, and every other message goes to the input
// while typing.
func (f *filterLine) update(keys TableKeys, msg tea.Msg) (filterOutcome, tea.Cmd) {
	k, isKey := msg.(tea.KeyPressMsg)
	if !f.typing {
		switch {
		case !isKey:
			return filterNotUsed, nil
		case key.Matches(k, keys.Filter):
			f.typing = true
			return filterUsed, f.input.Focus()
		case key.Matches(k, keys.ClearFilter) && f.value() != "":
			f.input.SetValue("")
			return filterCleared, nil
		}
		return filterNotUsed, nil
	}
	if isKey {
		switch {
		case key.Matches(k, keys.ApplyFilter):
			f.typing = false
			f.input.Blur()
			return filterUsed, nil
		case key.Matches(k, keys.ClearFilter):
			f.clear()
			return filterCleared, nil
		case key.Matches(k, keys.Up, keys.Down) && k.Text == "":
			return filterMove, nil
		}
	}
	before := f.value()
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	if f.value() != before {
		return filterTyped, cmd
	}
	return filterUsed, cmd
}

// bindings are the filter's keys for the help line: enter and esc while
// typing, else / (when there are rows or a filter) and esc (when a filter
// is in force).
func (f filterLine) bindings(keys TableKeys, rows bool) []key.Binding {
	switch {
	case f.typing:
		return []key.Binding{keys.ApplyFilter, keys.ClearFilter}
	case f.value() != "":
		return []key.Binding{keys.Filter, keys.ClearFilter}
	case rows:
		return []key.Binding{keys.Filter}
	}
	return nil
}

// all are every key of a table, for the full help.
func (k TableKeys) all() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Filter, k.ClearFilter}
}
