package logs_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"

	"oidcctl/core/logs"
)

// Under the journal every line starts with its syslog priority, so that
// journalctl -p warning finds warnings and errors, carries no time of its
// own, and leaves out attributes without a value.
func TestJournalLinesCarryTheirPriority(t *testing.T) {
	var buf bytes.Buffer
	log := logs.New(&buf, logs.Options{Level: slog.LevelDebug, Format: logs.Journal}).With("instance", "vm:1")
	log.Debug("database open", "path", "/var/lib/oidcctl/oidcctl.db")
	log.Info("serving", "listen", "127.0.0.1:8085", "socket", "")
	log.Warn("endpoint failed", "path", "/invoke/echo", "err", errors.New("connection refused"))
	log.Error("serving failed", "err", nil)
	log.Log(t.Context(), slog.LevelWarn+2, "between warn and error")

	want := []string{
		`<7>{"level":"DEBUG","msg":"database open","instance":"vm:1","path":"/var/lib/oidcctl/oidcctl.db"}`,
		`<6>{"level":"INFO","msg":"serving","instance":"vm:1","listen":"127.0.0.1:8085"}`,
		`<4>{"level":"WARN","msg":"endpoint failed","instance":"vm:1","path":"/invoke/echo","err":"connection refused"}`,
		`<3>{"level":"ERROR","msg":"serving failed","instance":"vm:1"}`,
		`<4>{"level":"WARN+2","msg":"between warn and error","instance":"vm:1"}`,
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("journal lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The level bounds what the journal gets, as it does the other formats.
func TestJournalLevel(t *testing.T) {
	var buf bytes.Buffer
	log := logs.New(&buf, logs.Options{Level: slog.LevelWarn, Format: logs.Journal})
	log.Info("quiet")
	log.Warn("loud")
	if buf.String() != `<4>{"level":"WARN","msg":"loud"}`+"\n" {
		t.Errorf("got %q", buf.String())
	}
}

// Text and JSON leave out empty values too, and quote nothing twice.
func TestNoEmptyFields(t *testing.T) {
	for _, f := range []logs.Format{logs.Text, logs.JSON} {
		var buf bytes.Buffer
		logs.New(&buf, logs.Options{Level: slog.LevelInfo, Format: f}).Info("serving", "socket", "", "err", nil, "path", "/auth", "n", 0)
		out := buf.String()
		if strings.Contains(out, "socket") || strings.Contains(out, "err") || !strings.Contains(out, "n") || strings.Contains(out, `\"`) {
			t.Errorf("format %d: %s", f, out)
		}
	}
}

// OnJournal holds only for the very file JOURNAL_STREAM names.
func TestOnJournal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	stream := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	if !logs.OnJournal(f, stream) {
		t.Errorf("OnJournal(%s) = false for the file itself", stream)
	}
	other, err := os.CreateTemp(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, tc := range []struct {
		f      *os.File
		stream string
	}{{other, stream}, {f, ""}, {f, "garbage"}, {nil, stream}} {
		if logs.OnJournal(tc.f, tc.stream) {
			t.Errorf("OnJournal(%v, %q) = true", tc.f, tc.stream)
		}
	}
}
