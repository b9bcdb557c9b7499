//go:build !unix

package db

// canWrite is always true where there is no access(2): a database that
// cannot be written then fails at its first write.
func canWrite(string) bool { return true }
