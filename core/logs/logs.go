// Package logs builds oidcctl's slog loggers: text for a terminal, JSON
// for files and pipes, and under systemd (JOURNAL_STREAM) lines that carry
// their syslog priority as the sd-daemon "<N>" prefix, so that
// journalctl -p warning finds the warnings.
//
// Every format leaves out attributes without a value (an empty string, a
// nil error): a line says what is known, not what is not.
package logs

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
)

// Format is how log lines are written.
type Format int

const (
	// Text is slog's key=value text, for a person at a terminal.
	Text Format = iota
	// JSON is one JSON object a line, for files and log collectors.
	JSON
	// Journal is JSON with the sd-daemon priority prefix ("<4>" for a
	// warning) and without the time, which journald records itself.
	Journal
)

// Options say how New logs.
type Options struct {
	Level  slog.Leveler
	Format Format
}

// New returns a logger that writes to w.
func New(w io.Writer, o Options) *slog.Logger {
	if o.Format != Journal {
		opts := &slog.HandlerOptions{Level: o.Level, ReplaceAttr: dropEmpty}
		if o.Format == JSON {
			return slog.New(slog.NewJSONHandler(w, opts))
		}
		return slog.New(slog.NewTextHandler(w, opts))
	}
	opts := &slog.HandlerOptions{Level: o.Level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return dropEmpty(groups, a)
	}}
	mu := new(sync.Mutex)
	h := &journalHandler{level: o.Level}
	for i, p := range priorities {
		h.byPriority[i] = slog.NewJSONHandler(&prefixWriter{w: w, mu: mu, prefix: "<" + strconv.Itoa(p.priority) + ">"}, opts)
	}
	return slog.New(h)
}

// dropEmpty leaves out attributes that carry nothing.
func dropEmpty(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if a.Value.String() == "" {
			return slog.Attr{}
		}
	case slog.KindAny:
		if a.Value.Any() == nil {
			return slog.Attr{}
		}
	}
	return a
}

// priorities maps slog levels to syslog priorities (sd-daemon(3)),
// from the most severe.
var priorities = [...]struct {
	min      slog.Level
	priority int
}{
	{slog.LevelError, 3},      // LOG_ERR
	{slog.LevelWarn, 4},       // LOG_WARNING
	{slog.LevelInfo, 6},       // LOG_INFO
	{slog.Level(-1 << 30), 7}, // LOG_DEBUG
}

// journalHandler hands a record to the JSON handler that writes its
// priority's prefix.
type journalHandler struct {
	level      slog.Leveler
	byPriority [len(priorities)]slog.Handler
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.byPriority[0].Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	for i, p := range priorities {
		if r.Level >= p.min {
			return h.byPriority[i].Handle(ctx, r)
		}
	}
	return nil
}

func (h *journalHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := &journalHandler{level: h.level}
	for i, s := range h.byPriority {
		n.byPriority[i] = s.WithAttrs(attrs)
	}
	return n
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	n := &journalHandler{level: h.level}
	for i, s := range h.byPriority {
		n.byPriority[i] = s.WithGroup(name)
	}
	return n
}

// prefixWriter writes each line with its prefix in one write, under a
// lock shared by the writers of all priorities.
type prefixWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	line := make([]byte, 0, len(p.prefix)+len(b))
	line = append(append(line, p.prefix...), b...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(line); err != nil {
		return 0, err
	}
	return len(b), nil
}
