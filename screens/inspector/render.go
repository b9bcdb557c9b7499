package inspector

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"oidcctl/core"
	"oidcctl/core/validate"
	"oidcctl/tui"
)

// timeClaims are shown as dates and relative to now, as `oidcctl token
// inspect` shows them.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true, "updated_at": true}

// tree writes a JSON object: keys sorted, nested objects and arrays
// indented under their key. top is the claim set itself, whose time
// claims are dates.
func tree(w *tui.Text, st tui.Styles, indent int, m map[string]any, top bool, now time.Time) {
	keys := slices.Sorted(maps.Keys(m))
	kw := 0
	for _, k := range keys {
		kw = max(kw, ansi.StringWidth(k))
	}
	kw = min(kw, 18)
	for _, k := range keys {
		switch v := m[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				w.KV(indent, k, kw, "{}", st.Normal)
				continue
			}
			w.Line(strings.Repeat(" ", indent) + st.Muted.Render(tui.Escape(k)))
			tree(w, st, indent+2, v, false, now)
		case []any:
			if len(v) == 0 {
				w.KV(indent, k, kw, "[]", st.Normal)
				continue
			}
			w.Line(strings.Repeat(" ", indent) + st.Muted.Render(tui.Escape(k)))
			list(w, st, indent+2, v, now)
		default:
			text, style := scalar(v), st.Normal
			if n, ok := v.(float64); ok && top && timeClaims[k] {
				at := time.Unix(int64(n), 0)
				text = tui.Stamp(at) + " · " + tui.Relative(at, now)
				if k == "exp" && !at.After(now) {
					style = st.Error
				}
			}
			w.KV(indent, k, kw, text, style)
		}
	}
}

// list writes a JSON array, one item a line after a dash.
func list(w *tui.Text, st tui.Styles, indent int, items []any, now time.Time) {
	lead := strings.Repeat(" ", indent)
	for _, it := range items {
		switch v := it.(type) {
		case map[string]any:
			if len(v) == 0 {
				w.Line(lead + "- {}")
				continue
			}
			w.Line(lead + "-")
			tree(w, st, indent+2, v, false, now)
		case []any:
			if len(v) == 0 {
				w.Line(lead + "- []")
				continue
			}
			w.Line(lead + "-")
			list(w, st, indent+2, v, now)
		default:
			w.Hang(lead+"- ", indent+2, scalar(v), st.Normal)
		}
	}
}

// scalar is a JSON value other than an object or array, as text.
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return strconv.Quote(v)
		}
		if v == "" {
			return `""`
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// writeToken writes what a result knows of the token: its header and
// claims, the checks against the profile, and the user it maps to.
func writeToken(w *tui.Text, st tui.Styles, res *validate.Result, now time.Time) {
	if res.Header != nil {
		w.Heading("Header")
		tree(w, st, 2, res.Header, false, now)
		w.Blank()
	}
	switch {
	case res.Claims != nil && res.Kind == "opaque":
		w.Heading("Introspection response")
		tree(w, st, 2, res.Claims, true, now)
		w.Blank()
	case res.Claims != nil:
		w.Heading("Claims")
		tree(w, st, 2, res.Claims, true, now)
		w.Blank()
	default:
		w.Muted("The token could not be decoded: there are no claims to show.")
		w.Blank()
	}
	if ms := res.Microsoft; ms != nil {
		w.Heading("Microsoft Entra")
		kind := "delegated (a user's)"
		if ms.Application {
			kind = "app-only (client credentials)"
		}
		graph := "no"
		if ms.Graph {
			graph = "yes: only Microsoft Graph can validate it"
		}
		for _, kv := range [][2]string{
			{"version", cmp.Or(ms.Version, "-")}, {"issuer", cmp.Or(ms.Issuer, "-")}, {"tenant", cmp.Or(ms.TenantID, "-")},
			{"app id", cmp.Or(ms.AppID, "-")}, {"kind", kind}, {"Graph token", graph},
		} {
			w.KV(2, kv[0], 11, kv[1], st.Normal)
		}
		w.Blank()
	}
	if len(res.Checks) > 0 {
		w.Heading("Checks against profile " + res.Profile)
		const nameWidth = 16
		for _, c := range res.Checks {
			mark, style := st.Success.Render("✓"), st.Normal
			if !c.OK {
				mark, style = st.Error.Render("✗"), st.Error
			}
			w.Hang("  "+mark+" "+tui.PadRight(c.Name, nameWidth)+"  ", 2+2+nameWidth+2, cmp.Or(c.Detail, "-"), style)
		}
		w.Blank()
	}
	if res.Login != "" || res.User != nil || len(res.TokenRoles) > 0 {
		w.Heading("User")
		const kw = 11
		w.KV(2, "login", kw, cmp.Or(res.Login, "-"), st.Normal)
		w.KV(2, "token roles", kw, cmp.Or(strings.Join(res.TokenRoles, ", "), "none by the role map"), st.Normal)
		if u := res.User; u != nil {
			w.KV(2, "user", kw, userLine(*u), st.Normal)
		}
		w.KV(2, "action", kw, action(res.UserAction, res.User != nil), st.Normal)
		w.KV(2, "roles", kw, cmp.Or(strings.Join(res.Roles, ", "), "none"), st.Bold)
	}
}

// userLine describes a local user in one line.
func userLine(u core.User) string {
	parts := []string{u.Login}
	if u.Email != "" {
		parts = append(parts, u.Email)
	}
	if name := strings.TrimSpace(u.FirstName + " " + u.LastName); name != "" {
		parts = append(parts, name)
	}
	from := "made by hand"
	if u.Profile != "" {
		from = "created from profile " + u.Profile
	}
	return strings.Join(append(parts, from), " · ")
}

// action says what serve would do with the user.
func action(a validate.UserAction, hasUser bool) string {
	switch a {
	case validate.UserFound:
		return "found, unchanged"
	case validate.UserUpdated:
		return "updated with the token's roles"
	case validate.UserCreated:
		return "created from the token"
	case validate.UserWouldUpdate:
		return "would get the token's roles (an inspection writes nothing)"
	case validate.UserWouldCreate:
		return "would be created from the token (an inspection writes nothing)"
	}
	if hasUser {
		return "-"
	}
	return "no local user"
}
