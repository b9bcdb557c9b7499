package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Run by systemd (JOURNAL_STREAM names standard error), every command's
// log lines carry their priority: a narrowed database file is a warning
// (<4>), opening it a debug line (<7>).
func TestJournalStreamPriorities(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "list")
	if err := os.Chmod(c.env["OIDCCTL_DB"], 0o644); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(stderr.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	c.env["JOURNAL_STREAM"] = fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	var out strings.Builder
	code := run(context.Background(), []string{"profile", "list", "--log-level", "debug"},
		env{stdin: strings.NewReader(""), stdout: &out, stderr: stderr, getenv: func(k string) string { return c.env[k] }})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(stderr.Name())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var warn, debug bool
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, `<4>{"level":"WARN","msg":"database file could be read by others`):
			warn = true
		case strings.HasPrefix(l, `<7>{"level":"DEBUG","msg":"database open"`):
			debug = true
		case !strings.HasPrefix(l, "<"):
			t.Errorf("a line without its priority: %s", l)
		}
	}
	if !warn || !debug {
		t.Errorf("want a <4> warning and a <7> debug line, got:\n%s", b)
	}
}

// --log-level's help says what it defaults to, for serve as for the rest.
func TestLogLevelHelpTellsTheDefaults(t *testing.T) {
	c := newCLI(t)
	out := c.ok("--help")
	if !strings.Contains(out, "(default warn; info for serve)") || strings.Contains(out, `(default "warn")`) {
		t.Errorf("--log-level in --help:\n%s", out)
	}
}
