package validate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"oidcctl/core"
)

// Users and roles.
//
// The profile's UID claim names the login. The role map turns the token's
// roles into local roles: for every claim path of the map, each value of
// the claim (a string or a list of strings) that the map names gives its
// local role.
//
// An existing user is accepted. When the token maps to at least one local
// role, the user's roles are brought up to date: the roles the role map can
// give (its right-hand sides) become exactly those the token maps to, and
// any other role of the user, given by hand, stays. A token that maps to no
// role leaves the user's roles alone, so that a user made by hand (the
// manual's second option) keeps working with tokens that carry no roles.
//
// A user that does not exist is created only when the token passed every
// check and restriction, maps to at least one local role, and the user map
// yields an email (the manual: "email is mandatory"); its first and last
// name come from the user map too. Otherwise the token is refused with a
// reason that says what to configure.

// mapRoles returns the local roles (sorted, unique) that the token's
// claims map to, the token roles found at the map's claim paths, and
// whether any of those paths is in the token at all.
func mapRoles(rm core.RoleMap, claims map[string]any) (local, found []string, present bool) {
	for path, roles := range rm {
		v, ok := claimPath(claims, path)
		if !ok {
			continue
		}
		present = true
		for _, role := range roleValues(v) {
			found = append(found, role)
			if l, ok := roles[role]; ok {
				local = append(local, l)
			}
		}
		if s, ok := v.(string); ok && strings.IndexByte(s, ' ') >= 0 {
			if l, ok := roles[s]; ok {
				local = append(local, l)
			}
		}
	}
	slices.Sort(local)
	return slices.Compact(local), found, present
}

// roleValues returns the values of a role claim: a list's strings, or a
// string's words separated by spaces (only U+0020, so that a control
// character stays in its word and is refused).
func roleValues(v any) []string {
	s, ok := v.(string)
	if !ok {
		return stringsOf(v)
	}
	var out []string
	for word := range strings.SplitSeq(s, " ") {
		if word != "" {
			out = append(out, word)
		}
	}
	return out
}

// managedRoles are the local roles a role map can give.
func managedRoles(rm core.RoleMap) map[string]bool {
	m := make(map[string]bool)
	for _, roles := range rm {
		for _, l := range roles {
			m[l] = true
		}
	}
	return m
}

// updatedRoles returns the user's roles brought up to date from the
// token's local roles (see above).
func updatedRoles(have, mapped []string, rm core.RoleMap) []string {
	managed := managedRoles(rm)
	out := slices.Clone(mapped)
	for _, r := range have {
		if !managed[r] {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rolesUpToDate reports whether updatedRoles(have, mapped, rm) equals
// have, without building it (mapped is sorted and unique, as mapRoles
// gives it): have is sorted and unique, holds every mapped role, and
// every other role of have is one the role map cannot give.
func rolesUpToDate(have, mapped []string, rm core.RoleMap) bool {
	for i := 1; i < len(have); i++ {
		if have[i-1] >= have[i] {
			return false
		}
	}
	for _, m := range mapped {
		if _, ok := slices.BinarySearch(have, m); !ok {
			return false
		}
	}
	for _, h := range have {
		if _, ok := slices.BinarySearch(mapped, h); ok {
			continue
		}
		for _, roles := range rm {
			for _, l := range roles {
				if l == h {
					return false
				}
			}
		}
	}
	return true
}

// userStep maps the token to a local user: it finds, updates or creates
// the user (or, in a dry run or after a failed check, says what it would
// do).
func (x *run) userStep() {
	r, p := x.r, &x.p
	var local, found []string
	present, fast := false, false
	if x.fast {
		// found is only for a user to create and for a role that is
		// not printable: mapRoles gives it then.
		local, present, fast = rawMapRoles(p.RoleMap, x.raw)
	}
	if !fast {
		local, found, present = mapRoles(p.RoleMap, x.claims())
	}
	for _, role := range found {
		if !printable(role) {
			if !x.printableClaim(CheckUser, "role", role) {
				return
			}
			break
		}
	}
	r.TokenRoles = local
	if x.v.cfg.Users == nil {
		r.Roles = local
		x.pass(CheckUser, "no user store: the token's roles are used as they are")
		return
	}
	write := !x.dryRun && !x.failed
	u, err := x.v.cfg.Users.User(x.ctx, r.Login)
	if errors.Is(err, core.ErrNotFound) {
		if fast {
			local, found, present = mapRoles(p.RoleMap, x.claims())
		}
		x.createUser(local, found, present, write)
		return
	}
	if err != nil {
		x.fail(CheckUser, ReasonUserStoreError, err.Error(),
			fmt.Sprintf("Cannot read user %s from the user store: %v", quote(r.Login), err))
		return
	}
	if len(local) > 0 {
		if !rolesUpToDate(u.Roles, local, p.RoleMap) {
			want := updatedRoles(u.Roles, local, p.RoleMap)
			if !write {
				u.Roles = want
				r.User, r.UserAction, r.Roles = &u, UserWouldUpdate, u.Roles
				x.pass(CheckUser, fmt.Sprintf("user %s exists; its roles would become %s", quote(u.Login), quoteList(want)))
				return
			}
			// The closure must not capture x, or every run escapes to
			// the heap.
			rm, now := p.RoleMap, x.now
			u, err = x.v.cfg.Users.UpdateUser(x.ctx, r.Login, func(cur *core.User) error {
				cur.Roles = updatedRoles(cur.Roles, local, rm)
				cur.UpdatedAt = now
				return nil
			})
			if err != nil {
				x.fail(CheckUser, ReasonUserStoreError, err.Error(),
					fmt.Sprintf("Cannot update the roles of user %s: %v", quote(r.Login), err))
				return
			}
			r.User, r.UserAction, r.Roles = &u, UserUpdated, u.Roles
			x.pass(CheckUser, fmt.Sprintf("user %s exists; its roles were brought up to date: %s", quote(u.Login), quoteList(u.Roles)))
			return
		}
	}
	r.User, r.UserAction, r.Roles = &u, UserFound, u.Roles
	if x.detail {
		x.pass(CheckUser, fmt.Sprintf("user %s exists with roles %s", quote(u.Login), quoteList(u.Roles)))
	}
}

// createUser handles a token whose user does not exist.
func (x *run) createUser(local, found []string, present, write bool) {
	r, p := x.r, x.p
	login := quote(r.Login)
	switch {
	case len(p.RoleMap) == 0:
		x.fail(CheckUser, ReasonUserUnknown, "no such user, and the profile has no role map to create it from",
			fmt.Sprintf("User %s does not exist and profile %q has no role map, so it cannot be created from the token: "+
				"create it by hand (oidcctl user add %s --email … --role …), or give the profile a role map and a user map with email.",
				login, p.Name, r.Login))
		return
	case !present:
		paths := slices.Sorted(maps.Keys(p.RoleMap))
		x.fail(CheckUser, ReasonNoMappedRoles, "no such user, and the token has none of the role map's claims",
			fmt.Sprintf("User %s does not exist and the token carries none of the role map's claims (%s), so no user can be created: "+
				"make the provider put the roles into the access token, or create the user by hand.", login, strings.Join(paths, ", ")))
		return
	case len(local) == 0:
		slices.Sort(found)
		x.fail(CheckUser, ReasonNoMappedRoles, fmt.Sprintf("no such user, and the token's roles %s map to no local role", quoteList(found)),
			fmt.Sprintf("User %s does not exist and the token's roles %s map to no local role, so it cannot be created: "+
				"add them to profile %q's role map, or create the user by hand.", login, quoteList(found), p.Name))
		return
	}
	u := core.User{Login: r.Login, Roles: local, Profile: p.Name, CreatedAt: x.now, UpdatedAt: x.now}
	emailClaim := p.UserMap.ClaimFor(core.UserEmail)
	if emailClaim == "" {
		x.fail(CheckUser, ReasonNoEmail, "no such user, and the user map has no claim for Email",
			fmt.Sprintf("User %s does not exist and profile %q's user map names no claim for Email, which a new user needs: "+
				"add one (usually email: Email), or create the user by hand.", login, p.Name))
		return
	}
	v, _ := claimPath(x.claims(), emailClaim)
	u.Email, _ = v.(string)
	if !strings.Contains(u.Email, "@") {
		x.fail(CheckUser, ReasonNoEmail, fmt.Sprintf("no such user, and the token's %s claim holds no email", emailClaim),
			fmt.Sprintf("User %s does not exist and the token has no email in its %s claim, which a new user needs: "+
				"make the provider put it into the access token (often the email scope), or create the user by hand.", login, quote(emailClaim)))
		return
	}
	if c := p.UserMap.ClaimFor(core.UserFirstName); c != "" {
		v, _ := claimPath(x.claims(), c)
		u.FirstName, _ = v.(string)
	}
	if c := p.UserMap.ClaimFor(core.UserLastName); c != "" {
		v, _ := claimPath(x.claims(), c)
		u.LastName, _ = v.(string)
	}
	for _, f := range []struct{ claim, value string }{
		{emailClaim, u.Email},
		{p.UserMap.ClaimFor(core.UserFirstName), u.FirstName},
		{p.UserMap.ClaimFor(core.UserLastName), u.LastName},
	} {
		if !printable(f.value) {
			// Not even a dry run goes on: the user must not be made.
			x.printableClaim(CheckUser, f.claim, f.value)
			return
		}
	}
	if !write {
		r.User, r.UserAction, r.Roles = &u, UserWouldCreate, u.Roles
		x.pass(CheckUser, fmt.Sprintf("no such user; it would be created with email %s and roles %s", quote(u.Email), quoteList(u.Roles)))
		return
	}
	err := x.v.cfg.Users.CreateUser(x.ctx, u)
	if errors.Is(err, core.ErrExists) {
		// Another request created it first: take it as it is now.
		if u, err = x.v.cfg.Users.User(x.ctx, r.Login); err == nil {
			r.User, r.UserAction, r.Roles = &u, UserFound, u.Roles
			x.pass(CheckUser, "user "+login+" was created by another request")
			return
		}
	}
	if err != nil {
		x.fail(CheckUser, ReasonUserStoreError, err.Error(),
			fmt.Sprintf("Cannot create user %s: %v", login, err))
		return
	}
	r.User, r.UserAction, r.Roles = &u, UserCreated, u.Roles
	x.pass(CheckUser, fmt.Sprintf("user %s created with email %s and roles %s", login, quote(u.Email), quoteList(u.Roles)))
}
