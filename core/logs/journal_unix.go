//go:build unix

package logs

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// OnJournal says whether f is the stream systemd connected to the journal:
// journalStream is $JOURNAL_STREAM ("device:inode"), and f must be that
// very file, not one a child inherited the variable for (systemd.exec(5)).
func OnJournal(f *os.File, journalStream string) bool {
	dev, ino, ok := strings.Cut(journalStream, ":")
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return fmt.Sprint(st.Dev) == dev && fmt.Sprint(st.Ino) == ino
}
