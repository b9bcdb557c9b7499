package tui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"
)

// Loads numbers a screen's loads so that only the last one's result is
// taken (an older one may arrive after it), and says whether one came in.
type Loads struct {
	seq  int
	done bool
}

// Next numbers a new load; its result carries the number.
func (l *Loads) Next() int {
	l.seq++
	return l.seq
}

// Take reports whether seq is the last load's: the result to show.
func (l *Loads) Take(seq int) bool {
	if seq != l.seq {
		return false
	}
	l.done = true
	return true
}

// Done reports whether a load's result came in.
func (l Loads) Done() bool { return l.done }

// Loaded is the result of a load started with Load, for screen To.
type Loaded[T any] struct {
	To
	Seq   int
	Value T
	Err   error
}

// Load numbers a new load of the screen id in loads and returns the
// command that runs read; the result comes back as a Loaded[T]. No I/O
// happens in Update: read runs in the command.
func Load[T any](loads *Loads, id ID, read func(ctx context.Context) (T, error)) tea.Cmd {
	seq, to := loads.Next(), To(id)
	return func() tea.Msg {
		v, err := read(context.Background())
		return Loaded[T]{To: to, Seq: seq, Value: v, Err: err}
	}
}

// Take takes a load's result: ok when it is the last load's and without
// error. An error comes back as the command that shows it, as "reading
// what: …"; an older load's result is dropped.
func Take[T any](loads *Loads, msg Loaded[T], what string) (v T, cmd tea.Cmd, ok bool) {
	if !loads.Take(msg.Seq) {
		return v, nil, false
	}
	if msg.Err != nil {
		return v, ShowError(fmt.Errorf("reading %s: %w", what, msg.Err)), false
	}
	return msg.Value, nil, true
}
