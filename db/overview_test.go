package db

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
)

// The overview judges an account by its stored columns: one without a
// tokens row (as before migration 0013) is counted and selected as
// "none", and one whose token was moved from another account's row (it
// opens nowhere else) by its columns, then listed on a page with
// Damaged set, the others of the page unharmed.
func TestOverviewOfRowsTheStoreDoesNotWrite(t *testing.T) {
	ctx := context.Background()
	d, _ := withTokenAccount(t)
	for _, n := range []string{"bare", "moved"} {
		if err := d.CreateAccount(ctx, core.NewAccount(n, "idp")); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"acct", "moved"} {
		if err := d.SaveTokens(ctx, n, "", fullTokenSet(n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.db.Exec(`DELETE FROM tokens WHERE account_id = (SELECT id FROM accounts WHERE name = 'bare')`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.Exec(`UPDATE tokens SET access_token = (SELECT t.access_token FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE a.name = 'acct')
		WHERE account_id = (SELECT id FROM accounts WHERE name = 'moved')`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text   string
		now    time.Time
		states map[string]int
	}{
		{"", t0, map[string]int{core.StateValid: 2, core.StateNone: 1}},
		{"", t0.Add(time.Hour), map[string]int{core.StateExpired: 2, core.StateNone: 1}},
		{"NON", t0, map[string]int{core.StateNone: 1}},
		{"valid", t0, map[string]int{core.StateValid: 2}},
	} {
		c, err := d.CountAccounts(ctx, core.AccountQuery{Text: tc.text, Now: tc.now})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range tc.states {
			total += n
		}
		if c.Total != total || c.Profiles["idp"] != total || !maps.Equal(c.States, tc.states) {
			t.Errorf("counts of %q at %v: %+v, want states %v", tc.text, tc.now, c, tc.states)
		}
	}
	page, err := d.TokenStatePage(ctx, core.AccountQuery{Now: t0}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].Account != "acct" || page[1].Account != "bare" || page[2].Account != "moved" {
		t.Fatalf("page: %+v", page)
	}
	if st := page[0]; st.Damaged != nil || st.Tokens.AccessToken.Reveal() != "access-acct" {
		t.Errorf("acct: damaged %v", st.Damaged)
	}
	if st := page[1]; st.Damaged != nil || st.Tokens.AccessToken.IsSet() || st.Status(t0) != core.StateNone {
		t.Errorf("bare: damaged %v, status %q", st.Damaged, st.Status(t0))
	}
	if st := page[2]; !errors.Is(st.Damaged, crypt.ErrWrongKey) || st.Tokens.AccessToken.IsSet() || st.Tokens.RefreshToken.Reveal() != "refresh-moved" {
		t.Errorf("moved: damaged %v, refresh token kept %v", st.Damaged, st.Tokens.RefreshToken.IsSet())
	}
}
