package serve

import (
	"github.com/prometheus/client_golang/prometheus"

	"oidcctl/core/discovery"
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
	m.registerKeyCaches(v)
	m.registerUserinfoCache(v)
}

// registerUserinfoCache adds the cached userinfo responses (profiles with
// userinfo claims) to the metrics, like the other caches.
func (m *metrics) registerUserinfoCache(v *validate.Validator) {
	gauge := func(name, help string, f func(validate.UserinfoCacheStats) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(f(v.UserinfoCacheStats())) })
	}
	counter := func(name, help string, f func(validate.UserinfoCacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(v.UserinfoCacheStats())) })
	}
	m.registry.MustRegister(
		gauge("oidcctl_userinfo_cache_entries", "Userinfo responses (and failures, for seconds) held, one per profile and token.",
			func(s validate.UserinfoCacheStats) int { return s.Entries }),
		gauge("oidcctl_userinfo_cache_bytes", "Sizes of the userinfo responses held, about.", func(s validate.UserinfoCacheStats) int { return s.Bytes }),
		gauge("oidcctl_userinfo_cache_max_bytes", "The bound of oidcctl_userinfo_cache_bytes.", func(s validate.UserinfoCacheStats) int { return s.MaxBytes }),
		counter("oidcctl_userinfo_cache_hits_total", "Userinfo lookups answered from the cache.", func(s validate.UserinfoCacheStats) uint64 { return s.Hits }),
		counter("oidcctl_userinfo_cache_misses_total", "Userinfo lookups that called the endpoint.", func(s validate.UserinfoCacheStats) uint64 { return s.Misses }),
	)
}

// registerKeyCaches adds the key-set cache and the discovery documents
// held in memory to the metrics, like the result cache: what they hold,
// their bounds, and lookups that hit and missed.
func (m *metrics) registerKeyCaches(v *validate.Validator) {
	gauge := func(name, help string, f func() int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	counter := func(name, help string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	keys := v.Keys()
	m.registry.MustRegister(
		gauge("oidcctl_jwks_cache_sets", "Key sets (JWKS) held, one per profile and jwks_uri.", func() int { return keys.Stats().Sets }),
		gauge("oidcctl_jwks_cache_bytes", "Sizes of the key sets held, as served.", func() int { return keys.Stats().Bytes }),
		gauge("oidcctl_jwks_cache_max_bytes", "The bound of oidcctl_jwks_cache_bytes.", func() int { return keys.Stats().MaxBytes }),
		counter("oidcctl_jwks_cache_hits_total", "Key lookups answered from a key set held.", func() uint64 { return keys.Stats().Hits }),
		counter("oidcctl_jwks_cache_misses_total", "Key lookups that needed a fetch or failed.", func() uint64 { return keys.Stats().Misses }),
	)
	d, ok := v.Discovery().(*discovery.Client)
	if !ok {
		return
	}
	m.registry.MustRegister(
		gauge("oidcctl_discovery_cache_documents", "Discovery documents held in memory, one per profile and discovery URL.",
			func() int { return d.Stats().Documents }),
		gauge("oidcctl_discovery_cache_bytes", "Sizes of the discovery documents held in memory, as served.", func() int { return d.Stats().Bytes }),
		gauge("oidcctl_discovery_cache_max_bytes", "The bound of oidcctl_discovery_cache_bytes.", func() int { return d.Stats().MaxBytes }),
		counter("oidcctl_discovery_cache_hits_total", "Discovery lookups answered with a fresh document from memory.",
			func() uint64 { return d.Stats().Hits }),
		counter("oidcctl_discovery_cache_misses_total", "Discovery lookups that were not.", func() uint64 { return d.Stats().Misses }),
	)
}
