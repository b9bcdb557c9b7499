//go:build !linux

package validate

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
