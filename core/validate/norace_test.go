//go:build !race

package validate

// raceAllocs is how many allocations more a test allows with the race
// detector (see race_test.go): none without it.
const raceAllocs = 0
