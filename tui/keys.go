package tui

import "charm.land/bubbles/v2/key"

// GlobalKeys are the keys every screen has.
type GlobalKeys struct {
	Quit      key.Binding
	ForceQuit key.Binding
	Help      key.Binding
	Back      key.Binding
	NextTab   key.Binding
	PrevTab   key.Binding
	Tab       key.Binding // the digits 1-9, for help only
	Jump      key.Binding // : then a tab's name, as in k9s
}

// DefaultGlobalKeys returns the global key map.
func DefaultGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		NextTab:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next tab")),
		PrevTab:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous tab")),
		Tab:       key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "go to tab")),
		Jump:      key.NewBinding(key.WithKeys(":"), key.WithHelp(":name", "tab by name")),
	}
}

// KeyMap is a help.KeyMap made of plain lists, for screens whose keys
// change with their state.
type KeyMap struct {
	Short []key.Binding
	Full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding { return k.Short }

// FullHelp implements help.KeyMap; without Full it is Short as one column.
func (k KeyMap) FullHelp() [][]key.Binding {
	if k.Full == nil && len(k.Short) > 0 {
		return [][]key.Binding{k.Short}
	}
	return k.Full
}

// Keys is a short way to make a binding: keys, then the help key and its
// description.
func Keys(helpKey, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
}
