package config

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "16KiB": 16 << 10, "16k": 16 << 10, "1 MiB": 1 << 20, "10MB": 10 << 20, "1GiB": 1 << 30, "512B": 512,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
		if in != "0" && in != "1 MiB" && in != "16k" && in != "10MB" && in != "512B" {
			if back, _ := ParseSize(FormatSize(want)); back != want {
				t.Errorf("FormatSize(%d) = %q does not read back", want, FormatSize(want))
			}
		}
	}
	for _, bad := range []string{"", "-1", "KiB", "1TiB", "ten", "1.5MiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30m": 30 * time.Minute, "2s": 2 * time.Second, "1800": 30 * time.Minute, "7d": 7 * 24 * time.Hour, "0d": 0, "1h30m": 90 * time.Minute,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "d", "7days", "1.5d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	for d, want := range map[time.Duration]string{0: "", 7 * 24 * time.Hour: "7d", 36 * time.Hour: "36h", 90 * time.Minute: "1h30m0s"} {
		if got := FormatDays(d); got != want {
			t.Errorf("FormatDays(%v) = %q, want %q", d, got, want)
		}
	}
}
