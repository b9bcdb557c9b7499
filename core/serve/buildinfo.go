package serve

import (
	"github.com/prometheus/client_golang/prometheus"

	"oidcctl/core/buildinfo"
)

// buildInfoGauge is oidcctl_build_info: always 1, with the build's
// version, commit and Go version as labels, so that a dashboard shows
// which build runs where and an alert can compare them.
func buildInfoGauge(info buildinfo.Info) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "oidcctl_build_info",
		Help: "Always 1; the labels say which build of oidcctl serves: module version, commit (revision, with -dirty for uncommitted changes) and Go version.",
	}, []string{"version", "revision", "goversion"})
	g.WithLabelValues(info.Version, info.ShortRevision(), info.GoVersion).Set(1)
	return g
}
