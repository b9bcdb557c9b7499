package serve

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"oidcctl/core"
	"oidcctl/core/validate"
)

// refusalReasons are the values of the reason label of
// oidcctl_token_refusals_total: validate's reasons, DPoP's (dpop.go), and
// "other" for anything else. The label set is bounded whatever a caller
// sends.
var refusalReasons = append(validate.Reasons(), dpopRefusalReasons()...)

// reasonOther is the label of a reason not in refusalReasons.
const reasonOther = "other"

// newRefusals makes the refusal counter with every reason at zero, so that
// an alert on its rate has a series from the start, and returns the
// series too (metrics.refusal): refusalReasons' in order, then other's.
func newRefusals() (*prometheus.CounterVec, []prometheus.Counter) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oidcctl_token_refusals_total",
		Help: "Incoming tokens refused or not judged (forward-auth and provider webservices), by reason (validate's reasons; other for any else).",
	}, []string{"reason"})
	series := make([]prometheus.Counter, 0, len(refusalReasons)+1)
	for _, r := range refusalReasons {
		series = append(series, c.WithLabelValues(string(r)))
	}
	return c, append(series, c.WithLabelValues(reasonOther))
}

// accountCollector reports, at every scrape and from the store (another
// process may have refreshed), how many accounts need a person to log in
// and how long each refresh token has left, so that an alert fires days
// before a person must log in again.
type accountCollector struct {
	store core.TokenStore
	now   func() time.Time
	log   *slog.Logger
}

var (
	needsAuthDesc = prometheus.NewDesc("oidcctl_accounts_needing_authorization",
		"Functional accounts that only a person can give new tokens (oidcctl account authorize).", nil, nil)
	refreshLeftDesc = prometheus.NewDesc("oidcctl_refresh_token_expires_in_seconds",
		"Seconds until the refresh token of each functional account expires (negative once it has); absent when the account has none or the provider did not say.",
		[]string{"account"}, nil)
)

func (a *accountCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- needsAuthDesc
	ch <- refreshLeftDesc
}

func (a *accountCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	states, err := a.store.TokenStates(ctx)
	if err != nil {
		a.log.Warn("metrics: cannot read token states", "err", err)
		ch <- prometheus.NewInvalidMetric(needsAuthDesc, err)
		return
	}
	now := a.now()
	needs := 0
	for _, st := range states {
		if st.NeedsAuthorization {
			needs++
		}
		if st.Tokens.RefreshToken.IsSet() && !st.Tokens.RefreshExpiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(refreshLeftDesc, prometheus.GaugeValue, st.Tokens.RefreshExpiry.Sub(now).Seconds(), st.Account)
		}
	}
	ch <- prometheus.MustNewConstMetric(needsAuthDesc, prometheus.GaugeValue, float64(needs))
}
