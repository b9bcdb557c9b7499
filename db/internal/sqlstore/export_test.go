package sqlstore

// SetSkipProfilesFrom sets skipProfilesFrom for a test and returns what
// puts it back.
func SetSkipProfilesFrom(n int) (restore func()) {
	old := skipProfilesFrom
	skipProfilesFrom = n
	return func() { skipProfilesFrom = old }
}
