package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSize reads a byte count: a plain number, or one with K, M or G (KB
// and KiB, MB and MiB, GB and GiB all mean powers of 1024), in any case,
// spaces allowed ("16KiB", "1 MiB", "1048576"). Negative sizes are
// refused; whether 0 or an upper bound is allowed is the caller's to say.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	shift := 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"GIB", 30}, {"MIB", 20}, {"KIB", 10}, {"GB", 30}, {"MB", 20}, {"KB", 10}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0}} {
		if strings.HasSuffix(t, u.suffix) {
			t, shift = strings.TrimSuffix(t, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q: want a size such as 1048576, 16KiB or 10MiB", s)
	}
	return n << shift, nil
}

// FormatSize writes a byte count as ParseSize reads it: 16KiB, 1MiB, or
// the plain number.
func FormatSize(n int64) string {
	switch {
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}

// ParseDuration reads a Go duration ("30m", "2s"), whole days ("7d") or a
// plain number of seconds ("1800"), as the manual gives its TTLs in
// seconds.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(t, "d"); ok && days != "" && strings.Trim(days, "0123456789") == "" {
		n, err := strconv.Atoi(days)
		if err == nil && n <= int(time.Duration(1<<62)/(24*time.Hour)) {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if t != "" && strings.Trim(t, "0123456789") == "" {
		t += "s"
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 30m, 7d or 1800 (seconds)", s)
	}
	return d, nil
}

// FormatDays writes a duration in the largest whole unit ParseDuration
// reads: 7d, 36h, or the Go form; "" for zero.
func FormatDays(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
