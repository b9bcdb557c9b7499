//go:build !race

package serve_test

// raceAllocs is how many allocations more a test allows with the race
// detector (see race_test.go): none without it.
const raceAllocs = 0
