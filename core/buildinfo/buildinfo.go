// Package buildinfo says which build of oidcctl is running, from the
// information the Go toolchain records in the binary
// (runtime/debug.ReadBuildInfo): the module version, the version control
// revision and the Go version. It is shown by oidcctl version, in the
// serve status and as the oidcctl_build_info metric.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Info describes one build.
type Info struct {
	// Version is the module version: a tag such as v1.2.0 when built
	// with go install oidcctl@v1.2.0, "(devel)" when built from a
	// checkout.
	Version string `json:"version"`
	// Revision is the commit the binary was built from, empty when the
	// build recorded none (go build -buildvcs=false, or no checkout).
	Revision string `json:"revision,omitempty"`
	// Modified says the checkout had changes that are not committed.
	Modified bool `json:"modified,omitempty"`
	// Time is when the commit was made (RFC 3339), empty when unknown.
	Time string `json:"commit_time,omitempty"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo reads Info from the toolchain's record of a build.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	if info.GoVersion == "" {
		info.GoVersion = runtime.Version()
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		case "vcs.time":
			info.Time = s.Value
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		info.Platform = goos + "/" + goarch
	}
	return info
}

// ShortRevision is the first 12 characters of the revision, with
// "-dirty" when the checkout was modified; "" when there is none.
func (i Info) ShortRevision() string {
	rev := i.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && i.Modified {
		rev += "-dirty"
	}
	return rev
}

// String is the one-line form: "v1.2.0 (3f2a…, go1.26.8, linux/amd64)".
func (i Info) String() string {
	parts := []string{}
	if r := i.ShortRevision(); r != "" {
		parts = append(parts, "commit "+r)
	}
	parts = append(parts, i.GoVersion, i.Platform)
	return i.Version + " (" + strings.Join(parts, ", ") + ")"
}

// Short is the version and revision only, for the serve status:
// "v1.2.0" or "(devel) 3f2a1b0c9d8e-dirty".
func (i Info) Short() string {
	if r := i.ShortRevision(); r != "" {
		return i.Version + " " + r
	}
	return i.Version
}
