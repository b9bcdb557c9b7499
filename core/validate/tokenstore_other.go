//go:build !unix

package validate

// mapSlab falls back to the heap where there is no mmap.
func mapSlab(n int) ([]byte, error) {
	return make([]byte, n), nil
}

func unmapSlab([]byte) {}
