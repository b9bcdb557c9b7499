package tui_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"oidcctl/tui"
	"oidcctl/tui/tuitest"
)

// things is a store of name → value for the list tests: a fake of what a
// screen's store would be.
type things struct {
	mu      sync.Mutex
	m       map[string]string
	deleted []string
}

func (t *things) set(k, v string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[k] = v
}

type thing struct{ name, value string }

func (t *things) list(context.Context) ([]thing, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []thing
	for _, k := range slices.Sorted(maps.Keys(t.m)) {
		out = append(out, thing{k, t.m[k]})
	}
	return out, nil
}

func (t *things) get(_ context.Context, name string) (thing, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.m[name]
	if !ok {
		return thing{}, fmt.Errorf("no thing %s", name)
	}
	return thing{name, v}, nil
}

func (t *things) delete(_ context.Context, name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, name)
	t.deleted = append(t.deleted, name)
	return nil
}

// opened is the screen an edit opens: it shows the value it was made from.
type opened struct{ thing }

func (o *opened) ID() tui.ID                           { return 0 }
func (o *opened) Init() tea.Cmd                        { return nil }
func (o *opened) Update(tea.Msg) (tui.Screen, tea.Cmd) { return o, nil }
func (o *opened) View() string                         { return o.value }
func (o *opened) Title() string                        { return "Edit " + o.name }
func (o *opened) KeyMap() help.KeyMap                  { return tui.KeyMap{} }
func (o *opened) SetSize(int, int)                     {}

func newThingList(store *things) *tui.List[string, thing] {
	name := func(t thing) string { return t.name }
	l := tui.NewList(tui.NewStyles(false), tui.ListConfig[string, thing]{
		Title: "Things", Noun: "things",
		Columns: []tui.Column{{Title: "NAME", Width: 10}, {Title: "VALUE", Width: 10}},
		Key:     name,
		Row:     func(t thing) tui.Row { return tui.Row{Cells: []string{t.name, t.value}} },
		Load:    store.list,
		Detail:  func(t thing, _ int) string { return "value " + t.value },
		Actions: []tui.Action[thing]{
			{Key: tui.ListKeys.Edit, OnItem: true, Open: tui.Reread(name, store.get, func(_ context.Context, t thing) (tui.Screen, error) {
				return &opened{t}, nil
			})},
			tui.DeleteAction("thing", name, func(thing) string { return "" }, store.delete),
			tui.ReloadAction[thing](),
		},
	})
	l.SetSize(60, 12)
	return l
}

// run runs cmd and what it batches, and returns the messages, without
// the spinner's ticks.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, run(c)...)
		}
		return out
	case spinner.TickMsg, nil:
		return nil
	default:
		return []tea.Msg{msg}
	}
}

// feed gives the list msgs and runs what they ask, until the messages
// are for someone else (the shell), which it returns.
func feed(l tui.Screen, msgs ...tea.Msg) []tea.Msg {
	var out []tea.Msg
	for len(msgs) > 0 {
		msg := msgs[0]
		msgs = msgs[1:]
		if _, ok := msg.(tui.Addressed); !ok {
			out = append(out, msg)
			continue
		}
		_, cmd := l.Update(msg)
		msgs = append(msgs, run(cmd)...)
	}
	return out
}

func pressKey(l tui.Screen, key string) []tea.Msg {
	_, cmd := l.Update(tuitest.Key(key))
	return run(cmd)
}

// The edit form is made from the item as stored when e is pressed, not
// from the row the list last read: a change the list has not reloaded
// yet is not lost. Keys wait while the read is on its way.
func TestListOpensFromAFreshRead(t *testing.T) {
	store := &things{m: map[string]string{"a": "v1"}}
	l := newThingList(store)
	feed(l, run(l.Init())...)
	if !strings.Contains(l.View(), "value v1") {
		t.Fatalf("loaded:\n%s", l.View())
	}

	store.set("a", "v2") // behind the list's back
	pending := pressKey(l, "e")
	if again := pressKey(l, "e"); len(again) != 0 {
		t.Fatalf("a second e while the first opens: %v", again)
	}
	out := feed(l, pending...)
	if len(out) != 1 {
		t.Fatalf("after the read: %#v", out)
	}
	push, ok := out[0].(tui.PushMsg)
	if !ok || push.Screen.View() != "v2" {
		t.Fatalf("pushed %#v, want the screen of the stored value v2", out[0])
	}
	if !strings.Contains(l.View(), "value v1") {
		t.Fatal("the list reloaded by itself")
	}
}

// Only the last load's result is shown: an older one arriving after it
// is dropped.
func TestListDropsOlderLoads(t *testing.T) {
	store := &things{m: map[string]string{"a": "old"}}
	l := newThingList(store)
	older := run(l.Init())
	store.set("a", "new")
	newer := pressKey(l, "r")
	feed(l, newer...)
	feed(l, older...)
	if v := l.View(); !strings.Contains(v, "value new") {
		t.Fatalf("an older load replaced a newer one:\n%s", v)
	}
}

// Delete asks first, no being the default; yes deletes behind the
// spinner, during which the list's keys wait, then toasts and reloads.
func TestListConfirmBusyReload(t *testing.T) {
	store := &things{m: map[string]string{"a": "1", "b": "2"}}
	l := newThingList(store)
	feed(l, run(l.Init())...)

	pressKey(l, "d")
	if !strings.Contains(l.View(), "Delete thing a?") || !l.Capturing() {
		t.Fatalf("no question:\n%s", l.View())
	}
	pressKey(l, "enter") // no
	if strings.Contains(l.View(), "Delete thing a?") || len(store.deleted) != 0 {
		t.Fatalf("enter alone deleted, or the question stayed: %v\n%s", store.deleted, l.View())
	}

	pressKey(l, "d")
	work := pressKey(l, "y")
	if !strings.Contains(l.View(), "Deleting a…") {
		t.Fatalf("no spinner while deleting:\n%s", l.View())
	}
	if got := pressKey(l, "e"); len(got) != 0 {
		t.Fatalf("e while busy: %v", got)
	}
	out := feed(l, work...)
	if len(out) != 1 || out[0] != (tui.ToastMsg{Text: "Thing a deleted."}) {
		t.Fatalf("after the delete: %#v", out)
	}
	if v := l.View(); strings.Contains(v, "Deleting") || strings.Contains(v, "value 1") || !strings.Contains(v, "value 2") {
		t.Fatalf("after the delete and reload:\n%s", v)
	}
}
