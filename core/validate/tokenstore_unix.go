//go:build unix

package validate

import "syscall"

// mapSlab maps n bytes of private anonymous memory, outside the heap the
// garbage collector paces; the system gives the pages on first touch.
func mapSlab(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
}

func unmapSlab(b []byte) {
	_ = syscall.Munmap(b)
}
