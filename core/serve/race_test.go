//go:build race

package serve_test

// raceAllocs is how many allocations more a test allows with the race
// detector, whose sync.Pool drops items at random.
const raceAllocs = 16
