package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"oidcctl/core"
)

// Export returns every profile and account in the store.
func Export(ctx context.Context, store core.Store, withSecrets bool) (Document, error) {
	doc := Document{Version: Version, Profiles: []Profile{}, Accounts: []Account{}}
	profiles, err := store.Profiles(ctx)
	if err != nil {
		return doc, fmt.Errorf("export: %w", err)
	}
	for _, p := range profiles {
		d := FromProfile(p, withSecrets)
		d.CreatedAt, d.UpdatedAt = nil, nil
		doc.Profiles = append(doc.Profiles, d)
	}
	accounts, err := store.Accounts(ctx, "")
	if err != nil {
		return doc, fmt.Errorf("export: %w", err)
	}
	for _, a := range accounts {
		d := FromAccount(a, withSecrets)
		d.CreatedAt, d.UpdatedAt = nil, nil
		doc.Accounts = append(doc.Accounts, d)
	}
	return doc, nil
}

// Parse reads a YAML (or JSON) document and refuses unknown fields and
// versions, so that a typo is not silently dropped.
func Parse(data []byte) (Document, error) {
	var doc Document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return doc, fmt.Errorf("parse configuration: %w", err)
	}
	if doc.Version != Version {
		return doc, fmt.Errorf("parse configuration: version %d, this oidcctl reads version %d", doc.Version, Version)
	}
	return doc, nil
}

// Change is what Import did, or would do, to one profile or account.
type Change struct {
	Kind   string `json:"kind"` // "profile" or "account"
	Name   string `json:"name"`
	Action string `json:"action"` // "create", "update" or "unchanged"
}

// Import creates the profiles and accounts of doc that the store lacks and
// updates those it has. A secret that the document leaves out is kept as
// stored, so that a document exported without secrets can be imported
// again. Everything is validated before anything is written; with dryRun
// nothing is written at all.
func Import(ctx context.Context, reg core.Registry, doc Document, dryRun bool) ([]Change, error) {
	plan, err := planImport(ctx, reg, doc)
	if err != nil || dryRun {
		return changesOf(plan), err
	}
	for _, s := range plan {
		if err := s.apply(ctx, reg); err != nil {
			return changesOf(plan), fmt.Errorf("import %s %s: %w", s.change.Kind, s.change.Name, err)
		}
	}
	return changesOf(plan), nil
}

type step struct {
	change  Change
	profile *core.Profile
	account *core.Account
}

func (s step) apply(ctx context.Context, reg core.Registry) error {
	switch {
	case s.change.Action == "unchanged":
		return nil
	case s.profile != nil && s.change.Action == "create":
		return reg.AddProfile(ctx, *s.profile)
	case s.profile != nil:
		_, err := reg.EditProfile(ctx, s.profile.Name, func(p *core.Profile) error {
			*p = mergeProfile(*p, *s.profile)
			return nil
		})
		return err
	case s.change.Action == "create":
		return reg.AddAccount(ctx, *s.account)
	default:
		_, err := reg.EditAccount(ctx, s.account.Name, func(a *core.Account) error {
			*a = mergeAccount(*a, *s.account)
			return nil
		})
		return err
	}
}

func changesOf(plan []step) []Change {
	out := make([]Change, len(plan))
	for i, s := range plan {
		out[i] = s.change
	}
	return out
}

func planImport(ctx context.Context, reg core.Registry, doc Document) ([]step, error) {
	var plan []step
	var problems []error
	// Names that differ only in case name one thing (the store refuses the
	// second): found here, so that nothing is imported.
	storedProfiles, storedAccounts, err := storedNames(ctx, reg)
	if err != nil {
		return nil, err
	}
	profiles := map[string]bool{}
	seenProfiles := map[string]string{} // lower case → as in the file
	for _, d := range doc.Profiles {
		p := d.ToProfile()
		if profiles[p.Name] {
			problems = append(problems, fmt.Errorf("profile %q appears twice", p.Name))
			continue
		}
		if other, ok := seenProfiles[strings.ToLower(p.Name)]; ok {
			problems = append(problems, caseTwin("profile", p.Name, "profile "+strconv.Quote(other)+" in the file"))
			continue
		}
		if other, ok := storedProfiles[strings.ToLower(p.Name)]; ok && other != p.Name {
			problems = append(problems, caseTwin("profile", p.Name, "stored profile "+strconv.Quote(other)))
			continue
		}
		profiles[p.Name] = true
		seenProfiles[strings.ToLower(p.Name)] = p.Name
		old, err := reg.Profile(ctx, p.Name)
		action, err := actionFor(err, func() bool {
			merged := mergeProfile(old, p)
			return reflect.DeepEqual(FromProfile(merged, true), FromProfile(old, true))
		})
		if err != nil {
			return nil, err
		}
		if action != "create" {
			p = mergeProfile(old, p)
		}
		if err := p.Validate(); err != nil {
			problems = append(problems, err)
		}
		plan = append(plan, step{change: Change{"profile", p.Name, action}, profile: &p})
	}
	accounts := map[string]bool{}
	seenAccounts := map[string]string{}
	for _, d := range doc.Accounts {
		a := d.ToAccount()
		if accounts[a.Name] {
			problems = append(problems, fmt.Errorf("account %q appears twice", a.Name))
			continue
		}
		if other, ok := seenAccounts[strings.ToLower(a.Name)]; ok {
			problems = append(problems, caseTwin("account", a.Name, "account "+strconv.Quote(other)+" in the file"))
			continue
		}
		if other, ok := storedAccounts[strings.ToLower(a.Name)]; ok && other != a.Name {
			problems = append(problems, caseTwin("account", a.Name, "stored account "+strconv.Quote(other)))
			continue
		}
		accounts[a.Name] = true
		seenAccounts[strings.ToLower(a.Name)] = a.Name
		if !profiles[a.Profile] {
			if _, err := reg.Profile(ctx, a.Profile); errors.Is(err, core.ErrNotFound) {
				problems = append(problems, fmt.Errorf("account %q: profile %q is neither in the file nor stored", a.Name, a.Profile))
			} else if err != nil {
				return nil, err
			}
		}
		old, err := reg.Account(ctx, a.Name)
		action, err := actionFor(err, func() bool {
			merged := mergeAccount(old, a)
			return reflect.DeepEqual(FromAccount(merged, true), FromAccount(old, true))
		})
		if err != nil {
			return nil, err
		}
		if action != "create" {
			a = mergeAccount(old, a)
		}
		if err := a.Validate(); err != nil {
			problems = append(problems, err)
		}
		plan = append(plan, step{change: Change{"account", a.Name, action}, account: &a})
	}
	if len(problems) > 0 {
		return plan, fmt.Errorf("nothing imported: %w", errors.Join(problems...))
	}
	return plan, nil
}

// caseTwin is the error for a name that differs from another only in case.
func caseTwin(kind, name, other string) error {
	return &core.ValidationError{Kind: kind, Name: name, Problems: []core.FieldError{{
		Field: "name", Problem: "differs only in case from the " + other,
	}}}
}

// storedNames returns the stored profile and account names by their lower
// case (names are ASCII, so this is the store's NOCASE).
func storedNames(ctx context.Context, reg core.Registry) (profiles, accounts map[string]string, err error) {
	ps, err := reg.Profiles(ctx)
	if err != nil {
		return nil, nil, err
	}
	as, err := reg.Accounts(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	profiles, accounts = map[string]string{}, map[string]string{}
	for _, p := range ps {
		profiles[strings.ToLower(p.Name)] = p.Name
	}
	for _, a := range as {
		accounts[strings.ToLower(a.Name)] = a.Name
	}
	return profiles, accounts, nil
}

// actionFor decides create, update or unchanged from the error of reading
// the stored version and whether merging changes nothing.
func actionFor(readErr error, same func() bool) (string, error) {
	switch {
	case errors.Is(readErr, core.ErrNotFound):
		return "create", nil
	case readErr != nil:
		return "", readErr
	case same():
		return "unchanged", nil
	}
	return "update", nil
}

// mergeProfile returns p with the secrets of old where p has none, and the
// timestamps of old.
func mergeProfile(old, p core.Profile) core.Profile {
	if !p.ClientSecret.IsSet() {
		p.ClientSecret = old.ClientSecret
	}
	if !p.TLS.ClientKeyPassword.IsSet() {
		p.TLS.ClientKeyPassword = old.TLS.ClientKeyPassword
	}
	if len(p.ClientKeys) == 0 { // the file never holds private keys
		p.ClientKeys = old.ClientKeys
	}
	p.CreatedAt, p.UpdatedAt = old.CreatedAt, old.UpdatedAt
	return p
}

// mergeAccount is mergeProfile for accounts.
func mergeAccount(old, a core.Account) core.Account {
	if !a.Password.IsSet() {
		a.Password = old.Password
	}
	a.CreatedAt, a.UpdatedAt = old.CreatedAt, old.UpdatedAt
	return a
}
