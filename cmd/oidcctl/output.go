package main

import (
	"bytes"
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
	"oidcctl/tui"
)

// writeJSON writes v as indented JSON: the stable output of -o json.
// encoding/json escapes C0 controls but writes DEL, the C1 controls and
// the bidirectional overrides as they are, which a terminal may obey:
// they are written as \u escapes too (they can only be inside strings).
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := b.Bytes()
	if strings.ContainsFunc(b.String(), jsonUnsafe) {
		var e strings.Builder
		for _, r := range b.String() {
			if jsonUnsafe(r) {
				fmt.Fprintf(&e, `\u%04x`, r)
				continue
			}
			e.WriteRune(r)
		}
		out = []byte(e.String())
	}
	_, err := w.Write(out)
	return err
}

func jsonUnsafe(r rune) bool {
	return r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// table writes aligned columns for people. Every cell is escaped
// (tui.Escape): users, claims, debugger entries and provider errors come
// from tokens, callers and providers, and a control character printed raw
// could retitle, clear or rewrite the terminal.
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
		cells[i] = tui.Escape(strings.NewReplacer("\t", " ", "\n", " ").Replace(c))
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

// secretState says whether a secret is set, not set, or missing: needed
// (imported without it) and not given yet.
func secretState(s core.Secret, missing []string, name string) string {
	if !s.IsSet() && slices.Contains(missing, name) {
		return "missing (" + core.StateNeedsSecret + ")"
	}
	return s.String()
}
