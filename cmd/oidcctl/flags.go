package main

import (
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"oidcctl/core/config"
)

// durationSyntax is the one syntax of every duration flag, said in each
// flag's help (config.ParseDuration reads it).
const durationSyntax = "DURATION: 90s, 30m, 36h, 7d or seconds"

// durationValue is a time.Duration flag read by config.ParseDuration,
// as the duration flags kept as text are: one syntax for all of them.
type durationValue struct{ d *time.Duration }

func newDuration(p *time.Duration, def time.Duration) *durationValue {
	*p = def
	return &durationValue{p}
}

func (v *durationValue) Set(s string) error {
	d, err := config.ParseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func (v *durationValue) String() string {
	if *v.d == 0 {
		return "0" // pflag shows no default for "0"
	}
	return fmtDuration(*v.d)
}

func (v *durationValue) Type() string { return "DURATION" }

// durationText is a duration flag kept as the text given (the command
// parses it later), checked when it is parsed.
type durationText struct{ s *string }

func newDurationText(p *string, def string) *durationText {
	*p = def
	return &durationText{p}
}

func (v *durationText) Set(s string) error {
	if _, err := config.ParseDuration(s); err != nil {
		return err
	}
	*v.s = s
	return nil
}

func (v *durationText) String() string { return *v.s }
func (v *durationText) Type() string   { return "DURATION" }

// describeDurations ends the help of every duration flag with the
// syntax, so that each command's --help says it.
func describeDurations(c *cobra.Command) {
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Value.Type() == "DURATION" && !strings.Contains(f.Usage, durationSyntax) {
			f.Usage += "; " + durationSyntax
		}
	})
}

// usageDefault is a default a flag's help states in words.
var usageDefault = regexp.MustCompile(` \(default[ :][^)]*\)`)

// noDefaults hides the defaults of an edit command's flags: an edit
// changes only the settings whose flags are given, so a default shown
// there would be one it does not apply.
func noDefaults(c *cobra.Command) {
	c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		switch f.Value.Type() {
		case "bool":
			f.DefValue = "false"
		case "int", "int64", "uint":
			f.DefValue = "0"
		case "stringArray", "stringSlice":
			f.DefValue = "[]"
		default:
			f.DefValue = ""
		}
		f.Usage = usageDefault.ReplaceAllString(f.Usage, "")
	})
}
