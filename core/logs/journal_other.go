//go:build !unix

package logs

import "os"

// OnJournal is false where there is no systemd.
func OnJournal(f *os.File, journalStream string) bool { return false }
