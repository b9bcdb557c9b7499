package tui

import (
	"context"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Question is what a list asks before an action: the question, a sentence
// on what follows, and the label of the yes button ("Delete").
type Question struct {
	Text, Detail, Yes string
}

// Action is what a key of a list does. It does one of: Reload, Do, Open,
// Run; before that Check may refuse and Ask may ask.
type Action[V any] struct {
	Key key.Binding
	// OnItem says the action is about the selected item: its key does
	// nothing, and is not in the help, while nothing is selected.
	OnItem bool
	// FullHelp keeps the key out of the short help line.
	FullHelp bool
	// Shown, when set, says whether the key is in the help for this item.
	Shown func(V) bool
	// Check refuses the action with an error shown in the status line.
	Check func(V) error
	// Ask is the question asked first; the action runs on yes.
	Ask func(V) Question
	// Reload reads the list again.
	Reload bool
	// Do returns what to do at once, with no I/O (copy to the clipboard).
	Do func(V) tea.Cmd
	// Open builds the screen to push, in a command: it reads what the
	// screen shows afresh from the store, never from the list's rows,
	// which may be older than the last change (a form saved a moment ago).
	// Keys other than the table's wait until it is pushed.
	Open func(ctx context.Context, v V) (Screen, error)
	// Run does the work in a command while a spinner shows Busy(v); its
	// result, a sentence for a toast or an error, is shown and the list
	// reads itself again.
	Run  func(ctx context.Context, v V) (string, error)
	Busy func(V) string
	// Done is called with the item after Run succeeded, before the reload.
	Done func(V)
}

// ListConfig says what a List shows and does.
type ListConfig[K comparable, V any] struct {
	// Title is the name in the tab bar, and Short its abbreviation there
	// when the full names do not fit ("Prof"; "" cuts Title).
	Title, Short string
	// Noun names the items in "Reading users…" and in a read error.
	Noun    string
	Columns []Column
	// Empty is what the table says without items.
	Empty string
	// Key identifies an item across reloads; Row renders it.
	Key func(V) K
	Row RowRenderer[V]
	// Load reads the items, in a command.
	Load func(ctx context.Context) ([]V, error)
	// Detail describes the selected item in DetailRows rows under the table.
	Detail     func(v V, width int) string
	DetailRows int
	// Actions are the list's keys, in the order of the help line.
	Actions []Action[V]
	// Tick, when set, renders the list again that often while it is
	// shown (countdowns), and reads it again every ReloadTicks ticks.
	Tick        time.Duration
	ReloadTicks int
}

// List is a screen that lists items (K comparable, V any) in a Table, with
// a detail pane, keys that act on the selected item, a confirmation before
// what destroys, a spinner while work runs, and a reload after it. Every
// list screen of the console is one, so that they behave alike.
type List[K comparable, V any] struct {
	id      ID
	cfg     ListConfig[K, V]
	table   Table[K, V]
	confirm Confirm
	busy    Busy

	loads   Loads
	opening bool // an Open is on its way
	visible bool
	ticking bool
	ticks   int

	// The action asked about, and its item.
	asked     int
	askedItem V

	// pending is the key of an item just added, for the cursor once a
	// load brings it.
	pending    K
	hasPending bool

	width, height int
}

// NewList returns a list screen.
func NewList[K comparable, V any](st Styles, cfg ListConfig[K, V]) *List[K, V] {
	t := NewTable(st, cfg.Key, cfg.Row, cfg.Columns...)
	if cfg.Empty != "" {
		t.SetEmpty(cfg.Empty)
	}
	return &List[K, V]{id: NewID(), cfg: cfg, table: t, confirm: NewConfirm(st), busy: NewBusy(st)}
}

type (
	listOpenedMsg struct {
		To
		screen Screen
		err    error
	}
	listDoneMsg struct {
		To
		toast string
		err   error
		done  func()
	}
	listTickMsg struct{ To }
)

func (l *List[K, V]) ID() ID        { return l.id }
func (l *List[K, V]) Title() string { return l.cfg.Title }

// ShortTitle implements Shorter.
func (l *List[K, V]) ShortTitle() string { return l.cfg.Short }
func (l *List[K, V]) Capturing() bool    { return l.table.Filtering() || l.confirm.Active() }

func (l *List[K, V]) Init() tea.Cmd {
	l.visible = true
	return tea.Batch(l.load(), l.startTick())
}

func (l *List[K, V]) SetSize(w, h int) {
	l.width, l.height = w, h
	l.table.SetSize(w, max(3, h-l.cfg.DetailRows-1))
}

// Selected is the item under the cursor.
func (l *List[K, V]) Selected() (V, bool) { return l.table.Selected() }

// Loaded reports whether the first load is in.
func (l *List[K, V]) Loaded() bool { return l.loads.Done() }

func (l *List[K, V]) KeyMap() help.KeyMap {
	switch {
	case l.confirm.Active():
		return KeyMap{Short: l.confirm.Bindings()}
	case l.table.Filtering():
		return KeyMap{Short: l.table.Bindings()}
	}
	v, ok := l.table.Selected()
	var short, full []key.Binding
	for _, a := range l.cfg.Actions {
		if a.OnItem && !ok || ok && a.Shown != nil && !a.Shown(v) {
			continue
		}
		if !a.FullHelp {
			short = append(short, a.Key)
		}
		full = append(full, a.Key)
	}
	return KeyMap{Short: slices.Concat(short, l.table.Bindings()), Full: [][]key.Binding{full, l.table.FullBindings()}}
}

func (l *List[K, V]) load() tea.Cmd { return Load(&l.loads, l.id, l.cfg.Load) }

func (l *List[K, V]) startTick() tea.Cmd {
	if l.cfg.Tick <= 0 || l.ticking {
		return nil
	}
	l.ticking = true
	return l.tick()
}

func (l *List[K, V]) tick() tea.Cmd {
	to := To(l.id)
	return tea.Tick(l.cfg.Tick, func(time.Time) tea.Msg { return listTickMsg{to} })
}

func (l *List[K, V]) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case Loaded[[]V]:
		items, cmd, ok := Take(&l.loads, msg, l.cfg.Noun)
		if ok {
			l.table.SetItems(items)
			l.selectPending()
		}
		return l, cmd
	case SelectMsg:
		if k, ok := any(msg.Key).(K); ok {
			l.pending, l.hasPending = k, true
			l.selectPending()
		}
		return l, nil
	case listOpenedMsg:
		l.opening = false
		if msg.err != nil {
			return l, ShowError(msg.err)
		}
		if !l.visible {
			return l, nil // the person went elsewhere meanwhile
		}
		return l, Push(msg.screen)
	case listDoneMsg:
		l.busy.Stop()
		if msg.err != nil {
			return l, tea.Batch(ShowError(msg.err), l.load())
		}
		if msg.done != nil {
			msg.done()
		}
		return l, tea.Batch(Toast(msg.toast), l.load())
	case listTickMsg:
		// The rows move only while shown; coming back reloads.
		if !l.visible {
			l.ticking = false
			return l, nil
		}
		l.ticks++
		cmd := l.tick()
		if l.cfg.ReloadTicks > 0 && l.ticks%l.cfg.ReloadTicks == 0 {
			cmd = tea.Batch(cmd, l.load())
		}
		return l, cmd
	case ActivatedMsg:
		l.visible = true
		return l, tea.Batch(l.load(), l.busy.Resume(), l.startTick())
	case DeactivatedMsg:
		l.visible = false
		return l, nil
	case tea.KeyPressMsg:
		return l, l.handleKey(msg)
	}
	if l.table.Filtering() {
		_, cmd := l.table.Update(msg)
		return l, cmd
	}
	return l, l.busy.Update(msg)
}

// selectPending puts the cursor on the item just added, clearing a
// filter that hides it, once the items hold it.
func (l *List[K, V]) selectPending() {
	if !l.hasPending {
		return
	}
	if _, ok := l.table.Item(l.pending); !ok {
		return // not read yet: the next load brings it
	}
	if !l.table.SelectKey(l.pending) {
		l.table.ClearFilter()
		l.table.SelectKey(l.pending)
	}
	l.hasPending = false
}

func (l *List[K, V]) handleKey(k tea.KeyPressMsg) tea.Cmd {
	l.hasPending = false // the person moves on: a late load must not move the cursor
	if l.confirm.Active() {
		if answered, yes := l.confirm.Update(k); answered && yes {
			// The item as last read: a reload may have come meanwhile.
			v, ok := l.table.Item(l.cfg.Key(l.askedItem))
			if !ok {
				v = l.askedItem
			}
			return l.run(l.cfg.Actions[l.asked], v)
		}
		return nil
	}
	if used, cmd := l.table.Update(k); used {
		return cmd
	}
	if l.busy.Active() || l.opening {
		return nil
	}
	v, ok := l.table.Selected()
	for i, a := range l.cfg.Actions {
		if !key.Matches(k, a.Key) {
			continue
		}
		if a.OnItem && !ok {
			return nil
		}
		if a.Check != nil {
			if err := a.Check(v); err != nil {
				return ShowError(err)
			}
		}
		if a.Ask != nil {
			q := a.Ask(v)
			l.asked, l.askedItem = i, v
			l.confirm.Ask(q.Text, q.Detail, q.Yes, "")
			return nil
		}
		return l.run(a, v)
	}
	return nil
}

// run does an action on v, asked and checked.
func (l *List[K, V]) run(a Action[V], v V) tea.Cmd {
	to := To(l.id)
	switch {
	case a.Reload:
		return l.load()
	case a.Do != nil:
		return a.Do(v)
	case a.Open != nil:
		l.opening = true
		return func() tea.Msg {
			s, err := a.Open(context.Background(), v)
			return listOpenedMsg{To: to, screen: s, err: err}
		}
	case a.Run != nil:
		var done func()
		if a.Done != nil {
			done = func() { a.Done(v) }
		}
		return tea.Batch(l.busy.Start(a.Busy(v)), func() tea.Msg {
			toast, err := a.Run(context.Background(), v)
			return listDoneMsg{To: to, toast: toast, err: err, done: done}
		})
	}
	return nil
}

func (l *List[K, V]) View() string {
	if !l.loads.Done() {
		return l.table.styles.Muted.Render("Reading " + l.cfg.Noun + "…")
	}
	if l.confirm.Active() {
		// The question takes the room it needs from the table.
		box := l.confirm.View(l.width)
		t := l.table
		t.SetSize(l.width, max(3, l.height-lipgloss.Height(box)-1))
		return t.View() + "\n" + box
	}
	bottom := ""
	if l.busy.Active() {
		bottom = l.busy.View()
	} else if v, ok := l.table.Selected(); ok && l.cfg.Detail != nil {
		bottom = l.cfg.Detail(v, l.width)
	}
	return l.table.View() + "\n" + bottom
}

// ListKeys are the keys that lists share. enter is not edit: it opens the
// row's details (DetailsAction), as on every tab.
var ListKeys = struct{ Add, Edit, Delete, Reload key.Binding }{
	Add:    Keys("a", "add", "a"),
	Edit:   Keys("e", "edit", "e"),
	Delete: Keys("d", "delete", "d", "delete"),
	Reload: Keys("r", "reload", "r"),
}

// ReloadAction is the r key: read the list again.
func ReloadAction[V any]() Action[V] {
	return Action[V]{Key: ListKeys.Reload, Reload: true, FullHelp: true}
}

// DeleteAction is the d key: ask "Delete <what> <name>?" with detail,
// then delete by name behind a spinner.
func DeleteAction[V any](what string, name func(V) string, detail func(V) string, del func(ctx context.Context, name string) error) Action[V] {
	return Action[V]{
		Key: ListKeys.Delete, OnItem: true,
		Ask: func(v V) Question {
			return Question{Text: "Delete " + what + " " + name(v) + "?", Detail: detail(v), Yes: "Delete"}
		},
		Busy: func(v V) string { return "Deleting " + name(v) + "…" },
		Run: func(ctx context.Context, v V) (string, error) {
			if err := del(ctx, name(v)); err != nil {
				return "", err
			}
			return strings.ToUpper(what[:1]) + what[1:] + " " + name(v) + " deleted.", nil
		},
	}
}

// Reread makes an Open that reads the item as stored now, by name, and
// opens the screen made from that: the row shown may be older than the
// last save, and a form made from it would write the old values back.
func Reread[V, T any](name func(V) string, get func(ctx context.Context, name string) (T, error), open func(ctx context.Context, t T) (Screen, error)) func(context.Context, V) (Screen, error) {
	return func(ctx context.Context, v V) (Screen, error) {
		t, err := get(ctx, name(v))
		if err != nil {
			return nil, err
		}
		return open(ctx, t)
	}
}
