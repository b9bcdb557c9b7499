package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// PeakRSS is the peak resident set size (VmHWM) of process pid in KiB, 0
// when it cannot be read (the process is gone).
func PeakRSS(pid string) int64 {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// BuildOidcctl builds the oidcctl binary into a temporary directory of
// tb and returns its path.
func BuildOidcctl(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "oidcctl")
	if out, err := exec.Command("go", "build", "-o", bin, "oidcctl/cmd/oidcctl").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
