package serve

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"oidcctl/core/validate"
)

// A call's metrics without a label lookup per call: WithLabelValues
// hashes its values and takes a lock on every call, which a flood of
// forward-auth calls pays for several times each. The series below are
// looked up on their first use and kept; a series appears on /metrics
// when it was first used, as with WithLabelValues, and none is ever
// deleted, so a kept series is the registry's own.

// lazy is one series of a vector (a prometheus.Counter or Observer),
// looked up by look on its first use and kept.
type lazy[T any] struct {
	p atomic.Pointer[T]
}

func (l *lazy[T]) get(look func() T) T {
	if s := l.p.Load(); s != nil {
		return *s
	}
	s := look()
	l.p.Store(&s)
	return s
}

// outcomes are the values of the outcome label, for callSeries.
var outcomes = [...]string{outcomeAccepted, outcomeRefused, outcomeUnavailable, outcomeForwarded, outcomeNoToken,
	outcomeUpstreamError, outcomeNotFound, outcomeMethodNotAllowed, outcomeTooLarge, outcomeBadRequest,
	outcomeClientGone, outcomeError}

// callSeries are the series of oidcctl_requests_total and
// oidcctl_request_duration_seconds of one webservice label.
type callSeries struct {
	duration lazy[prometheus.Observer]
	requests [len(outcomes)]lazy[prometheus.Counter]
}

// count counts a call of the label with its outcome and duration.
func (cs *callSeries) count(m *metrics, label, outcome string, seconds float64) {
	counted := false
	for i, o := range outcomes {
		if o == outcome {
			cs.requests[i].get(func() prometheus.Counter { return m.requests.WithLabelValues(label, outcome) }).Inc()
			counted = true
			break
		}
	}
	if !counted {
		m.requests.WithLabelValues(label, outcome).Inc()
	}
	cs.duration.get(func() prometheus.Observer { return m.duration.WithLabelValues(label) }).Observe(seconds)
}

// refusal is the counter of a refusal's reason: its own series when it
// is one of refusalReasons, other's otherwise.
func (m *metrics) refusal(r validate.Reason) prometheus.Counter {
	for i, known := range refusalReasons {
		if known == r {
			return m.refusalCounters[i]
		}
	}
	return m.refusalCounters[len(refusalReasons)]
}

// tableRoute is the call's table's webservice of that name, or nil.
func (c *call) tableRoute(name string) *route {
	if c.table == nil || name == "" {
		return nil
	}
	return c.table.webservices[name]
}
