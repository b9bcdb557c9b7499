package serve

import (
	"github.com/prometheus/client_golang/prometheus"

	"oidcctl/core/validate"
)

// registerCache adds the validator's result cache to the metrics: its
// entries and bytes (accepted results, and refusals: the negative cache),
// its byte bounds, and lookups that hit and missed.
func (m *metrics) registerCache(v *validate.Validator) {
	gauge := func(name, help string, kind string, f func(validate.CacheStats) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: name, Help: help, ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 { return float64(f(v.CacheStats())) })
	}
	m.registry.MustRegister(
		gauge("oidcctl_validation_cache_entries", "Cached validation results, by kind (accepted, or refused: the negative cache).",
			"accepted", func(s validate.CacheStats) int { return s.Accepted.Entries }),
		gauge("oidcctl_validation_cache_entries", "Cached validation results, by kind (accepted, or refused: the negative cache).",
			"refused", func(s validate.CacheStats) int { return s.Refused.Entries }),
		gauge("oidcctl_validation_cache_bytes", "Memory held by cached validation results and their tokens, about, by kind.",
			"accepted", func(s validate.CacheStats) int { return s.Accepted.Bytes }),
		gauge("oidcctl_validation_cache_bytes", "Memory held by cached validation results and their tokens, about, by kind.",
			"refused", func(s validate.CacheStats) int { return s.Refused.Bytes }),
		gauge("oidcctl_validation_cache_max_bytes", "The bound of oidcctl_validation_cache_bytes, by kind.",
			"accepted", func(s validate.CacheStats) int { return s.Accepted.MaxBytes }),
		gauge("oidcctl_validation_cache_max_bytes", "The bound of oidcctl_validation_cache_bytes, by kind.",
			"refused", func(s validate.CacheStats) int { return s.Refused.MaxBytes }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "oidcctl_validation_cache_hits_total",
			Help: "Validations answered from the result cache (hit rate: hits / (hits + misses)).",
		}, func() float64 { return float64(v.CacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "oidcctl_validation_cache_misses_total",
			Help: "Validations that found no cached result.",
		}, func() float64 { return float64(v.CacheStats().Misses) }),
	)
}
