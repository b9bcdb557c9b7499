package validate

import (
	"slices"
	"strings"
	"time"

	"oidcctl/core"
	"oidcctl/core/jws"
)

// The fast path of Validate.
//
// Validate (without Detail) reads the token with jws.ParseRaw: the claims
// its checks read stay raw JSON (slices of the decoded token), and the
// checks below read them without a map of boxed values. Each fast check
// only ever passes a token: where it cannot (a check fails, or a value is
// unusual), the check runs as before on the map of the same claims
// (run.claims, decoded on first use), which then gives the verdict, the
// reason and the message. So the fast path can only be right or step
// aside; TestFastPathAgrees and FuzzValidate (Validate against Inspect) hold it to the map's
// answers.

// claims returns the claims as a map: those of Inspect or an
// introspection response, or, on the fast path, the raw claims decoded
// (once).
func (x *run) claims() map[string]any {
	if x.merged != nil {
		return x.merged
	}
	if x.r.Claims == nil && x.fast {
		x.r.Claims = x.raw.Map()
	}
	return x.r.Claims
}

// header returns the token's header as a map (see claims).
func (x *run) header() map[string]any {
	if x.r.Header == nil && x.fast {
		x.r.Header = x.rawHeader.Map()
	}
	return x.r.Header
}

// headerHas reports whether the header has the parameter name.
func (x *run) headerHas(name string) bool {
	if x.fast {
		return x.rawHeader.Has(name)
	}
	_, ok := x.r.Header[name]
	return ok
}

// rawString is a claim that is a string; "" and false when it is absent
// or not a string.
func (x *run) rawString(name string) (string, bool) {
	v, _ := x.raw.Get(name)
	return jws.String(v)
}

// numericDate is jws.NumericDate on either form of the claims.
func (x *run) numericDate(name string) (t time.Time, ok, bad bool) {
	if x.fast {
		return jws.RawNumericDate(x.raw, name)
	}
	return jws.NumericDate(x.r.Claims, name)
}

// rawHasAudience is hasAudience on the raw aud.
func (x *run) rawHasAudience(want string) bool {
	aud, _ := x.raw.Get("aud")
	if s, ok := jws.String(aud); ok {
		return s == want
	}
	found := false
	jws.Elements(aud, func(e []byte) bool {
		s, ok := jws.String(e)
		found = ok && s == want
		return !found
	})
	return found
}

// rawAnyAudience is anyAudience on the raw aud.
func (x *run) rawAnyAudience(want []string) bool {
	for _, a := range want {
		if x.rawHasAudience(a) {
			return true
		}
	}
	return false
}

// rawGrants reports whether the token grants scope (see grantedScopes).
func (x *run) rawGrants(scope string, microsoft bool) bool {
	for _, name := range [...]string{"scope", "scp", "roles"} {
		if name == "roles" && !microsoft {
			break
		}
		v, ok := x.raw.Get(name)
		if !ok {
			continue
		}
		if s, ok := jws.String(v); ok && hasField(s, scope) {
			return true
		}
		found := false
		jws.Elements(v, func(e []byte) bool {
			s, ok := jws.String(e)
			found = ok && hasField(s, scope)
			return !found
		})
		if found {
			return true
		}
	}
	return false
}

// hasField reports whether want is one of strings.Fields(s).
func hasField(s, want string) bool {
	for f := range strings.FieldsSeq(s) {
		if f == want {
			return true
		}
	}
	return false
}

// rawPath is claimPath on the raw claims: top holds the top level, obj a
// deeper object (when top is nil).
func rawPath(top jws.Members, obj []byte, path string) ([]byte, bool) {
	get := func(name string) ([]byte, bool) {
		if top != nil {
			return top.Get(name)
		}
		return jws.Lookup(obj, name)
	}
	if v, ok := get(path); ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if m, ok := get(path[:i]); ok && len(m) > 0 && m[0] == '{' {
			if v, ok := rawPath(nil, m, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// rawStringClaim is stringClaim on a raw value. A string shares the
// token's memory: copy it before it outlives the run.
func rawStringClaim(v []byte) (string, bool) {
	if s, ok := jws.String(v); ok {
		return s, s != ""
	}
	if f, ok := jws.Number(v); ok {
		return stringClaim(f)
	}
	if b, ok := jws.Bool(v); ok {
		return stringClaim(b)
	}
	return "", false
}

// rawMapRoles is mapRoles on the raw claims without the list of token
// roles: ok is false when a role is not printable, and mapRoles must
// say so.
func rawMapRoles(rm core.RoleMap, claims jws.Members) (local []string, present, ok bool) {
	ok = true
	for path, roles := range rm {
		v, there := rawPath(claims, nil, path)
		if !there {
			continue
		}
		present = true
		each := func(e []byte) bool {
			role, isString := jws.String(e)
			if !isString {
				return true
			}
			if !printable(role) {
				ok = false
				return false
			}
			if l, found := roles[role]; found {
				local = append(local, l)
			}
			return true
		}
		if s, isString := jws.String(v); isString {
			// A string is matched word by word (see mapRoles), and
			// whole for an entry that holds a space.
			for word := range strings.SplitSeq(s, " ") {
				if word == "" {
					continue
				}
				if !printable(word) {
					return nil, false, false
				}
				if l, found := roles[word]; found {
					local = append(local, l)
				}
			}
			if strings.IndexByte(s, ' ') >= 0 {
				if l, found := roles[s]; found {
					local = append(local, l)
				}
			}
			continue
		}
		jws.Elements(v, each)
		if !ok {
			return nil, false, false
		}
	}
	slices.Sort(local)
	return slices.Compact(local), present, true
}
