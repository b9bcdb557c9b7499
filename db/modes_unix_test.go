//go:build unix

package db

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"oidcctl/core"
)

// TestFileModes checks the modes of a new directory and database under
// umasks that would widen (0) or narrow them (0077). The umask is
// process-wide, so this test does not run in parallel.
func TestFileModes(t *testing.T) {
	for _, umask := range []int{0o000, 0o022, 0o077} {
		t.Run(fmt.Sprintf("umask %04o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)

			dir := filepath.Join(t.TempDir(), "new", "state")
			path := filepath.Join(dir, FileName)
			d, err := Open(context.Background(), path, newKey(t, "k"))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			// Write, so that the -wal and -shm files exist.
			if err := d.CreateProfile(context.Background(), core.NewProfile("idp")); err != nil {
				t.Fatal(err)
			}
			wantMode(t, dir, fs.ModeDir|0o700)
			wantMode(t, path, 0o600)
			wantMode(t, path+"-wal", 0o600)
			wantMode(t, path+"-shm", 0o600)
		})
	}
}

// TestExistingDirectoryKept checks that Open does not change the mode of a
// directory it did not create (say /var/lib/oidcctl set up by systemd).
func TestExistingDirectoryKept(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), filepath.Join(dir, FileName), newKey(t, "k"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	wantMode(t, dir, fs.ModeDir|0o750)
	wantMode(t, filepath.Join(dir, FileName), 0o600)
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (fs.ModeDir | fs.ModePerm); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}
