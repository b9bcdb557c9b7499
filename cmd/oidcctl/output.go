package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"oidcctl/core"
	"oidcctl/core/config"
)

// writeJSON writes v as indented JSON: the stable output of -o json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns for people.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		// A tab or newline in a value would break the columns.
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// printDone reports a change that has no object to print.
func (a *app) printDone(verb, kind, name string) error {
	if a.output == "json" {
		return writeJSON(a.stdout, map[string]string{"kind": kind, "name": name, "action": verb})
	}
	fmt.Fprintf(a.stdout, "%s %q %s.\n", capitalize(kind), name, verb)
	return nil
}

func fmtDuration(d time.Duration) string {
	b, _ := config.Duration(d).MarshalText()
	return string(b)
}

func onOff(on bool, off string) string {
	if on {
		return "on"
	}
	return off
}

func fmtRoleMap(rm core.RoleMap) string {
	var parts []string
	for _, path := range slices.Sorted(maps.Keys(rm)) {
		var pairs []string
		for _, role := range slices.Sorted(maps.Keys(rm[path])) {
			pairs = append(pairs, role+"→"+rm[path][role])
		}
		parts = append(parts, path+": "+strings.Join(pairs, ", "))
	}
	return cmp.Or(strings.Join(parts, "; "), "-")
}

func fmtUserMap(um core.UserMap) string {
	var parts []string
	for _, claim := range slices.Sorted(maps.Keys(um)) {
		parts = append(parts, claim+"→"+string(um[claim]))
	}
	return cmp.Or(strings.Join(parts, ", "), "-")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
