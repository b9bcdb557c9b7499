package validate

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"oidcctl/core"
)

// TestRoleMapPaths: nested claim paths, keys with dots, string and list
// values.
func TestRoleMapPaths(t *testing.T) {
	rm := core.RoleMap{
		"realm_access.roles":             {"admin": "ticket-admin", "unused": "never"},
		"resource_access.billing.roles":  {"reader": "billing-reader"},
		"resource_access.my.app.roles":   {"x": "dotted-client"},
		"https://example.com/groups":     {"ops": "operator"},
		"roles":                          {"Tickets.Read": "ticket-reader"},
		"department":                     {"sales": "sales"},
		"resource_access.missing.roles":  {"reader": "nope"},
		"resource_access.billing.nested": {"a": "not-a-list-of-strings"},
	}
	claims := map[string]any{
		"realm_access": map[string]any{"roles": []any{"admin", "offline_access", 7}},
		"resource_access": map[string]any{
			"billing": map[string]any{"roles": []any{"reader"}, "nested": map[string]any{"a": true}},
			"my.app":  map[string]any{"roles": []any{"x"}},
		},
		"https://example.com/groups": []any{"ops"},
		"roles":                      "Tickets.Read",
		"department":                 "sales",
	}
	local, found, present := mapRoles(rm, claims)
	want := []string{"billing-reader", "dotted-client", "operator", "sales", "ticket-admin", "ticket-reader"}
	if !slices.Equal(local, want) || !present {
		t.Errorf("local = %v, want %v", local, want)
	}
	slices.Sort(found)
	if wantFound := []string{"Tickets.Read", "admin", "offline_access", "ops", "reader", "sales", "x"}; !slices.Equal(found, wantFound) {
		t.Errorf("found = %v, want %v", found, wantFound)
	}
	if _, _, present := mapRoles(core.RoleMap{"groups": {"a": "b"}}, claims); present {
		t.Error("present without the claim")
	}
	for path, want := range map[string]any{
		"realm_access.roles":      []any{"admin", "offline_access", 7},
		"resource_access.my.app":  map[string]any{"roles": []any{"x"}},
		"resource_access.billing": claims["resource_access"].(map[string]any)["billing"],
	} {
		got, ok := claimPath(claims, path)
		if !ok || !equalJSON(got, want) {
			t.Errorf("%s = %v", path, got)
		}
	}
	if _, ok := claimPath(claims, "realm_access.roles.admin"); ok {
		t.Error("a path into a list found something")
	}
}

func equalJSON(a, b any) bool {
	return strings.TrimSpace(fmtJSON(a)) == strings.TrimSpace(fmtJSON(b))
}

// TestUserRules: when a user is found, updated, created or refused.
func TestUserRules(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	ctx := context.Background()

	base := testProfile("kc", "api")
	base.UIDClaim = "preferred_username"
	base.RoleMap = core.RoleMap{
		"realm_access.roles":            {"admin": "ticket-admin", "agent": "ticket-agent"},
		"resource_access.billing.roles": {"reader": "billing-reader"},
	}
	base.UserMap = core.UserMap{"email": core.UserEmail, "given_name": core.UserFirstName, "family_name": core.UserLastName}

	roles := func(realm ...any) map[string]any {
		return map[string]any{"realm_access": map[string]any{"roles": realm}}
	}
	person := map[string]any{"email": "ann@example.test", "given_name": "Ann", "family_name": "Smith"}
	token := func(login string, extra ...map[string]any) string {
		c := claimsAt(idp.doc.Issuer, "sub-"+login, "api", clk.Now(), map[string]any{"preferred_username": login})
		for _, e := range extra {
			c = merge(c, e)
		}
		return key.sign(t, c)
	}

	tests := []struct {
		name      string
		prof      func(*core.Profile)
		users     []core.User
		token     string
		reason    Reason
		message   string
		action    UserAction
		wantRoles []string // the request's roles; also the stored user's when one is stored
		stored    bool     // whether the user exists afterwards
	}{
		{
			name: "existing user, token without roles: roles kept", users: []core.User{{Login: "bob", Roles: []string{"ticket-agent"}}},
			token: token("bob"), action: UserFound, wantRoles: []string{"ticket-agent"}, stored: true,
		},
		{
			name:  "existing user made by hand, token maps roles: mapped roles replaced, hand-given kept",
			users: []core.User{{Login: "bob", Roles: []string{"auditor", "ticket-agent"}}},
			token: token("bob", roles("admin", "other")), action: UserUpdated,
			wantRoles: []string{"auditor", "ticket-admin"}, stored: true,
		},
		{
			name: "existing user, roles already right", users: []core.User{{Login: "bob", Roles: []string{"ticket-admin"}}},
			token: token("bob", roles("admin")), action: UserFound, wantRoles: []string{"ticket-admin"}, stored: true,
		},
		{
			name: "existing user, no role map", prof: func(p *core.Profile) { p.RoleMap = nil },
			users: []core.User{{Login: "bob", Roles: []string{"x"}}}, token: token("bob", roles("admin")),
			action: UserFound, wantRoles: []string{"x"}, stored: true,
		},
		{
			name:   "new user with roles and email: created",
			token:  token("ann", roles("admin", "agent"), person, map[string]any{"resource_access": map[string]any{"billing": map[string]any{"roles": []any{"reader"}}}}),
			action: UserCreated, wantRoles: []string{"billing-reader", "ticket-admin", "ticket-agent"}, stored: true,
		},
		{
			name: "new user, profile without role map", prof: func(p *core.Profile) { p.RoleMap = nil },
			token: token("ann", roles("admin"), person), reason: ReasonUserUnknown, message: "oidcctl user add ann",
		},
		{
			name: "new user, token without the role claims", token: token("ann", person),
			reason: ReasonNoMappedRoles, message: "realm_access.roles",
		},
		{
			name: "new user, roles that map to nothing", token: token("ann", roles("guest"), person),
			reason: ReasonNoMappedRoles, message: `"guest"`,
		},
		{
			name: "new user, user map without Email", prof: func(p *core.Profile) { p.UserMap = core.UserMap{"given_name": core.UserFirstName} },
			token: token("ann", roles("admin"), person), reason: ReasonNoEmail, message: "email: Email",
		},
		{
			name: "new user, token without email", token: token("ann", roles("admin"), map[string]any{"given_name": "Ann"}),
			reason: ReasonNoEmail, message: `"email"`,
		},
		{
			name: "new user, token refused by a restriction: not created", prof: func(p *core.Profile) { p.Restrictions.Scopes = []string{"tickets"} },
			token: token("ann", roles("admin"), person), reason: ReasonScopeMissing,
		},
		{
			name: "new user, expired token: not created",
			token: key.sign(t, claimsAt(idp.doc.Issuer, "s", "api", clk.Now().Add(-time.Hour),
				merge(merge(roles("admin"), person), map[string]any{"preferred_username": "ann"}))),
			reason: ReasonExpired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			p.RoleMap, p.UserMap = base.RoleMap.Clone(), base.UserMap.Clone()
			if tt.prof != nil {
				tt.prof(&p)
			}
			// Inspect first: it must not write, and it must say what
			// Validate then does.
			users := newMemUsers(tt.users...)
			v := idp.validator(clk, users)
			before := len(users.users)
			in := v.Inspect(ctx, p, tt.token)
			if _, writes := users.counts(); writes != 0 || len(users.users) != before {
				t.Fatalf("Inspect wrote to the user store")
			}
			r := v.Validate(ctx, p, tt.token)
			if r.Reason != tt.reason || in.Reason != tt.reason {
				t.Fatalf("Reason = %q / Inspect %q, want %q: %s", r.Reason, in.Reason, tt.reason, r.Message)
			}
			if !strings.Contains(r.Message, tt.message) {
				t.Errorf("Message %q lacks %q", r.Message, tt.message)
			}
			if r.UserAction != tt.action {
				t.Errorf("UserAction = %q, want %q", r.UserAction, tt.action)
			}
			// Inspect also says which user a refused token would map
			// to, so it is compared for accepted tokens only.
			wouldBe := map[UserAction]UserAction{UserCreated: UserWouldCreate, UserUpdated: UserWouldUpdate, UserFound: UserFound}[tt.action]
			if tt.reason == "" && in.UserAction != wouldBe || in.UserAction == UserCreated || in.UserAction == UserUpdated {
				t.Errorf("Inspect UserAction = %q, want %q", in.UserAction, wouldBe)
			}
			if tt.reason != "" {
				if r.Status() != 401 && r.Status() != 403 {
					t.Errorf("Status = %d", r.Status())
				}
				if u, ok := users.get("ann"); ok {
					t.Errorf("user created: %+v", u)
				}
				return
			}
			if !slices.Equal(r.Roles, tt.wantRoles) || !slices.Equal(in.Roles, tt.wantRoles) {
				t.Errorf("Roles = %v, Inspect %v, want %v", r.Roles, in.Roles, tt.wantRoles)
			}
			u, ok := users.get(r.Login)
			if ok != tt.stored || !slices.Equal(u.Roles, tt.wantRoles) {
				t.Errorf("stored user %+v (%v), want roles %v", u, ok, tt.wantRoles)
			}
			if tt.action == UserCreated {
				want := core.User{Login: "ann", Email: "ann@example.test", FirstName: "Ann", LastName: "Smith",
					Roles: tt.wantRoles, Profile: "kc", CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
				if !equalJSON(u, want) || !equalJSON(*r.User, want) {
					t.Errorf("created %+v, want %+v", u, want)
				}
			}
			if tt.action == UserUpdated && !u.UpdatedAt.Equal(clk.Now()) {
				t.Errorf("UpdatedAt = %v", u.UpdatedAt)
			}
		})
	}
}

// TestUserStoreErrors: a failing store is oidcctl's problem (500), and a
// user created meanwhile by another request is taken as it is.
func TestUserStoreErrors(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	p := testProfile("kc", "api")
	p.RoleMap = core.RoleMap{"roles": {"admin": "admin"}}
	p.UserMap = core.UserMap{"email": core.UserEmail}
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "ann", "api", clk.Now(), map[string]any{"roles": []any{"admin"}, "email": "a@b.test"}))

	users := newMemUsers()
	users.failErr = errStore
	v := idp.validator(clk, users)
	r := v.Validate(context.Background(), p, tok)
	if r.Reason != ReasonUserStoreError || r.Status() != 500 || !strings.Contains(r.Message, "disk on fire") {
		t.Errorf("%s %d %s", r.Reason, r.Status(), r.Message)
	}
	// Not cached: the store recovers and the token is accepted.
	users.mu.Lock()
	users.failErr = nil
	users.mu.Unlock()
	if r := v.Validate(context.Background(), p, tok); !r.Accepted() || r.UserAction != UserCreated {
		t.Errorf("after recovery: %s %s", r.Reason, r.UserAction)
	}

	// A race: the user appears between the read and the create.
	racing := &racyUsers{memUsers: newMemUsers()}
	v = idp.validator(clk, racing)
	if r := v.Validate(context.Background(), p, tok); !r.Accepted() || r.UserAction != UserFound || r.User.Email != "other@b.test" {
		t.Errorf("race: %s %s %+v", r.Reason, r.UserAction, r.User)
	}
}

// racyUsers creates the user itself just before the validator does.
type racyUsers struct{ *memUsers }

func (r *racyUsers) CreateUser(ctx context.Context, u core.User) error {
	other := u
	other.Email = "other@b.test"
	_ = r.memUsers.CreateUser(ctx, other)
	return r.memUsers.CreateUser(ctx, u)
}

// TestNoUserStore: without a store the token's mapped roles are the
// request's roles.
func TestNoUserStore(t *testing.T) {
	clk := newFakeClock(time.Now())
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	p := testProfile("kc", "api")
	p.RoleMap = core.RoleMap{"roles": {"admin": "admin"}}
	tok := key.sign(t, claimsAt(idp.doc.Issuer, "ann", "api", clk.Now(), map[string]any{"roles": []any{"admin"}}))
	r := idp.validator(clk, nil).Validate(context.Background(), p, tok)
	if !r.Accepted() || !slices.Equal(r.Roles, []string{"admin"}) || r.User != nil || r.Login != "ann" {
		t.Errorf("%s %v %+v", r.Reason, r.Roles, r.User)
	}
}

// TestZeroValidator: a Validator with only a discovery source works with a
// key cache of its own and the real clock.
func TestZeroValidator(t *testing.T) {
	key := newKey(t, "k1", "EdDSA")
	idp := newIDP(t, "", key)
	v := New(Config{Discovery: &staticDiscovery{doc: idp.doc}})
	r := v.Validate(context.Background(), testProfile("p", "api"), key.sign(t, claimsAt(idp.doc.Issuer, "svc", "api", time.Now(), nil)))
	if !r.Accepted() || r.Login != "svc" || r.Alg != "EdDSA" {
		t.Errorf("%s: %s", r.Reason, r.Message)
	}
}

// TestControlCharactersRefused: a claim that names the user and holds a
// control character (a terminal escape sequence, a newline, a byte that is
// not UTF-8) refuses the token with ReasonControlCharacters, 401, and no
// user is created or changed, also by import-user (Detail without DryRun).
func TestControlCharactersRefused(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	key := newKey(t, "k1", "RS256")
	idp := newIDP(t, "", key)
	ctx := context.Background()
	p := testProfile("kc", "api")
	p.RoleMap = core.RoleMap{"roles": {"admin": "admin", "evil\x1b[2J": "admin"}}
	p.UserMap = core.UserMap{"email": core.UserEmail, "given_name": core.UserFirstName, "family_name": core.UserLastName}
	const evil = "evil\x1b]0;pwned\x07x"
	ok := map[string]any{"roles": []any{"admin"}, "email": "ann@example.test", "given_name": "Ann", "family_name": "Smith"}
	for _, tt := range []struct {
		name  string
		uid   string
		sub   string
		extra map[string]any
		claim string // named in the message
	}{
		{"sub with an OSC escape", "", evil, nil, `"sub"`},
		{"sub with a newline, UID claim elsewhere", "preferred_username", "a\nb", map[string]any{"preferred_username": "ann"}, `"sub"`},
		{"UID claim with a CSI escape", "preferred_username", "ann", map[string]any{"preferred_username": "ann\x1b[2J"}, `"preferred_username"`},
		{"UID claim with a C1 control", "preferred_username", "ann", map[string]any{"preferred_username": "ann\u009b2J"}, `"preferred_username"`},
		{"UID claim not UTF-8", "preferred_username", "ann", map[string]any{"preferred_username": "ann\xff"}, `"preferred_username"`},
		{"role with an escape", "", "ann", map[string]any{"roles": []any{"admin", "evil\x1b[2J"}}, `"role"`},
		{"first name with an escape", "", "ann", map[string]any{"given_name": "A\x1b[31mnn"}, `"given_name"`},
		{"email with DEL", "", "ann", map[string]any{"email": "ann\x7f@example.test"}, `"email"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prof := p
			prof.UIDClaim = tt.uid
			claims := claimsAt(idp.doc.Issuer, tt.sub, "api", clk.Now(), merge(ok, tt.extra))
			tok := key.sign(t, claims)
			if login, _ := claims["preferred_username"].(string); !utf8.ValidString(login) {
				// json.Marshal would make the byte U+FFFD: the payload
				// carries it raw, as a provider could.
				claims["preferred_username"] = "RAW"
				b, err := json.Marshal(claims)
				if err != nil {
					t.Fatal(err)
				}
				b = bytes.Replace(b, []byte(`"RAW"`), []byte(`"`+login+`"`), 1)
				input := b64part(t, map[string]any{"alg": key.alg, "kid": key.kid}) + "." + base64.RawURLEncoding.EncodeToString(b)
				tok = input + "." + base64.RawURLEncoding.EncodeToString(signRaw(t, key.priv, key.alg, []byte(input)))
			}
			users := newMemUsers()
			v := idp.validator(clk, users)
			for _, r := range []*Result{
				v.Validate(ctx, prof, tok),
				v.ValidateWith(ctx, prof, tok, Options{Detail: true}), // import-user
				v.Inspect(ctx, prof, tok),
			} {
				if r.Reason != ReasonControlCharacters || r.Status() != 401 || r.Reason.ErrorCode() != "invalid_token" {
					t.Fatalf("Reason %q status %d: %s", r.Reason, r.Status(), r.Message)
				}
				if !strings.Contains(r.Message, tt.claim) || !utf8.ValidString(r.Message) || strings.IndexFunc(r.Message, unicode.IsControl) >= 0 {
					t.Errorf("Message %q: wants %s, no raw control characters", r.Message, tt.claim)
				}
			}
			if _, writes := users.counts(); writes != 0 || len(users.users) != 0 {
				t.Errorf("the user store was written: %v", users.users)
			}
		})
	}
	// A clean token of the same shape is accepted and creates the user:
	// the cases above fail for the control character alone.
	users := newMemUsers()
	r := idp.validator(clk, users).Validate(ctx, p, key.sign(t, claimsAt(idp.doc.Issuer, "ann", "api", clk.Now(), ok)))
	if !r.Accepted() || r.UserAction != UserCreated {
		t.Fatalf("clean token: %s %s", r.Reason, r.Message)
	}
}
