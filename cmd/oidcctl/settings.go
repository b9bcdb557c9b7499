package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"oidcctl/core/tokens"
	"oidcctl/tui"
)

// setting is a shared setting that `config set` and `config get` know.
type setting struct {
	key, help, def string
	check          func(string) error
}

// settings are the known settings, in the order `config get` lists them.
var settings = []setting{
	{tokens.SettingSchedule, "cron expression of the token refresh (five fields, or @hourly, @every 10m …)", tokens.DefaultSchedule,
		func(v string) error { _, err := tokens.ParseSchedule(v, ""); return err }},
	{tokens.SettingInterval, "seconds every refresh run looks ahead at least (as the manual's Interval; at most a year)", fmt.Sprint(int(tokens.DefaultInterval.Seconds())),
		func(v string) error { _, err := tokens.ParseSchedule("", v); return err }},
}

func findSetting(key string) (setting, error) {
	for _, s := range settings {
		if s.key == key {
			return s, nil
		}
	}
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return setting{}, usagef("unknown setting %q: oidcctl knows %s", key, strings.Join(keys, ", "))
}

// settingJSON is the -o json form of a setting.
type settingJSON struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Default bool   `json:"default"` // not set: the value is the default
}

func (a *app) configSet() *cobra.Command {
	return &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change a setting shared by every oidcctl on the database (\"\" for the default)",
		Long: `Settings:

  refresh.schedule   cron expression of the token refresh (default "0 * * * *")
  refresh.interval   seconds each refresh run looks ahead at least (default 3600)

A schedule that never fires ("0 0 31 2 *") and an interval beyond a year are
refused (exit 2). A running oidcctl serve reads a new schedule or interval
within its reload interval (a few seconds; at once on SIGHUP), runs once with
it and then follows it. Whatever the schedule says, runs are at least 10 s
apart, and a token with more than half of its lifetime left is renewed only
when it would expire before the next run while a new one would outlast it.`,
		Example: `  oidcctl config set refresh.schedule '*/10 * * * *'
  oidcctl config set refresh.interval 600
  oidcctl config set refresh.schedule ''     # back to the default`,
		Args: exactArgs(2, "a setting and a value"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := findSetting(args[0])
			if err != nil {
				return err
			}
			value := strings.TrimSpace(args[1])
			if value != "" {
				if err := s.check(value); err != nil {
					return usageError{err}
				}
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			if err := a.store.SetSetting(cmd.Context(), s.key, value); err != nil {
				return err
			}
			return a.printSetting(s, value, value != "", "set")
		},
	}
}

func (a *app) configGet() *cobra.Command {
	return &cobra.Command{
		Use:     "get [KEY]",
		Short:   "Print a setting, or every setting",
		Example: "  oidcctl config get refresh.schedule\n  oidcctl config get -o json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("config get takes at most one setting")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			list := settings
			if len(args) == 1 {
				s, err := findSetting(args[0])
				if err != nil {
					return err
				}
				list = []setting{s}
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			var out []settingJSON
			for _, s := range list {
				v, ok, err := a.store.Setting(cmd.Context(), s.key)
				if err != nil {
					return err
				}
				if !ok {
					v = s.def
				}
				out = append(out, settingJSON{Key: s.key, Value: v, Default: !ok})
			}
			if a.output == "json" {
				if len(args) == 1 {
					return writeJSON(a.stdout, out[0])
				}
				return writeJSON(a.stdout, out)
			}
			if len(args) == 1 {
				fmt.Fprintln(a.stdout, tui.Escape(out[0].Value))
				return nil
			}
			t := newTable(a.stdout, "KEY", "VALUE", "")
			for _, s := range out {
				t.row(s.Key, s.Value, map[bool]string{true: "(default)"}[s.Default])
			}
			return t.flush()
		},
	}
}

func (a *app) printSetting(s setting, value string, set bool, verb string) error {
	if !set {
		value = s.def
	}
	if a.output == "json" {
		return writeJSON(a.stdout, settingJSON{Key: s.key, Value: value, Default: !set})
	}
	suffix := ""
	if !set {
		suffix = " (the default)"
	}
	fmt.Fprintf(a.stdout, "Setting %s %s to %q%s.\n", s.key, verb, value, suffix)
	return nil
}
