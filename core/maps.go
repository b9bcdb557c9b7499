package core

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RoleMap maps roles found in a token to local roles. Its key is a claim
// path, dotted for nested claims ("roles", "realm_access.roles",
// "resource_access.billing.roles"); its value maps a token role to a local
// role.
type RoleMap map[string]map[string]string

// UserMap maps a token claim to the local user field it fills: one of the
// UserField values.
type UserMap map[string]UserField

// UserField names a field of a local user that a claim can fill.
type UserField string

// The user fields a UserMap can fill.
const (
	UserEmail     UserField = "Email"
	UserFirstName UserField = "FirstName"
	UserLastName  UserField = "LastName"
)

// userFieldAliases accepts the manual's OTOBO names beside ours.
var userFieldAliases = map[string]UserField{
	"email": UserEmail, "useremail": UserEmail,
	"firstname": UserFirstName, "userfirstname": UserFirstName,
	"lastname": UserLastName, "userlastname": UserLastName,
}

// ParseRoleMap reads a role map from JSON or YAML. Besides the flat form
// {"realm_access.roles": {"admin": "admin"}} it takes the manual's nested
// form {"resource_access": {"billing": {"roles": {"admin": "admin"}}}}, in
// which every level whose values are maps is a step of the claim path.
func ParseRoleMap(data []byte) (RoleMap, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("role map is not valid JSON or YAML: %w", err)
	}
	rm := RoleMap{}
	if err := flattenRoleMap(rm, "", raw); err != nil {
		return nil, fmt.Errorf("role map: %w", err)
	}
	if msg := rm.validate(); msg != "" {
		return nil, fmt.Errorf("role map: %s", msg)
	}
	return rm, nil
}

func flattenRoleMap(rm RoleMap, prefix string, node map[string]any) error {
	for key, val := range node {
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		child, ok := val.(map[string]any)
		if !ok {
			return fmt.Errorf("%q: want a map of token role to local role, got %v", path, val)
		}
		leaf, nested := splitLeaves(child)
		if len(leaf) > 0 && len(nested) > 0 {
			return fmt.Errorf("%q mixes roles and nested claims", path)
		}
		if len(leaf) > 0 {
			rm[path] = leaf
			continue
		}
		if err := flattenRoleMap(rm, path, nested); err != nil {
			return err
		}
	}
	return nil
}

func splitLeaves(m map[string]any) (map[string]string, map[string]any) {
	leaf, nested := map[string]string{}, map[string]any{}
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			nested[k] = v
		default:
			leaf[k] = fmt.Sprint(v)
		}
	}
	return leaf, nested
}

// Clone returns a deep copy.
func (rm RoleMap) Clone() RoleMap {
	if rm == nil {
		return nil
	}
	out := make(RoleMap, len(rm))
	for k, v := range rm {
		out[k] = maps.Clone(v)
	}
	return out
}

func (rm RoleMap) validate() string {
	for _, path := range slices.Sorted(maps.Keys(rm)) {
		if path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
			return fmt.Sprintf("claim path %q is not a dotted claim path", path)
		}
		for tokenRole, local := range rm[path] {
			if strings.TrimSpace(tokenRole) == "" || strings.TrimSpace(local) == "" {
				return fmt.Sprintf("%q: token role and local role must both be non-empty", path)
			}
		}
	}
	return ""
}

// ParseUserMap reads a user map from JSON or YAML: claim → field, where the
// field is Email, FirstName or LastName (the manual's UserEmail,
// UserFirstname and UserLastname are accepted too).
func ParseUserMap(data []byte) (UserMap, error) {
	var raw map[string]string
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("user map is not valid JSON or YAML (want claim: field): %w", err)
	}
	um := UserMap{}
	for claim, field := range raw {
		f, ok := userFieldAliases[strings.ToLower(strings.TrimSpace(field))]
		if !ok {
			return nil, fmt.Errorf("user map: %q maps to %q, want Email, FirstName or LastName", claim, field)
		}
		um[claim] = f
	}
	if msg := um.validate(); msg != "" {
		return nil, fmt.Errorf("user map: %s", msg)
	}
	return um, nil
}

// Clone returns a copy.
func (um UserMap) Clone() UserMap { return maps.Clone(um) }

// ClaimFor returns the claim that fills field, or "".
func (um UserMap) ClaimFor(field UserField) string {
	for claim, f := range um {
		if f == field {
			return claim
		}
	}
	return ""
}

func (um UserMap) validate() string {
	if len(um) == 0 {
		return ""
	}
	seen := map[UserField]string{}
	for _, claim := range slices.Sorted(maps.Keys(um)) {
		f := um[claim]
		if f != UserEmail && f != UserFirstName && f != UserLastName {
			return fmt.Sprintf("%q maps to unknown field %q", claim, f)
		}
		if prev, dup := seen[f]; dup {
			return fmt.Sprintf("both %q and %q map to %s", prev, claim, f)
		}
		seen[f] = claim
	}
	if _, ok := seen[UserEmail]; !ok {
		return "no claim maps to Email, which is needed to create users (usually email: Email)"
	}
	return ""
}
