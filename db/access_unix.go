//go:build unix

package db

import "golang.org/x/sys/unix"

// canWrite reports whether this process may write path (a file, or a
// directory to create files in): its mode, owner and file system allow
// it.
func canWrite(path string) bool { return unix.Access(path, unix.W_OK) == nil }
