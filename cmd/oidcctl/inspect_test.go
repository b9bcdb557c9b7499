package main

import (
	"encoding/json"
	"strings"
	"testing"

	"oidcctl/core/oidctest"
)

func TestTokenInspect(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	c.ok("account", "add", "billing", "--profile", "service")
	tok := strings.TrimSpace(c.ok("token", "get", "billing"))

	// No user "sid1" yet, and no role map to create one.
	r := c.run("", "token", "inspect", tok, "--profile", "service")
	if r.code != exitRefused || !strings.Contains(r.stdout, "REFUSED (user_unknown, HTTP 403)") {
		t.Fatalf("inspect without a user: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c.ok("user", "add", oidctest.ServiceClientID, "--email", "svc@example.test", "--role", "ticket-reader")
	out := c.ok("token", "inspect", tok, "--profile", "service")
	for _, want := range []string{"Header:", "alg", "RS256", "Claims:", "iss", op.Issuer, "exp", "(in ", "pass  signature", "Verdict: ACCEPTED", "ticket-reader"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	// From standard input, with the Bearer prefix a curl line has.
	if r := c.run("Bearer "+tok+"\n", "token", "inspect", "-", "--profile", "service"); r.code != 0 {
		t.Fatalf("inspect -: exit %d %s", r.code, r.stderr)
	}
	// A changed signature (in the middle: base64url ignores the last
	// character's low bits).
	parts := strings.Split(tok, ".")
	sig := []byte(parts[2])
	mid := len(sig) / 2
	if sig[mid] == 'A' {
		sig[mid] = 'B'
	} else {
		sig[mid] = 'A'
	}
	tampered := parts[0] + "." + parts[1] + "." + string(sig)
	r = c.run("", "token", "inspect", tampered, "--profile", "service")
	if r.code != exitRefused || !strings.Contains(r.stdout, "bad_signature") || !strings.Contains(r.stdout, "FAIL  signature") {
		t.Fatalf("tampered: exit %d\n%s", r.code, r.stdout)
	}
	// Every profile side by side: the web client is not the audience.
	out = c.ok("token", "inspect", tok)
	if !strings.Contains(out, "service  ACCEPTED") || !strings.Contains(out, "web      REFUSED   audience_mismatch") {
		t.Fatalf("side by side:\n%s", out)
	}
	var res struct {
		Reason string         `json:"reason"`
		Claims map[string]any `json:"claims"`
		Roles  []string       `json:"roles"`
	}
	if err := json.Unmarshal([]byte(c.ok("token", "inspect", "--account", "billing", "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Reason != "" || res.Claims["iss"] != op.Issuer || len(res.Roles) != 1 {
		t.Fatalf("inspect --account -o json: %+v", res)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "inspect", "not.a.token", "--profile", "service"}, exitRefused, "malformed"},
		{[]string{"token", "inspect", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "--profile", "service"}, exitRefused, "alg_none"},
		{[]string{"token", "inspect"}, exitUsage, "needs a token"},
		{[]string{"token", "inspect", tok, "--account", "billing"}, exitUsage, "one of them"},
		{[]string{"token", "inspect", tok, "--profile", "nope"}, exitFailure, `profile "nope" does not exist`},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tt.args, r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
	}
}

func TestProfileKeys(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	out := c.ok("profile", "keys", "web")
	if !strings.Contains(out, op.KeyID()) || !strings.Contains(out, "RSA") || !strings.Contains(out, "first use") {
		t.Fatalf("profile keys:\n%s", out)
	}
	var info struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(c.ok("profile", "keys", "web", "-o", "json")), &info); err != nil || len(info.Keys) == 0 || info.Keys[0].KID != op.KeyID() {
		t.Fatalf("profile keys -o json: %+v %v", info, err)
	}
}

func TestUserCommands(t *testing.T) {
	c := newCLI(t)
	if out := c.ok("user", "list"); !strings.Contains(out, "No users yet") {
		t.Fatalf("empty list: %s", out)
	}
	c.ok("user", "add", "acc-service", "--email", "svc@example.test", "--role", "ticket-reader", "--role", "ticket-writer", "--first-name", "Service")
	c.ok("user", "edit", "acc-service", "--add-role", "admin", "--drop-role", "ticket-writer")
	var u userJSON
	if err := json.Unmarshal([]byte(c.ok("user", "show", "acc-service", "-o", "json")), &u); err != nil {
		t.Fatal(err)
	}
	if u.Email != "svc@example.test" || strings.Join(u.Roles, ",") != "admin,ticket-reader" || u.FirstName != "Service" || u.Profile != "" {
		t.Fatalf("user: %+v", u)
	}
	if out := c.ok("user", "list"); !strings.Contains(out, "admin, ticket-reader") || !strings.Contains(out, "by hand") {
		t.Fatalf("user list:\n%s", out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "add", "acc-service"}, exitFailure, "already exists"},
		{[]string{"user", "add", "x", "--email", "not-an-address"}, exitUsage, "not an email address"},
		{[]string{"user", "add"}, exitUsage, "needs a login"},
		{[]string{"user", "show", "nope"}, exitFailure, "does not exist"},
		{[]string{"user", "edit", "acc-service"}, exitUsage, "nothing to change"},
		{[]string{"user", "rm", "nope"}, exitFailure, "does not exist"},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.want)
		}
	}
	c.ok("user", "rm", "acc-service")
	if out := c.ok("user", "list"); !strings.Contains(out, "No users yet") {
		t.Fatalf("after rm: %s", out)
	}
}

func TestImportUser(t *testing.T) {
	op := oidctest.Start(t)
	c := newCLI(t)
	addProvider(c, op)
	pw := c.file("pw", oidctest.Password)
	base := []string{"import-user", "--profile", "web", "--grant-type", "password", "--username", op.Username(), "--password-file", pw, "--scope", "openid"}

	// The id_token carries no roles: no user can be created from it.
	r := c.run("", append(base, "--dry-run", "--role-map", `{"roles": {"admin": "admin"}}`, "--user-map", `{"email": "Email"}`)...)
	if r.code != exitRefused || !strings.Contains(r.stdout, "no_mapped_roles") {
		t.Fatalf("import-user without roles: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A user made by hand whose login is the token's sub is found.
	c.ok("user", "add", oidctest.UserID, "--role", "agent")
	out := c.ok(base...)
	if !strings.Contains(out, "Verdict: ACCEPTED") || !strings.Contains(out, `User "`+oidctest.UserID+`" exists, unchanged with roles agent`) {
		t.Fatalf("import-user of an existing user:\n%s", out)
	}
	if out := c.ok(append(base, "--quiet")...); out != "" {
		t.Fatalf("--quiet printed:\n%s", out)
	}
	// With userinfo claims, the email and the locale the id_token lacks
	// come from the userinfo endpoint, called with the login's access
	// token: the user can be created.
	userinfo := []string{"import-user", "--profile", "web", "--grant-type", "password", "--username", op.Username(), "--password-file", pw,
		"--scope", "openid email profile", "--dry-run", "--uid", "email", "--role-map", `{"locale": {"de": "agent"}}`, "--user-map", `{"email": "Email"}`}
	if r := c.run("", userinfo...); r.code != exitRefused {
		t.Fatalf("import-user without userinfo claims: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c.ok("profile", "edit", "web", "--userinfo-claims")
	if out := c.ok(userinfo...); !strings.Contains(out, "Verdict: ACCEPTED") || !strings.Contains(out, "test-user@zitadel.ch") || !strings.Contains(out, "agent") {
		t.Fatalf("import-user with userinfo claims:\n%s", out)
	}
	c.ok("profile", "edit", "web", "--userinfo-claims=false")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import-user", "--grant-type", "password"}, exitUsage, "--profile is required"},
		{[]string{"import-user", "--profile", "web", "--grant-type", "authorization_code"}, exitUsage, "want password or client_credentials"},
		{[]string{"import-user", "--profile", "web", "--grant-type", "password"}, exitUsage, "username is required"},
		{append(base, "--role-map", "{"), exitUsage, "--role-map"},
		{[]string{"import-user", "--profile", "web", "--grant-type", "password", "--username", op.Username(), "--password-file", c.file("bad", "wrong"), "--scope", "openid"}, exitFailure, "invalid_grant"},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.want)
		}
		if strings.Contains(r.stdout+r.stderr, "wrong") && strings.Contains(r.stderr, "invalid_grant") && strings.Contains(r.stderr, "password wrong") {
			t.Error("the password is in the error")
		}
	}
}
