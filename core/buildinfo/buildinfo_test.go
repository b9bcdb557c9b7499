package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "oidcctl", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.modified", Value: "true"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		},
	}
	got := FromBuildInfo(bi)
	want := Info{Version: "v1.2.0", Revision: "0123456789abcdef0123", Modified: true, Time: "2026-12-01T10:00:00Z", GoVersion: "go1.26.8", Platform: "linux/arm64"}
	if got != want {
		t.Fatalf("FromBuildInfo = %+v, want %+v", got, want)
	}
	if s := got.String(); s != "v1.2.0 (commit 0123456789ab-dirty, go1.26.8, linux/arm64)" {
		t.Errorf("String = %q", s)
	}
	if s := got.Short(); s != "v1.2.0 0123456789ab-dirty" {
		t.Errorf("Short = %q", s)
	}
	// A build without version control information (-buildvcs=false).
	plain := FromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8"})
	if plain.Version != "(devel)" || plain.Revision != "" || plain.Short() != "(devel)" || strings.Contains(plain.String(), "commit") {
		t.Errorf("without vcs: %+v %q", plain, plain.String())
	}
}

func TestReadInTest(t *testing.T) {
	// A test binary has build information: at least the Go version.
	if got := Read(); got.GoVersion == "" || got.Version == "" || got.Platform == "" {
		t.Fatalf("Read = %+v", got)
	}
}
