package main

import (
	"log/slog"
	"os"

	"oidcctl/core/logs"
)

// logger logs to standard error at level in format, or, when standard
// error is the journal systemd connected (JOURNAL_STREAM), as journal
// lines that carry their priority.
func (a *app) logger(level slog.Level, format logs.Format) *slog.Logger {
	if f, ok := a.stderr.(*os.File); ok && logs.OnJournal(f, a.getenv("JOURNAL_STREAM")) {
		format = logs.Journal
	}
	return logs.New(a.stderr, logs.Options{Level: level, Format: format})
}
