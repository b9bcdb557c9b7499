package serve_test

import (
	"fmt"
	"strings"
	"testing"

	"oidcctl/core/buildinfo"
)

// TestBuildInfoMetric: /metrics says which build serves, as
// oidcctl_build_info with the version, commit and Go version as labels.
func TestBuildInfoMetric(t *testing.T) {
	h := start(t)
	info := buildinfo.Read()
	want := fmt.Sprintf(`oidcctl_build_info{goversion=%q,revision=%q,version=%q} 1`, info.GoVersion, info.ShortRevision(), info.Version)
	if metrics := h.do("GET", "/metrics", "", nil).body; !strings.Contains(metrics, want) {
		t.Fatalf("/metrics lacks %s", want)
	}
}
