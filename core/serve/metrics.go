package serve

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"oidcctl/core"
	"oidcctl/core/buildinfo"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (several servers in one test binary must not collide in the global one).
type metrics struct {
	registry      *prometheus.Registry
	handler       http.Handler
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	validation    *prometheus.HistogramVec
	refreshes     *prometheus.CounterVec
	reloads       *prometheus.CounterVec
	configVersion prometheus.Gauge
	inFlight      prometheus.Gauge
	debugWritten  prometheus.Counter
	debugDropped  prometheus.Counter
	debugSkipped  *prometheus.CounterVec
	refusals      *prometheus.CounterVec
	// dpopReplayErrors counts the failures of Config.SharedReplay.
	dpopReplayErrors prometheus.Counter

	// refusalCounters are refusals' series (metrics.refusal);
	// forwardAuth the series of the forward-auth label (metricscache.go).
	refusalCounters []prometheus.Counter
	forwardAuth     callSeries
}

// newMetrics builds the metrics; refreshes are counted by the server's
// TokenWatch.
func newMetrics(store core.TokenStore, refreshes *prometheus.CounterVec, log *slog.Logger, now func() time.Time) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oidcctl_requests_total",
			Help: "Calls served, by webservice (forward-auth for /auth, empty for unknown routes) and outcome.",
		}, []string{"webservice", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "oidcctl_request_duration_seconds",
			Help:    "Time to serve a call, upstream included, by webservice.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"webservice"}),
		validation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "oidcctl_validation_duration_seconds",
			Help:    "Time to validate an incoming token, by profile (cached results take about a microsecond).",
			Buckets: []float64{.000005, .00001, .000025, .00005, .0001, .00025, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"profile"}),
		refreshes: refreshes,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oidcctl_config_reloads_total",
			Help: "Loads of the configuration (profiles, accounts, webservices) from the database, by result.",
		}, []string{"result"}),
		configVersion: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "oidcctl_config_version",
			Help: "The database's configuration version that is being served.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "oidcctl_requests_in_flight",
			Help: "Calls being served now.",
		}),
		debugWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "oidcctl_debug_entries_written_total",
			Help: "Debugger entries written to the database.",
		}),
		debugDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "oidcctl_debug_dropped_total",
			Help: "Debugger entries dropped because the queue was full or the database failed.",
		}),
		debugSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oidcctl_debug_skipped_total",
			Help: "Calls the debugger did not record because they came faster than its rate per webservice.",
		}, []string{"webservice"}),
		dpopReplayErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "oidcctl_dpop_replay_store_errors_total",
			Help: "DPoP proofs whose jti could not be checked in the database shared by serve instances (judged by this instance's memory alone).",
		}),
	}
	m.refusals, m.refusalCounters = newRefusals()
	reg.MustRegister(m.refusals, &accountCollector{store: store, now: now, log: log}, m.requests, m.duration, m.validation, m.refreshes, m.reloads, m.configVersion,
		m.inFlight, m.debugWritten, m.debugDropped, m.debugSkipped, m.dpopReplayErrors, &expiryCollector{store: store, log: log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(buildInfoGauge(buildinfo.Read()))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
	return m
}

// expiryCollector reports when each account's token expires, read from
// the store at every scrape (another process may have refreshed it).
type expiryCollector struct {
	store core.TokenStore
	log   *slog.Logger
}

var expiryDesc = prometheus.NewDesc("oidcctl_token_expiry_timestamp_seconds",
	"When the access token of each functional account expires, as a Unix time; absent when the account has none.",
	[]string{"account"}, nil)

func (e *expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- expiryDesc }

func (e *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	states, err := e.store.TokenStates(ctx)
	if err != nil {
		e.log.Warn("metrics: cannot read token states", "err", err)
		ch <- prometheus.NewInvalidMetric(expiryDesc, err)
		return
	}
	for _, st := range states {
		if exp, ok := tokenExpiry(st); ok {
			ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, float64(exp.UnixMilli())/1000, st.Account)
		}
	}
}
