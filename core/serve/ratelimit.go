package serve

import (
	"sync"
	"time"
)

// DefaultDebugRate is how many calls per second, per webservice (and for
// forward-auth), the debugger records at most; see Config.DebugRate.
const DefaultDebugRate = 50

// debugLimiter is a token bucket per webservice: the debugger records at
// most rate calls a second of each, with bursts of 4×rate. Beyond that a
// webservice's calls come faster than anyone can read them, and writing
// them all would take the database and the CPU from the calls themselves;
// what is skipped is counted (oidcctl_debug_skipped_total).
type debugLimiter struct {
	rate    float64 // 0: unlimited
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newDebugLimiter(rate int) *debugLimiter {
	return &debugLimiter{rate: float64(max(rate, 0)), buckets: map[string]*bucket{}}
}

// allow reports whether a call of the webservice may be recorded now.
func (l *debugLimiter) allow(webservice string, now time.Time) bool {
	if l.rate == 0 {
		return true
	}
	burst := 4 * l.rate
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[webservice]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		l.buckets[webservice] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
