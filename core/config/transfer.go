package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"oidcctl/core"
	"oidcctl/core/tokens"
)

// Settings are the shared settings a document holds, in the order they are
// listed.
var Settings = []string{tokens.SettingSchedule, tokens.SettingInterval}

// Export returns the whole setup in the store: the settings that are set,
// every profile, account, webservice and user. Secrets are in it only
// withSecrets; otherwise each one the store has (or misses) is
// {required: true}.
func Export(ctx context.Context, store core.Store, withSecrets bool) (Document, error) {
	doc := Document{Version: Version, Profiles: []Profile{}, Accounts: []Account{}}
	for _, key := range Settings {
		v, ok, err := store.Setting(ctx, key)
		if err != nil {
			return doc, fmt.Errorf("export: %w", err)
		}
		if ok && v != "" {
			if doc.Settings == nil {
				doc.Settings = map[string]string{}
			}
			doc.Settings[key] = v
		}
	}
	profiles, err := store.Profiles(ctx)
	if err != nil {
		return doc, fmt.Errorf("export: %w", err)
	}
	for _, p := range profiles {
		doc.Profiles = append(doc.Profiles, fileProfile(p, withSecrets))
	}
	accounts, err := store.Accounts(ctx, "")
	if err != nil {
		return doc, fmt.Errorf("export: %w", err)
	}
	for _, a := range accounts {
		doc.Accounts = append(doc.Accounts, fileAccount(a, withSecrets))
	}
	webservices, err := store.Webservices(ctx)
	if err != nil {
		return doc, fmt.Errorf("export: %w", err)
	}
	for _, w := range webservices {
		doc.Webservices = append(doc.Webservices, FromWebservice(w))
	}
	users, err := store.Users(ctx)
	if err != nil {
		return doc, fmt.Errorf("export: %w", err)
	}
	for _, u := range users {
		doc.Users = append(doc.Users, FromUser(u))
	}
	return doc, nil
}

// fileProfile is the form of a profile in a file: without what the store
// keeps of it (times, state).
func fileProfile(p core.Profile, withSecrets bool) Profile {
	d := FromProfile(p, withSecrets)
	d.CreatedAt, d.UpdatedAt, d.State = nil, nil, ""
	return d
}

// fileAccount is fileProfile for accounts.
func fileAccount(a core.Account, withSecrets bool) Account {
	d := FromAccount(a, withSecrets)
	d.CreatedAt, d.UpdatedAt, d.State = nil, nil, ""
	return d
}

// Parse reads a YAML (or JSON) document and refuses unknown fields and
// versions, so that a typo is not silently dropped. A version 1 document
// (durations as "30m") is read as the version 2 document it stands for.
func Parse(data []byte) (Document, error) {
	var doc Document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return doc, fmt.Errorf("parse configuration: %w", err)
	}
	switch doc.Version {
	case 1:
		if len(doc.Settings) > 0 || len(doc.Webservices) > 0 || len(doc.Users) > 0 {
			return doc, errors.New("parse configuration: settings, webservices and users need version 2")
		}
		for i := range doc.Profiles {
			p := &doc.Profiles[i]
			p.DiscoveryTTLSeconds, p.DiscoveryTTL = Seconds(p.DiscoveryTTL), 0
			p.Misc.RandTTLSeconds, p.Misc.RandTTL = Seconds(p.Misc.RandTTL), 0
			p.Misc.LeewaySeconds, p.Misc.Leeway = Seconds(p.Misc.Leeway), 0
		}
		doc.Version = Version
	case Version:
		for _, p := range doc.Profiles {
			for _, f := range []struct {
				old string
				d   Duration
			}{{"discovery_ttl", p.DiscoveryTTL}, {"misc.rand_ttl", p.Misc.RandTTL}, {"misc.leeway", p.Misc.Leeway}} {
				if f.d != 0 {
					return doc, fmt.Errorf("parse configuration: profile %q: %s is a version 1 field; version %d writes %s_seconds, a number of seconds", p.Name, f.old, Version, f.old)
				}
			}
		}
	default:
		return doc, fmt.Errorf("parse configuration: version %d, this oidcctl reads versions 1 and %d", doc.Version, Version)
	}
	return doc, nil
}

// Options change what Import does.
type Options struct {
	// DryRun only plans: nothing is written.
	DryRun bool
	// Prune removes the settings, profiles, accounts, webservices and
	// users that the store has and the document does not.
	Prune bool
	// Getenv reads the environment for {env: NAME} and
	// {credential: NAME} ($CREDENTIALS_DIRECTORY); nil reads nothing.
	Getenv func(string) string
	// Dir is where relative {file: PATH} references start; "" is the
	// working directory.
	Dir string
	// Accounts removes the accounts that Prune removes, revoking their
	// tokens at the provider first, as `oidcctl account rm` does
	// (*tokens.Manager is one). Prune refuses to remove an account that
	// holds tokens without it, unless NoRevoke.
	Accounts AccountRemover
	// NoRevoke: Prune forgets the tokens of the accounts it removes
	// without revoking them; they stay valid at the provider until they
	// expire.
	NoRevoke bool
}

// AccountRemover removes an account, revoking its tokens at the provider
// first when revoke is set; *tokens.Manager is one.
type AccountRemover interface {
	RemoveAccount(ctx context.Context, account string, revoke bool) (tokens.Revoked, error)
}

// Fields of a pruned account's Change: what happens to its tokens.
const (
	TokensRevoked   = "revoked at the provider, then forgotten"
	TokensForgotten = "forgotten without being revoked (they stay valid at the provider until they expire)"
)

// The actions of a Change.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
	ActionDelete    = "delete"
)

// Change is what Import did, or would do, to one setting, profile,
// account, webservice or user.
type Change struct {
	Kind   string `json:"kind"` // "setting", "profile", "account", "webservice" or "user"
	Name   string `json:"name"`
	Action string `json:"action"` // one of the Action constants
	// Fields are the fields an update changes; for a create, the state of
	// its secrets. Secrets are "set" or "missing", never their values.
	Fields []FieldChange `json:"fields,omitempty"`
	// NeedsSecret: after the import it lacks a secret it needs.
	NeedsSecret bool `json:"needs_secret,omitempty"`
}

// FieldChange is one changed field: its path in the document ("misc.
// leeway_seconds") and its values before and after, as in the document
// ("" for none).
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Import creates what doc has and the store lacks and updates what both
// have; with Prune it removes what the store has and doc does not. Secret
// references are read first. A secret that doc leaves out is kept as
// stored; one that doc names ({required: true}) and the store lacks is
// imported as missing, and the thing is marked as needing it. Everything
// is validated before anything is written; with DryRun nothing is written
// at all.
func Import(ctx context.Context, reg core.Registry, doc Document, opt Options) ([]Change, error) {
	if err := Resolve(&doc, opt.Getenv, opt.Dir); err != nil {
		return nil, err
	}
	plan, err := planImport(ctx, reg, doc, opt)
	if err != nil || opt.DryRun {
		return plan.changes(), err
	}
	if err := plan.apply(ctx, reg); err != nil {
		return plan.changes(), err
	}
	return plan.changes(), nil
}

// step is one change and how to make it.
type step struct {
	change Change
	do     func(ctx context.Context, reg core.Registry) error
}

// plan holds the steps by kind, in the order kinds are created.
type plan struct {
	upserts, deletes [5][]step
}

// The kinds in the order they are created (and the reverse of the order
// they are deleted in: nothing is removed while something uses it).
const (
	kSetting = iota
	kProfile
	kAccount
	kWebservice
	kUser
)

func (p *plan) changes() []Change {
	var out []Change
	for k := range p.upserts {
		for _, s := range p.upserts[k] {
			out = append(out, s.change)
		}
		for _, s := range p.deletes[k] {
			out = append(out, s.change)
		}
	}
	return out
}

func (p *plan) apply(ctx context.Context, reg core.Registry) error {
	run := func(s step) error {
		if s.do == nil {
			return nil
		}
		if err := s.do(ctx, reg); err != nil {
			return fmt.Errorf("import: %s %s %s: %w", s.change.Action, s.change.Kind, s.change.Name, err)
		}
		return nil
	}
	for k := range p.upserts {
		for _, s := range p.upserts[k] {
			if err := run(s); err != nil {
				return err
			}
		}
	}
	for k := len(p.deletes) - 1; k >= 0; k-- {
		for _, s := range p.deletes[k] {
			if err := run(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// names tells the names of one kind in the file from those stored: by
// their lower case, as the store's NOCASE compares them.
type names struct {
	kind   string
	stored map[string]string // lower case → as stored
	inFile map[string]string // lower case → as in the file
}

func newNames(kind string, stored []string) *names {
	n := &names{kind: kind, stored: map[string]string{}, inFile: map[string]string{}}
	for _, s := range stored {
		n.stored[strings.ToLower(s)] = s
	}
	return n
}

// add records a name of the file; an error when it is there twice or
// differs only in case from another.
func (n *names) add(name string) error {
	low := strings.ToLower(name)
	if other, ok := n.inFile[low]; ok {
		if other == name {
			return fmt.Errorf("%s %q appears twice", n.kind, name)
		}
		return caseTwin(n.kind, name, n.kind+" "+strconv.Quote(other)+" in the file")
	}
	if other, ok := n.stored[low]; ok && other != name {
		return caseTwin(n.kind, name, "stored "+n.kind+" "+strconv.Quote(other))
	}
	n.inFile[low] = name
	return nil
}

// has reports whether name will exist after the import.
func (n *names) has(name string, prune bool) bool {
	low := strings.ToLower(name)
	if _, ok := n.inFile[low]; ok {
		return true
	}
	_, ok := n.stored[low]
	return ok && !prune
}

// gone returns the stored names the file lacks, in order.
func (n *names) gone() []string {
	var out []string
	for low, name := range n.stored {
		if _, ok := n.inFile[low]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func planImport(ctx context.Context, reg core.Registry, doc Document, opt Options) (*plan, error) {
	prune := opt.Prune
	p := &plan{}
	var problems []error
	problem := func(err error) { problems = append(problems, err) }

	// Settings: checked together, as the schedule reads them together.
	for key := range doc.Settings {
		if !slices.Contains(Settings, key) {
			problem(fmt.Errorf("unknown setting %q: oidcctl knows %s", key, strings.Join(Settings, ", ")))
		}
	}
	if _, err := tokens.ParseSchedule(doc.Settings[tokens.SettingSchedule], doc.Settings[tokens.SettingInterval]); err != nil {
		problem(fmt.Errorf("settings: %w", err))
	}
	for _, key := range Settings {
		old, ok, err := reg.Setting(ctx, key)
		if err != nil {
			return nil, err
		}
		old = cond(ok, old, "")
		v, inFile := doc.Settings[key]
		v = strings.TrimSpace(v)
		c := Change{Kind: "setting", Name: key}
		switch {
		case !inFile || v == "":
			if old == "" || !prune {
				continue
			}
			c.Action, c.Fields = ActionDelete, []FieldChange{{Field: "value", From: old}}
			p.deletes[kSetting] = append(p.deletes[kSetting], step{c, setSetting(key, "")})
			continue
		case old == "":
			c.Action, c.Fields = ActionCreate, []FieldChange{{Field: "value", To: v}}
		case old == v:
			c.Action = ActionUnchanged
		default:
			c.Action, c.Fields = ActionUpdate, []FieldChange{{Field: "value", From: old, To: v}}
		}
		s := step{change: c}
		if c.Action != ActionUnchanged {
			s.do = setSetting(key, v)
		}
		p.upserts[kSetting] = append(p.upserts[kSetting], s)
	}

	storedProfiles, err := reg.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	storedAccounts, err := reg.Accounts(ctx, "")
	if err != nil {
		return nil, err
	}
	storedWebservices, err := reg.Webservices(ctx)
	if err != nil {
		return nil, err
	}
	storedUsers, err := reg.Users(ctx)
	if err != nil {
		return nil, err
	}
	profiles := newNames("profile", namesOf(storedProfiles, func(p core.Profile) string { return p.Name }))
	accounts := newNames("account", namesOf(storedAccounts, func(a core.Account) string { return a.Name }))
	webservices := newNames("webservice", namesOf(storedWebservices, func(w core.Webservice) string { return w.Name }))
	users := newNames("user", namesOf(storedUsers, func(u core.User) string { return u.Login }))

	for _, d := range doc.Profiles {
		if err := profiles.add(d.Name); err != nil {
			problem(err)
			continue
		}
		old, found := find(storedProfiles, func(p core.Profile) bool { return p.Name == d.Name })
		np := mergeProfile(old, found, d)
		if err := np.Validate(); err != nil {
			problem(err)
		}
		c := diff("profile", d.Name, found, fileProfile(old, true), fileProfile(np, true))
		c.NeedsSecret = np.NeedsSecret()
		p.upserts[kProfile] = append(p.upserts[kProfile], step{c, upsertProfile(c.Action, np)})
	}
	for _, d := range doc.Accounts {
		if err := accounts.add(d.Name); err != nil {
			problem(err)
			continue
		}
		if !profiles.has(d.Profile, prune) {
			problem(fmt.Errorf("account %q: profile %q is %s", d.Name, d.Profile, notThere(prune)))
		}
		old, found := find(storedAccounts, func(a core.Account) bool { return a.Name == d.Name })
		na := mergeAccount(old, found, d)
		if err := na.Validate(); err != nil {
			problem(err)
		}
		c := diff("account", d.Name, found, fileAccount(old, true), fileAccount(na, true))
		c.NeedsSecret = na.NeedsSecret()
		p.upserts[kAccount] = append(p.upserts[kAccount], step{c, upsertAccount(c.Action, na)})
	}
	for _, d := range doc.Webservices {
		if err := webservices.add(d.Name); err != nil {
			problem(err)
			continue
		}
		if d.Profile != "" && !profiles.has(d.Profile, prune) {
			problem(fmt.Errorf("webservice %q: profile %q is %s", d.Name, d.Profile, notThere(prune)))
		}
		if d.Account != "" && !accounts.has(d.Account, prune) {
			problem(fmt.Errorf("webservice %q: account %q is %s", d.Name, d.Account, notThere(prune)))
		}
		old, found := find(storedWebservices, func(w core.Webservice) bool { return w.Name == d.Name })
		nw := d.ToWebservice()
		if err := nw.Validate(); err != nil {
			problem(err)
		}
		c := diff("webservice", d.Name, found, FromWebservice(old), FromWebservice(nw))
		p.upserts[kWebservice] = append(p.upserts[kWebservice], step{c, upsertWebservice(c.Action, nw)})
	}
	for _, d := range doc.Users {
		if err := users.add(d.Login); err != nil {
			problem(err)
			continue
		}
		if d.Profile != "" && !profiles.has(d.Profile, prune) {
			problem(fmt.Errorf("user %q: profile %q is %s", d.Login, d.Profile, notThere(prune)))
		}
		old, found := find(storedUsers, func(u core.User) bool { return u.Login == d.Login })
		nu := d.ToUser()
		if err := nu.Validate(); err != nil {
			problem(err)
		}
		c := diff("user", d.Login, found, FromUser(old), FromUser(nu))
		p.upserts[kUser] = append(p.upserts[kUser], step{c, upsertUser(c.Action, nu)})
	}
	if prune {
		for _, name := range profiles.gone() {
			p.deletes[kProfile] = append(p.deletes[kProfile], step{Change{Kind: "profile", Name: name, Action: ActionDelete},
				func(ctx context.Context, reg core.Registry) error { return reg.DeleteProfile(ctx, name) }})
		}
		for _, name := range accounts.gone() {
			s, err := pruneAccount(ctx, reg, name, opt)
			if err != nil {
				problem(err)
				continue
			}
			p.deletes[kAccount] = append(p.deletes[kAccount], s)
		}
		for _, name := range webservices.gone() {
			p.deletes[kWebservice] = append(p.deletes[kWebservice], step{Change{Kind: "webservice", Name: name, Action: ActionDelete},
				func(ctx context.Context, reg core.Registry) error { return reg.DeleteWebservice(ctx, name) }})
		}
		for _, name := range users.gone() {
			p.deletes[kUser] = append(p.deletes[kUser], step{Change{Kind: "user", Name: name, Action: ActionDelete},
				func(ctx context.Context, reg core.Registry) error { return reg.DeleteUser(ctx, name) }})
		}
	}
	if len(problems) > 0 {
		return p, refused(problems)
	}
	return p, nil
}

// pruneAccount is the step that removes a stored account the document
// lacks: its tokens revoked at the provider first, as `account rm` does,
// unless opt.NoRevoke; the change says which.
func pruneAccount(ctx context.Context, reg core.Registry, name string, opt Options) (step, error) {
	c := Change{Kind: "account", Name: name, Action: ActionDelete}
	st, err := reg.TokenState(ctx, name)
	if err != nil {
		return step{}, fmt.Errorf("account %q: reading its tokens: %w", name, err)
	}
	if !tokens.Held(st) {
		return step{c, func(ctx context.Context, reg core.Registry) error { return reg.DeleteAccount(ctx, name) }}, nil
	}
	if opt.NoRevoke {
		c.Fields = []FieldChange{{Field: "tokens", From: TokensForgotten}}
		return step{c, func(ctx context.Context, reg core.Registry) error { return reg.DeleteAccount(ctx, name) }}, nil
	}
	if opt.Accounts == nil {
		return step{}, fmt.Errorf("account %q holds tokens, and this import cannot revoke them (--no-revoke forgets them without revoking)", name)
	}
	c.Fields = []FieldChange{{Field: "tokens", From: TokensRevoked}}
	return step{c, func(ctx context.Context, _ core.Registry) error {
		_, err := opt.Accounts.RemoveAccount(ctx, name, true)
		if err != nil {
			return fmt.Errorf("%w (--no-revoke removes it anyway)", err)
		}
		return nil
	}}, nil
}

// refusedError is a document Import refuses: it matches core.ErrInvalid,
// so that the command line exits 2.
type refusedError struct{ err error }

func (e refusedError) Error() string   { return "nothing imported: " + e.err.Error() }
func (e refusedError) Unwrap() []error { return []error{e.err, core.ErrInvalid} }

func refused(problems []error) error { return refusedError{errors.Join(problems...)} }

func notThere(prune bool) string {
	if prune {
		return "not in the file (--prune removes what the file does not have)"
	}
	return "neither in the file nor stored"
}

func setSetting(key, value string) func(context.Context, core.Registry) error {
	return func(ctx context.Context, reg core.Registry) error { return reg.SetSetting(ctx, key, value) }
}

func upsertProfile(action string, p core.Profile) func(context.Context, core.Registry) error {
	switch action {
	case ActionCreate:
		return func(ctx context.Context, reg core.Registry) error { return reg.AddProfile(ctx, p) }
	case ActionUpdate:
		return func(ctx context.Context, reg core.Registry) error {
			_, err := reg.EditProfile(ctx, p.Name, func(s *core.Profile) error {
				p.CreatedAt, p.UpdatedAt = s.CreatedAt, s.UpdatedAt
				*s = p
				return nil
			})
			return err
		}
	}
	return nil
}

func upsertAccount(action string, a core.Account) func(context.Context, core.Registry) error {
	switch action {
	case ActionCreate:
		return func(ctx context.Context, reg core.Registry) error { return reg.AddAccount(ctx, a) }
	case ActionUpdate:
		return func(ctx context.Context, reg core.Registry) error {
			_, err := reg.EditAccount(ctx, a.Name, func(s *core.Account) error {
				a.CreatedAt, a.UpdatedAt = s.CreatedAt, s.UpdatedAt
				*s = a
				return nil
			})
			return err
		}
	}
	return nil
}

func upsertWebservice(action string, w core.Webservice) func(context.Context, core.Registry) error {
	switch action {
	case ActionCreate:
		return func(ctx context.Context, reg core.Registry) error { return reg.CreateWebservice(ctx, w) }
	case ActionUpdate:
		return func(ctx context.Context, reg core.Registry) error {
			_, err := reg.UpdateWebservice(ctx, w.Name, func(s *core.Webservice) error {
				w.CreatedAt, w.UpdatedAt = s.CreatedAt, s.UpdatedAt
				*s = w
				return nil
			})
			return err
		}
	}
	return nil
}

func upsertUser(action string, u core.User) func(context.Context, core.Registry) error {
	switch action {
	case ActionCreate:
		return func(ctx context.Context, reg core.Registry) error { return reg.CreateUser(ctx, u) }
	case ActionUpdate:
		return func(ctx context.Context, reg core.Registry) error {
			_, err := reg.UpdateUser(ctx, u.Login, func(s *core.User) error {
				u.CreatedAt, u.UpdatedAt = s.CreatedAt, s.UpdatedAt
				*s = u
				return nil
			})
			return err
		}
	}
	return nil
}

func namesOf[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

func find[T any](items []T, match func(T) bool) (T, bool) {
	for _, it := range items {
		if match(it) {
			return it, true
		}
	}
	var zero T
	return zero, false
}

func cond[T any](ok bool, a, b T) T {
	if ok {
		return a
	}
	return b
}

// caseTwin is the error for a name that differs from another only in case.
func caseTwin(kind, name, other string) error {
	return &core.ValidationError{Kind: kind, Name: name, Problems: []core.FieldError{{
		Field: "name", Problem: "differs only in case from the " + other,
	}}}
}

// secretIn merges one secret of a document into what is stored: the
// document's value when it has one, else the stored value; and says
// whether the secret is now missing (named by the document, or missing
// before, and set nowhere).
func secretIn(d Secret, stored core.Secret, wasMissing bool) (core.Secret, bool) {
	switch {
	case d.Value != "":
		return core.NewSecret(d.Value), false
	case stored.IsSet():
		return stored, false
	}
	return core.Secret{}, d.required() || wasMissing
}

// mergeProfile returns the profile of d as it will be stored over old
// (found: there is one): secrets merged by secretIn, the timestamps of old.
func mergeProfile(old core.Profile, found bool, d Profile) core.Profile {
	p := d.ToProfile()
	var missing []string
	var gone bool
	if p.ClientSecret, gone = secretIn(d.ClientSecret, old.ClientSecret, slices.Contains(old.MissingSecrets, core.SecretClientSecret)); gone {
		missing = append(missing, core.SecretClientSecret)
	}
	if p.TLS.ClientKeyPassword, gone = secretIn(d.TLS.ClientKeyPassword, old.TLS.ClientKeyPassword, slices.Contains(old.MissingSecrets, core.SecretClientKeyPassword)); gone {
		missing = append(missing, core.SecretClientKeyPassword)
	}
	p.MissingSecrets = missing
	p.SettleSecrets()
	if found {
		p.CreatedAt, p.UpdatedAt = old.CreatedAt, old.UpdatedAt
	}
	if len(p.ClientKeys) == 0 { // the file never holds private keys
		p.ClientKeys = old.ClientKeys
	}
	return p
}

// mergeAccount is mergeProfile for accounts. A password-grant account
// without a password anywhere needs one, whatever the document says: a
// version 1 file written without secrets does not name it. Other grants
// use no password: only one the document gives is kept, for Validate to
// refuse.
func mergeAccount(old core.Account, found bool, d Account) core.Account {
	a := d.ToAccount()
	a.MissingSecrets = nil
	if a.GrantType == core.GrantPassword {
		if a.Password, _ = secretIn(d.Password, old.Password, false); !a.Password.IsSet() {
			a.MissingSecrets = []string{core.SecretPassword}
		}
	}
	if found {
		a.CreatedAt, a.UpdatedAt = old.CreatedAt, old.UpdatedAt
	}
	if !a.DPoPKey.IsSet() {
		a.DPoPKey = old.DPoPKey // never exported; kept while DPoP stays on
	}
	return a
}

// diff returns the change from old to new, document forms of one thing
// (found: old exists).
func diff(kind, name string, found bool, old, new any) Change {
	c := Change{Kind: kind, Name: name}
	after := flatten(new)
	if !found {
		c.Action = ActionCreate
		for _, k := range slices.Sorted(maps.Keys(after)) {
			if after[k].secret && after[k].show != "" {
				c.Fields = append(c.Fields, FieldChange{Field: k, To: after[k].show})
			}
		}
		return c
	}
	before := flatten(old)
	keys := slices.Sorted(maps.Keys(maps.Collect(func(yield func(string, bool) bool) {
		for k := range before {
			yield(k, true)
		}
		for k := range after {
			yield(k, true)
		}
	})))
	for _, k := range keys {
		b, a := before[k], after[k]
		if b.cmp == a.cmp {
			continue
		}
		to := a.show
		if b.show == a.show { // a secret replaced by another
			to += " (new value)"
		}
		c.Fields = append(c.Fields, FieldChange{Field: k, From: b.show, To: to})
	}
	c.Action = cond(len(c.Fields) == 0, ActionUnchanged, ActionUpdate)
	return c
}
