package validate

import (
	"context"
	"slices"
	"testing"
	"time"

	"oidcctl/core"
)

// TestRoleMapScopeWords: a role map matches the words of a space-separated
// string claim (scope, scp) as it matches a list's elements, each exactly,
// on the fast path (Validate) and the map path (Inspect) alike; a word
// that only contains a mapped role does not match, and an entry holding a
// space still matches the whole string.
func TestRoleMapScopeWords(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	p := testProfile("p", "api")
	p.RoleMap = core.RoleMap{
		"scope":  {"tickets.admin": "ticket-admin", "tickets.read": "ticket-reader", "admin": "never"},
		"scp":    {"Files.Write": "file-writer"},
		"groups": {"Domain Admins": "domain-admin"},
	}
	tests := []struct {
		name   string
		claims map[string]any
		want   []string
	}{
		{"scope string", map[string]any{"scope": "openid  tickets.admin tickets.read"}, []string{"ticket-admin", "ticket-reader"}},
		{"scp list", map[string]any{"scp": []any{"Files.Write", "other"}}, []string{"file-writer"}},
		{"scp string", map[string]any{"scp": "Files.Read Files.Write"}, []string{"file-writer"}},
		{"exact words only", map[string]any{"scope": "tickets.admins xadmin tickets.read.all"}, nil},
		{"entry with a space matches the whole string", map[string]any{"groups": "Domain Admins"}, []string{"domain-admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := idp.validator(clk, nil)
			tok := key.sign(t, claimsAt(idp.doc.Issuer, "bob", "api", clk.Now(), tt.claims))
			for name, r := range map[string]*Result{
				"Validate": v.Validate(context.Background(), p, tok),
				"Inspect":  v.Inspect(context.Background(), p, tok),
			} {
				if !r.Accepted() {
					t.Fatalf("%s refused: %s %s", name, r.Reason, r.Message)
				}
				if !slices.Equal(r.Roles, tt.want) {
					t.Errorf("%s: roles %v, want %v", name, r.Roles, tt.want)
				}
			}
		})
	}
}
