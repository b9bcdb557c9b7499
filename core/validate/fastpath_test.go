package validate

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"oidcctl/core"
)

// TestFastPathAgrees: Validate reads the raw claims (jws.ParseRaw) and
// Inspect the decoded map; on tokens whose claims are written in unusual
// ways (escaped and repeated names, names differing in case, lists with
// other values, numeric logins, roles under escaped keys, control
// characters) both give the same verdict, reason, message, login, subject,
// roles and times. The payloads are raw JSON, signed as they are.
func TestFastPathAgrees(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	key := newKey(t, "fp", "RS256")
	idp := newIDP(t, "", key)
	now := clk.Now().Unix()
	iss := idp.doc.Issuer
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	sign := func(header, payload string) string {
		input := b64(header) + "." + b64(payload)
		return input + "." + base64.RawURLEncoding.EncodeToString(signRaw(t, key.priv, "RS256", []byte(input)))
	}
	hdr := `{"alg":"RS256","kid":"fp"}`
	// Some payloads get another header too: a nonce, an escaped kid with
	// an embedded key link and crit, crit alone.
	times := fmt.Sprintf(`"iat":%d,"nbf":%d,"exp":%d`, now, now, now+300)
	payloads := []string{
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","realm_access":{"roles":["admin"]}}`,
		`{"\u0069ss":%q,"s\u0075b":"svc","aud":["x",1,null,"api"],` + times + `,"scope":["other","read write"]}`,
		`{"iss":"wrong","iss":%q,"sub":"svc","sub":"other","aud":"api",` + times + `,"scope":"read"}`,
		`{"ISS":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read"}`,
		`{"iss":%q,"sub":"svc","aud":"API",` + times + `,"scope":"read"}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"READ"}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scp":["read"]}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"roles":["read"]}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","azp":"web"}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","azp":"cli"}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","azp":1}`,
		`{"iss":%q,"sub":"svc","aud":"api","iat":"x","exp":1e300,` + `"scope":"read"}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"exp":-1,"scope":"read"}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","uid":12345}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","uid":true}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","uid":"a\u0001b"}`,
		`{"iss":%q,"sub":"s\u0000vc","aud":"api",` + times + `,"scope":"read"}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","realm_access":{"r\u006fles":["admin"],"roles":["x"]}}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","realm_access":{"roles":"admin"}}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","realm_access":{"roles":["adm\u0007in"]}}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","realm_access.roles":["admin"],"realm_access":{"roles":["x"]}}`,
		`{"iss":%q,"sub":"svc","aud":"api",` + times + `,"scope":"read","resource_access":{"my.app":{"roles":["admin"]}}}`,
		`{"iss":%q,"sub":"svc","aud":"00000003-0000-0000-c000-000000000000",` + times + `,"scope":"read"}`,
		`{"iss":"https://sts.windows.net/t1/","sub":"svc","aud":"api",` + times + `,"scope":"read","x":%q}`,
	}
	accepted := 0
	for _, uid := range []string{"", "uid"} {
		for _, restrict := range []bool{false, true} {
			prof := testProfile("fp", "api")
			prof.UIDClaim = uid
			prof.RoleMap = core.RoleMap{"realm_access.roles": {"admin": "admin"}, "resource_access.my.app.roles": {"admin": "app-admin"}}
			if restrict {
				prof.Restrictions.Scopes = []string{"read"}
				prof.Restrictions.Audiences = []string{"api"}
				prof.Restrictions.AuthorizedParty = "web"
			}
			for i, payload := range payloads {
				h := hdr
				switch i {
				case 1:
					h = `{"alg":"RS256","kid":"fp","nonce":"n"}`
				case 2:
					h = `{"alg":"RS256","k\u0069d":"fp","x5u":"https://x","crit":["b64"]}`
				case 3:
					h = `{"alg":"RS256","kid":"fp","crit":["b64"]}`
				}
				tok := sign(h, fmt.Sprintf(payload, iss))
				users := newMemUsers(core.User{Login: "svc", Roles: []string{"admin", "other"}}, core.User{Login: "12345"}, core.User{Login: "true"})
				v := idp.validator(clk, users, resultTTL(-1))
				got := v.Validate(context.Background(), prof, tok)
				want := v.ValidateWith(context.Background(), prof, tok, Options{Detail: true, DryRun: true})
				if got.Accepted() {
					accepted++
				}
				if got.Reason != want.Reason || got.Message != want.Message || got.Subject != want.Subject ||
					got.Accepted() && (got.Login != want.Login || !slices.Equal(got.Roles, want.Roles)) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
					!got.NotBefore.Equal(want.NotBefore) || !got.IssuedAt.Equal(want.IssuedAt) || got.Alg != want.Alg || got.KID != want.KID {
					t.Errorf("uid %q, restrictions %v, %s:\n Validate %q %q login %q sub %q roles %v\n Inspect  %q %q login %q sub %q roles %v",
						uid, restrict, fmt.Sprintf(payload, iss), got.Reason, got.Message, got.Login, got.Subject, got.Roles,
						want.Reason, want.Message, want.Login, want.Subject, want.Roles)
				}
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no token was accepted: the cases test only refusals")
	}
	t.Logf("%d of %d accepted", accepted, 4*len(payloads))
}

// TestRolesUpToDate holds rolesUpToDate to updatedRoles: it says a
// user's roles are up to date exactly when updatedRoles would leave them
// as they are.
func TestRolesUpToDate(t *testing.T) {
	rm := core.RoleMap{"roles": {"a": "reader", "b": "writer"}, "groups": {"g": "admin"}}
	pool := []string{"reader", "writer", "admin", "hand-made", "other"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(n int) []string {
		var out []string
		for range n {
			out = append(out, pool[rng.IntN(len(pool))])
		}
		return out
	}
	for range 5000 {
		have := pick(rng.IntN(5))
		if rng.IntN(2) == 0 {
			slices.Sort(have)
			have = slices.Compact(have)
		}
		mapped := pick(1 + rng.IntN(3))
		slices.Sort(mapped)
		mapped = slices.Compact(mapped)
		want := slices.Equal(updatedRoles(have, mapped, rm), have)
		if got := rolesUpToDate(have, mapped, rm); got != want {
			t.Fatalf("rolesUpToDate(%q, %q) = %v, updatedRoles says %v", have, mapped, got, want)
		}
	}
}
