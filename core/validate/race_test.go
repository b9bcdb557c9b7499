//go:build race

package validate

// raceAllocs is how many allocations more a test allows with the race
// detector, whose sync.Pool drops items at random.
const raceAllocs = 16
