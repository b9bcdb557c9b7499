package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/tui"
)

func (a *app) debugCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "debug",
		Short: "Read and clear the debugger's log of calls through oidcctl serve",
		Long: `oidcctl serve records every call of a webservice (unless its debugger is off)
and every refused forward-auth call: time, method, path, status, duration,
user, verdict and reason, and the headers and bodies with Authorization,
cookies, tokens and secrets redacted.`,
		Args: noArgs,
	}
	cmd.AddCommand(a.debugList(), a.debugShow(), a.debugClear())
	return cmd
}

func (a *app) debugList() *cobra.Command {
	var status, limit int
	var since, verdict string
	cmd := &cobra.Command{
		Use:     "list [WEBSERVICE] [--status N] [--since 1h] [--verdict V] [-n 50]",
		Aliases: []string{"ls"},
		Short:   "List calls, newest first",
		Example: `  oidcctl debug list
  oidcctl debug list tickets --status 401 --since 1h
  oidcctl debug list --verdict refused -n 10 -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("debug list takes at most one webservice name")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f := core.DebugFilter{Status: status, Verdict: verdict, Limit: limit}
			if len(args) == 1 {
				f.Webservice = args[0]
			}
			if status != 0 && (status < 100 || status > 599) {
				return usagef("--status %d: want an HTTP status, 100 to 599", status)
			}
			if limit <= 0 {
				return usagef("-n %d: want a positive number", limit)
			}
			if verdict != "" && !slices.Contains([]string{"accepted", "refused", "error"}, verdict) {
				return usagef("--verdict %q: want accepted, refused or error", verdict)
			}
			if since != "" {
				d, err := config.ParseDuration(since)
				if err != nil || d <= 0 {
					return usagef("--since %q: want a duration such as 1h or 2d", since)
				}
				f.Since = time.Now().Add(-d)
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			es, err := a.store.DebugEntries(cmd.Context(), f)
			if err != nil {
				return err
			}
			if a.output == "json" {
				out := make([]debugEntryJSON, len(es))
				for i, e := range es {
					out[i] = toDebugJSON(e, false)
				}
				return writeJSON(a.stdout, out)
			}
			if len(es) == 0 {
				fmt.Fprintln(a.stdout, "No calls recorded.")
				return nil
			}
			t := newTable(a.stdout, "ID", "TIME", "WEBSERVICE", "DIRECTION", "METHOD", "PATH", "STATUS", "DURATION", "USER", "VERDICT", "REASON")
			for _, e := range es {
				t.row(strconv.FormatInt(e.ID, 10), e.Time.Local().Format("2006-01-02 15:04:05"), cmp.Or(e.Webservice, "-"), e.Direction,
					e.Method, tui.Truncate(e.Path, 40), strconv.Itoa(e.Status), e.Duration.Round(time.Microsecond).String(),
					cmp.Or(e.User, "-"), cmp.Or(e.Verdict, "-"), cmp.Or(tui.Truncate(e.Reason, 50), "-"))
			}
			return t.flush()
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&status, "status", 0, "only calls answered with this status")
	fs.Var(newDurationText(&since, ""), "since", "only calls of the last DURATION")
	fs.StringVar(&verdict, "verdict", "", "only calls with this verdict: accepted, refused or error")
	fs.IntVarP(&limit, "limit", "n", 50, "at most this many calls")
	return cmd
}

func (a *app) debugShow() *cobra.Command {
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show one call with its headers and bodies",
		Example: "  oidcctl debug show 42\n  oidcctl debug show 42 -o json",
		Args:    exactArgs(1, "an entry id (see oidcctl debug list)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("debug show %q: want an entry id, a positive number (see oidcctl debug list)", args[0])
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			e, err := a.store.DebugEntry(cmd.Context(), id)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, toDebugJSON(e, true))
			}
			kv := newTable(a.stdout)
			kv.row("id:", strconv.FormatInt(e.ID, 10))
			kv.row("time:", e.Time.Local().Format(time.RFC3339Nano))
			kv.row("request id:", cmp.Or(e.RequestID, "-"))
			kv.row("webservice:", cmp.Or(e.Webservice, "-"))
			kv.row("direction:", e.Direction)
			kv.row("call:", e.Method+" "+e.Path)
			kv.row("status:", strconv.Itoa(e.Status)+" "+http.StatusText(e.Status))
			kv.row("duration:", e.Duration.String())
			kv.row("user:", cmp.Or(e.User, "-"))
			kv.row("verdict:", cmp.Or(e.Verdict, "-"))
			kv.row("reason:", cmp.Or(e.Reason, "-"))
			if e.BodiesTruncated {
				kv.row("bodies:", "cut at the webservice's debug max body")
			}
			if err := kv.flush(); err != nil {
				return err
			}
			printExchange(a, "Request", e.RequestHeader, e.RequestBody)
			printExchange(a, "Response", e.ResponseHeader, e.ResponseBody)
			printTokenClaims(a, e.TokenClaims)
			return nil
		},
	}
}

// printTokenClaims prints the token header and claims an entry keeps
// for a profile with --log-token-claims, indented.
func printTokenClaims(a *app, claims string) {
	if claims == "" {
		return
	}
	var b bytes.Buffer
	if json.Indent(&b, []byte(claims), "  ", "  ") != nil {
		b.Reset()
		b.WriteString(claims)
	}
	fmt.Fprintf(a.stdout, "\nToken header and claims (no signature):\n  %s\n", tui.EscapeText(b.String()))
}

func printExchange(a *app, title string, h http.Header, body []byte) {
	fmt.Fprintf(a.stdout, "\n%s headers:\n", title)
	if len(h) == 0 {
		fmt.Fprintln(a.stdout, "  (none)")
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(a.stdout, "  %s: %s\n", tui.Escape(k), tui.Escape(v))
		}
	}
	fmt.Fprintf(a.stdout, "%s body:\n", title)
	switch {
	case len(body) == 0:
		fmt.Fprintln(a.stdout, "  (empty)")
	case !utf8.Valid(body):
		fmt.Fprintf(a.stdout, "  (%d bytes of binary data; -o json has them in base64)\n", len(body))
	default:
		// The body is the caller's or the upstream's: escaped, lines kept.
		fmt.Fprintln(a.stdout, "  "+strings.ReplaceAll(tui.EscapeText(strings.TrimRight(string(body), "\n")), "\n", "\n  "))
	}
}

func (a *app) debugClear() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "clear [WEBSERVICE]",
		Short:   "Remove the recorded calls of a webservice, or all of them",
		Long:    "Asks first on a terminal; without one (a script) it needs --yes.",
		Example: "  oidcctl debug clear tickets\n  oidcctl debug clear --yes",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("debug clear takes at most one webservice name")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ws := ""
			if len(args) == 1 {
				ws = args[0]
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			what := "all webservices"
			if ws != "" {
				if _, err := a.store.Webservice(cmd.Context(), ws); err != nil {
					return err
				}
				what = "webservice " + strconv.Quote(ws)
			}
			if err := a.confirm(cmd, yes, tui.EscapeText("Remove the recorded calls of "+what+"?")); err != nil {
				return err
			}
			n, err := a.store.ClearDebug(cmd.Context(), ws)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return writeJSON(a.stdout, map[string]any{"webservice": ws, "removed": n})
			}
			fmt.Fprintf(a.stdout, "Removed %d recorded calls of %s.\n", n, what)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask (needed without a terminal)")
	return cmd
}

// debugEntryJSON is the -o json form of a debugger entry; headers and
// bodies only with show. A body that is not UTF-8 is given in base64.
type debugEntryJSON struct {
	ID                 int64       `json:"id"`
	Time               time.Time   `json:"time"`
	RequestID          string      `json:"request_id"`
	Webservice         string      `json:"webservice"`
	Direction          string      `json:"direction"`
	Method             string      `json:"method"`
	Path               string      `json:"path"`
	Status             int         `json:"status"`
	DurationSeconds    float64     `json:"duration_seconds"`
	User               string      `json:"user"`
	Verdict            string      `json:"verdict"`
	Reason             string      `json:"reason"`
	RequestHeader      http.Header `json:"request_header,omitempty"`
	RequestBody        *string     `json:"request_body,omitempty"`
	RequestBodyBase64  []byte      `json:"request_body_base64,omitempty"`
	ResponseHeader     http.Header `json:"response_header,omitempty"`
	ResponseBody       *string     `json:"response_body,omitempty"`
	ResponseBodyBase64 []byte      `json:"response_body_base64,omitempty"`
	BodiesTruncated    bool        `json:"bodies_truncated"`
	// TokenClaims: the token's header and claims, with show, for a
	// profile with --log-token-claims.
	TokenClaims json.RawMessage `json:"token_claims,omitempty"`
}

func toDebugJSON(e core.DebugEntry, full bool) debugEntryJSON {
	j := debugEntryJSON{
		ID: e.ID, Time: e.Time.UTC(), RequestID: e.RequestID, Webservice: e.Webservice, Direction: e.Direction,
		Method: e.Method, Path: e.Path, Status: e.Status, DurationSeconds: float64(e.Duration.Microseconds()) / 1e6,
		User: e.User, Verdict: e.Verdict, Reason: e.Reason, BodiesTruncated: e.BodiesTruncated,
	}
	if !full {
		return j
	}
	j.RequestHeader, j.ResponseHeader = e.RequestHeader, e.ResponseHeader
	j.RequestBody, j.RequestBodyBase64 = bodyJSON(e.RequestBody)
	j.ResponseBody, j.ResponseBodyBase64 = bodyJSON(e.ResponseBody)
	if e.TokenClaims != "" && json.Valid([]byte(e.TokenClaims)) {
		j.TokenClaims = json.RawMessage(e.TokenClaims)
	}
	return j
}

func bodyJSON(b []byte) (*string, []byte) {
	if len(b) == 0 {
		return nil, nil
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, nil
	}
	return nil, b
}
