package tui

import (
	"fmt"
	"time"
)

// Relative says when t is from now for a person: "in 4m12s", "3h5m ago",
// "in 12d", "-" for the zero time. Under an hour it counts seconds, so
// that a countdown redrawn every second moves.
func Relative(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		return "now"
	case d < time.Hour:
		s = d.Truncate(time.Second).String()
	case d < 48*time.Hour:
		s = d.Truncate(time.Minute).String()
		s = s[:len(s)-2] // "3h5m0s" → "3h5m"
	default:
		s = fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

// Stamp shows a time as local date and time to the second, "-" for zero.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// Age is a short duration, for an age: "12s", "3m", "5h", "2d"; "now"
// when negative (a clock a little behind).
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
