// Package memstore is a core.Store in memory, for the tests of core's
// packages: pure Go, no SQL, one process. It behaves as the db package's
// SQLite store does wherever core relies on it (the conformance suite in
// core/storetest runs against both): names are exact but may not differ
// from another only in case, times are kept to the millisecond in UTC,
// every method is one atomic step (a read-modify-write runs under one
// lock, as the SQLite store runs it in one transaction, so the fn given to
// an Update method must only change values and never call the store), and
// what a caller gets back never shares memory with what is stored.
//
// What it cannot do is be shared by two processes: tests of that belong
// with the db package.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"oidcctl/core"
)

// DefaultDebugLimit is how many debugger entries DebugEntries returns when
// the filter sets no limit, as the SQLite store.
const DefaultDebugLimit = 100

// Store is a core.Store in memory. The zero value is not usable: call New.
type Store struct {
	// Now is the clock for created and updated times; New sets it to
	// time.Now.
	Now func() time.Time

	mu          sync.Mutex
	nextID      int64
	version     int64
	profiles    map[string]*profileRow
	accounts    map[string]*accountRow
	tokens      map[int64]*tokenRow // by account id
	settings    map[string]string
	users       map[string]*core.User
	webservices map[string]*webserviceRow
	credentials []credentialRow
	debug       []debugRow // in the order written
	debugID     int64
	statuses    map[string]core.ServeStatus
	logins      map[string]*loginRow // by state; see pendinglogin.go
	proofs      map[string]time.Time // used DPoP proof ids, until when; see replay.go
}

var _ core.Store = (*Store)(nil)

type profileRow struct {
	id        int64
	p         core.Profile
	discovery *core.CachedDocument
}

type accountRow struct {
	id        int64
	a         core.Account
	profileID int64
}

type webserviceRow struct {
	id                   int64
	w                    core.Webservice
	profileID, accountID int64 // 0 when none
}

type credentialRow struct {
	webserviceID int64
	c            core.InvokeCredential
}

type debugRow struct {
	webserviceID int64 // 0: no webservice
	e            core.DebugEntry
}

// Token columns, as the SQLite store names them in its errors.
const (
	colAccess  = "access_token"
	colRefresh = "refresh_token"
	colID      = "id_token"
)

type tokenRow struct {
	set                core.TokenSet
	damaged            map[string]bool // token column → cannot be opened
	lastSuccess        time.Time
	lastError          string
	lastErrorAt        time.Time
	failures           int
	nextAttempt        time.Time
	needsAuthorization bool
	leaseOwner         string
	leaseUntil         time.Time
}

// New returns an empty store.
func New() *Store {
	return &Store{
		Now:         time.Now,
		profiles:    map[string]*profileRow{},
		accounts:    map[string]*accountRow{},
		tokens:      map[int64]*tokenRow{},
		settings:    map[string]string{},
		users:       map[string]*core.User{},
		webservices: map[string]*webserviceRow{},
		statuses:    map[string]core.ServeStatus{},
	}
}

// ErrDamaged is why a token that CorruptToken damaged cannot be opened.
var ErrDamaged = errors.New("memstore: the sealed value is damaged")

// CorruptToken damages the stored token in column (access_token,
// refresh_token or id_token) of an account, as a damaged disk or a bad
// copy damages the SQLite store's ciphertext: from then on it cannot be
// opened, until new tokens replace it. It is a hook for tests.
func (s *Store) CorruptToken(account, column string) error {
	switch column {
	case colAccess, colRefresh, colID:
	default:
		return fmt.Errorf("memstore: no token column %q", column)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(account)
	if err != nil {
		return err
	}
	t := s.tokens[a.id]
	if t == nil || !t.secret(column).IsSet() {
		return fmt.Errorf("memstore: account %s has no %s to damage", account, column)
	}
	if t.damaged == nil {
		t.damaged = map[string]bool{}
	}
	t.damaged[column] = true
	return nil
}

func (t *tokenRow) secret(column string) core.Secret {
	switch column {
	case colAccess:
		return t.set.AccessToken
	case colRefresh:
		return t.set.RefreshToken
	}
	return t.set.IDToken
}

func (s *Store) id() int64 {
	s.nextID++
	return s.nextID
}

// changed raises the configuration version, as the SQLite store's
// triggers do.
func (s *Store) changed() { s.version++ }

func (s *Store) now() time.Time { return stored(s.Now()) }

// stored is t as the SQLite store gives it back: to the millisecond, in
// UTC; the zero time stays zero.
func stored(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// clone copies a slice; an empty one comes back nil, as from the store's
// JSON columns.
func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func renameError(kind, field, name, to string) error {
	return &core.ValidationError{Kind: kind, Name: name, Problems: []core.FieldError{{
		Field:   field,
		Problem: fmt.Sprintf("cannot be changed (to %q): create a new %s instead", to, kind),
	}}}
}

// caseClash refuses a name that differs only in case from an existing
// one, as the SQLite store does.
// edited runs fn on a copy of cur, the first step of every Update*, and
// refuses a change of the key (name or login) the row is found by.
func edited[T any](cur T, copyOf func(T) T, key func(T) string, kind, field, name string, fn func(*T) error) (T, error) {
	v := copyOf(cur)
	if err := fn(&v); err != nil {
		return v, err
	}
	if k := key(v); k != name {
		return v, renameError(kind, field, name, k)
	}
	return v, nil
}

func caseClash[V any](kind, field, name string, rows map[string]V) error {
	for other := range rows {
		if other != name && strings.EqualFold(other, name) {
			return &core.ValidationError{Kind: kind, Name: name, Problems: []core.FieldError{{
				Field:   field,
				Problem: fmt.Sprintf("differs only in case from the existing %s %q: names that differ only in case would be taken for each other", kind, other),
			}}}
		}
	}
	return nil
}

// find returns the row of name; *core.NotFoundError names kind when there
// is none.
func find[R any](rows map[string]*R, kind, name string) (*R, error) {
	r, ok := rows[name]
	if !ok {
		return nil, &core.NotFoundError{Kind: kind, Name: name}
	}
	return r, nil
}

// sortedCopies returns copies of the rows, by name, as a list method
// hands them out.
func sortedCopies[R, V any](rows map[string]*R, copyOf func(*R) V) []V {
	var out []V
	for _, name := range slices.Sorted(maps.Keys(rows)) {
		out = append(out, copyOf(rows[name]))
	}
	return out
}

// --- profiles

func copyProfile(p core.Profile) core.Profile {
	p.Scopes = clone(p.Scopes)
	if len(p.RoleMap) == 0 {
		p.RoleMap = nil
	} else {
		rm := make(core.RoleMap, len(p.RoleMap))
		for path, m := range p.RoleMap {
			rm[path] = maps.Clone(m)
		}
		p.RoleMap = rm
	}
	if len(p.UserMap) == 0 {
		p.UserMap = nil
	} else {
		p.UserMap = maps.Clone(p.UserMap)
	}
	p.Restrictions.Scopes = clone(p.Restrictions.Scopes)
	p.Restrictions.Audiences = clone(p.Restrictions.Audiences)
	p.MissingSecrets = clone(p.MissingSecrets)
	p.ClientKeys = clone(p.ClientKeys)
	return p
}

func (s *Store) profile(name string) (*profileRow, error) { return find(s.profiles, "profile", name) }

// CreateProfile implements core.ProfileStore.
func (s *Store) CreateProfile(_ context.Context, p core.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[p.Name]; ok {
		return &core.ExistsError{Kind: "profile", Name: p.Name}
	}
	if err := caseClash("profile", "name", p.Name, s.profiles); err != nil {
		return err
	}
	p = copyProfile(p)
	p.CreatedAt, p.UpdatedAt = s.now(), s.now()
	s.profiles[p.Name] = &profileRow{id: s.id(), p: p}
	s.changed()
	return nil
}

// Profile implements core.ProfileStore.
func (s *Store) Profile(_ context.Context, name string) (core.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.profile(name)
	if err != nil {
		return core.Profile{}, err
	}
	return copyProfile(r.p), nil
}

// Profiles implements core.ProfileStore.
func (s *Store) Profiles(context.Context) ([]core.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedCopies(s.profiles, func(r *profileRow) core.Profile { return copyProfile(r.p) }), nil
}

// UpdateProfile implements core.ProfileStore.
func (s *Store) UpdateProfile(_ context.Context, name string, fn func(*core.Profile) error) (core.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.profile(name)
	if err != nil {
		return core.Profile{}, err
	}
	p, err := edited(r.p, copyProfile, func(x core.Profile) string { return x.Name }, "profile", "name", name, fn)
	if err != nil {
		return core.Profile{}, err
	}
	p.CreatedAt, p.UpdatedAt = r.p.CreatedAt, s.now()
	r.p = copyProfile(p)
	s.changed()
	return p, nil
}

// DeleteProfile implements core.ProfileStore.
func (s *Store) DeleteProfile(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.profile(name)
	if err != nil {
		return err
	}
	var accounts, webservices []string
	for _, a := range s.accounts {
		if a.profileID == r.id {
			accounts = append(accounts, a.a.Name)
		}
	}
	for _, w := range s.webservices {
		if w.profileID == r.id {
			webservices = append(webservices, w.w.Name)
		}
	}
	slices.Sort(accounts)
	slices.Sort(webservices)
	if err := core.InUse("profile", name, core.Usage{By: "account", Names: accounts}, core.Usage{By: "webservice", Names: webservices}); err != nil {
		return err
	}
	delete(s.profiles, name)
	s.changed()
	return nil
}

// --- discovery cache

// CachedDiscovery implements core.DiscoveryCache.
func (s *Store) CachedDiscovery(_ context.Context, profile string) (core.CachedDocument, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.profile(profile)
	if err != nil {
		return core.CachedDocument{}, err
	}
	if r.discovery == nil {
		return core.CachedDocument{}, &core.NotFoundError{Kind: "discovery document", Name: profile}
	}
	doc := *r.discovery
	doc.Body = slices.Clone(doc.Body)
	return doc, nil
}

// CacheDiscovery implements core.DiscoveryCache. It is not a
// configuration change.
func (s *Store) CacheDiscovery(_ context.Context, profile string, doc core.CachedDocument) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.profile(profile)
	if err != nil {
		return err
	}
	doc.Body = append([]byte{}, doc.Body...)
	doc.FetchedAt = time.UnixMilli(doc.FetchedAt.UnixMilli()).UTC()
	r.discovery = &doc
	return nil
}

// --- accounts

func copyAccount(a core.Account) core.Account {
	a.Scopes, a.Resources = clone(a.Scopes), clone(a.Resources)
	a.MissingSecrets = clone(a.MissingSecrets)
	return a
}

func (s *Store) account(name string) (*accountRow, error) { return find(s.accounts, "account", name) }

// CreateAccount implements core.AccountStore.
func (s *Store) CreateAccount(_ context.Context, a core.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Name]; ok {
		return &core.ExistsError{Kind: "account", Name: a.Name}
	}
	if err := caseClash("account", "name", a.Name, s.accounts); err != nil {
		return err
	}
	p, err := s.profile(a.Profile)
	if err != nil {
		return err
	}
	a = copyAccount(a)
	a.CreatedAt, a.UpdatedAt = s.now(), s.now()
	s.accounts[a.Name] = &accountRow{id: s.id(), a: a, profileID: p.id}
	s.changed()
	return nil
}

// Account implements core.AccountStore.
func (s *Store) Account(_ context.Context, name string) (core.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.account(name)
	if err != nil {
		return core.Account{}, err
	}
	return copyAccount(r.a), nil
}

// Accounts implements core.AccountStore.
func (s *Store) Accounts(_ context.Context, profile string) ([]core.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pid int64
	if profile != "" {
		p, err := s.profile(profile)
		if err != nil {
			return nil, err
		}
		pid = p.id
	}
	var out []core.Account
	for _, name := range slices.Sorted(maps.Keys(s.accounts)) {
		if r := s.accounts[name]; pid == 0 || r.profileID == pid {
			out = append(out, copyAccount(r.a))
		}
	}
	return out, nil
}

// AccountsNeedingSecrets implements core.AccountStore.
func (s *Store) AccountsNeedingSecrets(context.Context) ([]core.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.Account
	for _, name := range slices.Sorted(maps.Keys(s.accounts)) {
		a := s.accounts[name].a
		if p, err := s.profile(a.Profile); a.NeedsSecret() || err == nil && p.p.NeedsSecret() {
			out = append(out, copyAccount(a))
		}
	}
	return out, nil
}

// UpdateAccount implements core.AccountStore.
func (s *Store) UpdateAccount(_ context.Context, name string, fn func(*core.Account) error) (core.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.account(name)
	if err != nil {
		return core.Account{}, err
	}
	a, err := edited(r.a, copyAccount, func(x core.Account) string { return x.Name }, "account", "name", name, fn)
	if err != nil {
		return core.Account{}, err
	}
	p, err := s.profile(a.Profile)
	if err != nil {
		return core.Account{}, err
	}
	a.CreatedAt, a.UpdatedAt = r.a.CreatedAt, s.now()
	r.a, r.profileID = copyAccount(a), p.id
	s.changed()
	return a, nil
}

// DeleteAccount implements core.AccountStore: its tokens go with it.
func (s *Store) DeleteAccount(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.account(name)
	if err != nil {
		return err
	}
	var webservices []string
	for _, w := range s.webservices {
		if w.accountID == r.id {
			webservices = append(webservices, w.w.Name)
		}
	}
	slices.Sort(webservices)
	if err := core.InUse("account", name, core.Usage{By: "webservice", Names: webservices}); err != nil {
		return err
	}
	delete(s.accounts, name)
	delete(s.tokens, r.id)
	s.changed()
	return nil
}

// --- tokens

func (s *Store) tokenState(a *accountRow) core.TokenState {
	st := core.TokenState{
		Account:   a.a.Name,
		Profile:   s.profileName(a.profileID),
		GrantType: a.a.GrantType,
	}
	t := s.tokens[a.id]
	if t == nil {
		return st
	}
	st.Tokens = t.set
	var damaged []error
	for _, c := range []struct {
		column string
		to     *core.Secret
	}{{colAccess, &st.Tokens.AccessToken}, {colRefresh, &st.Tokens.RefreshToken}, {colID, &st.Tokens.IDToken}} {
		if t.damaged[c.column] {
			*c.to = core.Secret{}
			damaged = append(damaged, fmt.Errorf("the stored %s cannot be opened: %w", c.column, ErrDamaged))
		}
	}
	if len(damaged) > 0 {
		st.Damaged = core.DamagedTokens(damaged)
	}
	st.LastSuccess, st.LastError, st.LastErrorAt = t.lastSuccess, t.lastError, t.lastErrorAt
	st.Failures, st.NextAttempt, st.NeedsAuthorization = t.failures, t.nextAttempt, t.needsAuthorization
	st.LeaseOwner, st.LeaseUntil = t.leaseOwner, t.leaseUntil
	return st
}

func (s *Store) profileName(id int64) string {
	for name, p := range s.profiles {
		if p.id == id {
			return name
		}
	}
	return ""
}

func (s *Store) tokenRow(a *accountRow) *tokenRow {
	t := s.tokens[a.id]
	if t == nil {
		t = &tokenRow{}
		s.tokens[a.id] = t
	}
	return t
}

// TokenState implements core.TokenStore.
func (s *Store) TokenState(_ context.Context, account string) (core.TokenState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(account)
	if err != nil {
		return core.TokenState{}, err
	}
	return s.tokenState(a), nil
}

// TokenStates implements core.TokenStore.
func (s *Store) TokenStates(context.Context) ([]core.TokenState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.TokenState
	for _, name := range slices.Sorted(maps.Keys(s.accounts)) {
		out = append(out, s.tokenState(s.accounts[name]))
	}
	return out, nil
}

// DueTokenStates implements core.TokenStore.
func (s *Store) DueTokenStates(_ context.Context, now, before time.Time) ([]core.TokenState, error) {
	now, before = now.Truncate(time.Millisecond), before.Truncate(time.Millisecond) // as a database compares
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.TokenState
	for _, name := range slices.Sorted(maps.Keys(s.accounts)) {
		a := s.accounts[name]
		t := s.tokens[a.id]
		if t == nil {
			out = append(out, s.tokenState(a))
			continue
		}
		// As a database sees it: a token that does not open is stored.
		empty := !t.set.AccessToken.IsSet() && !t.set.RefreshToken.IsSet()
		if t.needsAuthorization || t.nextAttempt.After(now) {
			continue
		}
		if empty || expiresBefore(t.set.Expiry, before) || expiresBefore(t.set.RefreshExpiry, before) {
			out = append(out, s.tokenState(a))
		}
	}
	return out, nil
}

func expiresBefore(t, before time.Time) bool { return !t.IsZero() && t.Before(before) }

// NextTokenWake implements core.TokenStore.
func (s *Store) NextTokenWake(ctx context.Context, owner string, now, before time.Time) (time.Time, error) {
	all, err := s.TokenStates(ctx)
	if err != nil {
		return time.Time{}, err
	}
	now, before = now.Truncate(time.Millisecond), before.Truncate(time.Millisecond) // as a database compares
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && t.Before(before) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, st := range all {
		if st.LastError != "" && !st.NeedsAuthorization {
			consider(st.NextAttempt)
		}
		if st.LeaseOwner != "" && st.LeaseOwner != owner {
			consider(st.LeaseUntil)
		}
	}
	return next, nil
}

// EachTokenState implements core.TokenStore. fn is called after the
// store's lock is let go, so that it may call the store.
func (s *Store) EachTokenState(ctx context.Context, fn func(core.TokenState) error) error {
	all, err := s.TokenStates(ctx)
	if err != nil {
		return err
	}
	for _, st := range all {
		if err := fn(st); err != nil {
			return err
		}
	}
	return nil
}

// AcquireLease implements core.TokenStore.
func (s *Store) AcquireLease(_ context.Context, account, owner string, now, until time.Time) (core.TokenState, bool, error) {
	if owner == "" {
		return core.TokenState{}, false, fmt.Errorf("acquire lease of account %s: no lease owner given", account)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(account)
	if err != nil {
		return core.TokenState{}, false, err
	}
	st := s.tokenState(a)
	if st.LeaseOwner != "" && st.LeaseOwner != owner && st.LeaseUntil.After(now) {
		return st, false, nil
	}
	t := s.tokenRow(a)
	t.leaseOwner, t.leaseUntil = owner, stored(until)
	st.LeaseOwner, st.LeaseUntil = t.leaseOwner, t.leaseUntil
	return st, true, nil
}

func (t *tokenRow) release(owner string) {
	if owner != "" && t.leaseOwner == owner {
		t.leaseOwner, t.leaseUntil = "", time.Time{}
	}
}

// SaveTokens implements core.TokenStore.
func (s *Store) SaveTokens(_ context.Context, account, owner string, set core.TokenSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(account)
	if err != nil {
		return err
	}
	t := s.tokenRow(a)
	refresh, refreshExpiry := set.RefreshToken, stored(set.RefreshExpiry)
	if !refresh.IsSet() {
		// Kept from before, with its expiry, unless it cannot be opened.
		refresh, refreshExpiry = t.set.RefreshToken, t.set.RefreshExpiry
		if t.damaged[colRefresh] {
			refresh, refreshExpiry = core.Secret{}, time.Time{}
		}
	}
	lastSuccess := set.ObtainedAt
	if lastSuccess.IsZero() {
		lastSuccess = s.Now()
	}
	t.set = core.TokenSet{
		AccessToken:   set.AccessToken,
		TokenType:     set.TokenType,
		RefreshToken:  refresh,
		IDToken:       set.IDToken,
		Expiry:        stored(set.Expiry),
		RefreshExpiry: refreshExpiry,
		Scope:         set.Scope,
		ObtainedAt:    stored(set.ObtainedAt),
	}
	t.damaged = nil // every token is new, kept because it opens, or dropped
	t.lastSuccess = stored(lastSuccess)
	t.lastError, t.lastErrorAt, t.failures = "", time.Time{}, 0
	t.nextAttempt, t.needsAuthorization = time.Time{}, false
	t.release(owner)
	return nil
}

// RecordFailure implements core.TokenStore.
func (s *Store) RecordFailure(_ context.Context, account, owner string, f core.Failure) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(account)
	if err != nil {
		return err
	}
	at := f.At
	if at.IsZero() {
		at = s.Now()
	}
	t := s.tokenRow(a)
	t.lastError, t.lastErrorAt = f.Err, stored(at)
	t.failures++
	t.nextAttempt, t.needsAuthorization = stored(f.NextAttempt), f.NeedsAuthorization
	t.release(owner)
	return nil
}

// ReleaseLease implements core.TokenStore.
func (s *Store) ReleaseLease(_ context.Context, account, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(account)
	if err != nil {
		return err
	}
	if t := s.tokens[a.id]; t != nil {
		t.release(owner)
	}
	return nil
}

// ClearTokens implements core.TokenStore; the lease stays as it is.
func (s *Store) ClearTokens(_ context.Context, account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.account(account)
	if err != nil {
		return err
	}
	if t := s.tokens[a.id]; t != nil {
		*t = tokenRow{leaseOwner: t.leaseOwner, leaseUntil: t.leaseUntil}
	}
	return nil
}

// --- settings

// Setting implements core.SettingStore.
func (s *Store) Setting(_ context.Context, key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.settings[key]
	return v, ok, nil
}

// SetSetting implements core.SettingStore. Storing the value a setting
// already has is not a configuration change.
func (s *Store) SetSetting(_ context.Context, key, value string) error {
	if key == "" {
		return errors.New("set setting: no key given")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.settings[key]
	switch {
	case value == "" && ok:
		delete(s.settings, key)
		s.changed()
	case value == "":
	case !ok || old != value:
		s.settings[key] = value
		s.changed()
	}
	return nil
}

// --- users

func copyUser(u core.User) core.User {
	u.Roles = clone(u.Roles)
	return u
}

func checkUser(u *core.User) error {
	v := &core.ValidationError{Kind: "user", Name: u.Login}
	if u.Login == "" {
		v.Problems = append(v.Problems, core.FieldError{Field: "login", Problem: "is required"})
	}
	if slices.Contains(u.Roles, "") {
		v.Problems = append(v.Problems, core.FieldError{Field: "roles", Problem: "must not contain an empty role"})
	}
	if len(v.Problems) > 0 {
		return v
	}
	return nil
}

func normalRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(roles)))
}

// User implements core.UserStore.
func (s *Store) User(_ context.Context, login string) (core.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := find(s.users, "user", login)
	if err != nil {
		return core.User{}, err
	}
	return copyUser(*u), nil
}

// Users implements core.UserStore.
func (s *Store) Users(context.Context) ([]core.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedCopies(s.users, func(u *core.User) core.User { return copyUser(*u) }), nil
}

// CreateUser implements core.UserStore.
func (s *Store) CreateUser(_ context.Context, u core.User) error {
	if err := checkUser(&u); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.Login]; ok {
		return &core.ExistsError{Kind: "user", Name: u.Login}
	}
	if err := caseClash("user", "login", u.Login, s.users); err != nil {
		return err
	}
	u.Roles = normalRoles(u.Roles)
	u.CreatedAt, u.UpdatedAt = s.now(), s.now()
	s.users[u.Login] = &u
	s.changed()
	return nil
}

// UpdateUser implements core.UserStore. A write that changes nothing but
// the updated time is not a configuration change.
func (s *Store) UpdateUser(_ context.Context, login string, fn func(*core.User) error) (core.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := find(s.users, "user", login)
	if err != nil {
		return core.User{}, err
	}
	u, err := edited(*old, copyUser, func(x core.User) string { return x.Login }, "user", "login", login, fn)
	if err != nil {
		return core.User{}, err
	}
	if err := checkUser(&u); err != nil {
		return core.User{}, err
	}
	u.Roles = normalRoles(u.Roles)
	u.CreatedAt, u.UpdatedAt = old.CreatedAt, s.now()
	if u.Email != old.Email || u.FirstName != old.FirstName || u.LastName != old.LastName ||
		u.Profile != old.Profile || !slices.Equal(u.Roles, old.Roles) {
		s.changed()
	}
	stored := copyUser(u)
	s.users[login] = &stored
	return u, nil
}

// DeleteUser implements core.UserStore.
func (s *Store) DeleteUser(_ context.Context, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := find(s.users, "user", login); err != nil {
		return err
	}
	delete(s.users, login)
	s.changed()
	return nil
}

// --- webservices

func copyWebservice(w core.Webservice) core.Webservice {
	w.Methods = clone(w.Methods)
	return w
}

func (s *Store) webservice(name string) (*webserviceRow, error) {
	return find(s.webservices, "webservice", name)
}

// references checks a webservice's kind and finds its profile and
// account.
func (s *Store) references(w *core.Webservice) (profile, account int64, err error) {
	if w.Kind != core.Provider && w.Kind != core.Requester {
		return 0, 0, &core.ValidationError{Kind: "webservice", Name: w.Name, Problems: []core.FieldError{{
			Field:   "kind",
			Problem: fmt.Sprintf("%q: want provider or requester", w.Kind),
		}}}
	}
	if w.Profile != "" {
		p, err := s.profile(w.Profile)
		if err != nil {
			return 0, 0, err
		}
		profile = p.id
	}
	if w.Account != "" {
		a, err := s.account(w.Account)
		if err != nil {
			return 0, 0, err
		}
		account = a.id
	}
	return profile, account, nil
}

// CreateWebservice implements core.WebserviceStore.
func (s *Store) CreateWebservice(_ context.Context, w core.Webservice) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.webservices[w.Name]; ok {
		return &core.ExistsError{Kind: "webservice", Name: w.Name}
	}
	if err := caseClash("webservice", "name", w.Name, s.webservices); err != nil {
		return err
	}
	pid, aid, err := s.references(&w)
	if err != nil {
		return err
	}
	w = copyWebservice(w)
	w.CreatedAt, w.UpdatedAt = s.now(), s.now()
	s.webservices[w.Name] = &webserviceRow{id: s.id(), w: w, profileID: pid, accountID: aid}
	s.changed()
	return nil
}

// Webservice implements core.WebserviceStore.
func (s *Store) Webservice(_ context.Context, name string) (core.Webservice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.webservice(name)
	if err != nil {
		return core.Webservice{}, err
	}
	return copyWebservice(r.w), nil
}

// Webservices implements core.WebserviceStore.
func (s *Store) Webservices(context.Context) ([]core.Webservice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedCopies(s.webservices, func(r *webserviceRow) core.Webservice { return copyWebservice(r.w) }), nil
}

// UpdateWebservice implements core.WebserviceStore.
func (s *Store) UpdateWebservice(_ context.Context, name string, fn func(*core.Webservice) error) (core.Webservice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.webservice(name)
	if err != nil {
		return core.Webservice{}, err
	}
	w, err := edited(r.w, copyWebservice, func(x core.Webservice) string { return x.Name }, "webservice", "name", name, fn)
	if err != nil {
		return core.Webservice{}, err
	}
	pid, aid, err := s.references(&w)
	if err != nil {
		return core.Webservice{}, err
	}
	w.CreatedAt, w.UpdatedAt = r.w.CreatedAt, s.now()
	r.w, r.profileID, r.accountID = copyWebservice(w), pid, aid
	s.changed()
	return w, nil
}

// DeleteWebservice implements core.WebserviceStore: its debugger entries
// and invoke credentials go with it.
func (s *Store) DeleteWebservice(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.webservice(name)
	if err != nil {
		return err
	}
	delete(s.webservices, name)
	s.credentials = slices.DeleteFunc(s.credentials, func(c credentialRow) bool { return c.webserviceID == r.id })
	s.debug = slices.DeleteFunc(s.debug, func(d debugRow) bool { return d.webserviceID == r.id })
	s.changed()
	return nil
}

// --- invoke credentials

// CreateCredential implements core.CredentialStore; CreatedAt is set
// from the store's clock.
func (s *Store) CreateCredential(_ context.Context, c core.InvokeCredential) error {
	if err := c.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.webservice(c.Webservice)
	if err != nil {
		return err
	}
	if w.w.Kind != core.Requester {
		return &core.ValidationError{Kind: "credential", Name: c.Name, Problems: []core.FieldError{{
			Field:   "webservice",
			Problem: fmt.Sprintf("%q is a %s webservice; credentials are for requester webservices", w.w.Name, w.w.Kind),
		}}}
	}
	for _, o := range s.credentials {
		if o.webserviceID == w.id && o.c.Name == c.Name {
			return &core.ExistsError{Kind: "credential", Name: c.Webservice + "/" + c.Name}
		}
	}
	c.Hash, c.CreatedAt = slices.Clone(c.Hash), s.now()
	s.credentials = append(s.credentials, credentialRow{webserviceID: w.id, c: c})
	s.changed()
	return nil
}

// Credentials implements core.CredentialStore.
func (s *Store) Credentials(_ context.Context, webservice string) ([]core.InvokeCredential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wid int64
	if webservice != "" {
		w, err := s.webservice(webservice)
		if err != nil {
			return nil, err
		}
		wid = w.id
	}
	var out []core.InvokeCredential
	for _, r := range s.credentials {
		if wid == 0 || r.webserviceID == wid {
			c := r.c
			c.Hash = slices.Clone(c.Hash)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b core.InvokeCredential) int {
		if c := strings.Compare(a.Webservice, b.Webservice); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// DeleteCredential implements core.CredentialStore.
func (s *Store) DeleteCredential(_ context.Context, webservice, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.webservice(webservice)
	if err != nil {
		return err
	}
	n := len(s.credentials)
	s.credentials = slices.DeleteFunc(s.credentials, func(c credentialRow) bool {
		return c.webserviceID == w.id && c.c.Name == name
	})
	if len(s.credentials) == n {
		return &core.NotFoundError{Kind: "credential", Name: webservice + "/" + name}
	}
	s.changed()
	return nil
}

// --- debugger

func copyHeader(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	return h.Clone()
}

func copyEntry(e core.DebugEntry) core.DebugEntry {
	e.RequestHeader, e.ResponseHeader = copyHeader(e.RequestHeader), copyHeader(e.ResponseHeader)
	e.RequestBody, e.ResponseBody = clone(e.RequestBody), clone(e.ResponseBody)
	return e
}

// newer orders debugger rows newest first: by time, then by id.
func newer(a, b debugRow) int {
	if c := b.e.Time.Compare(a.e.Time); c != 0 {
		return c
	}
	return int(b.e.ID - a.e.ID)
}

func (s *Store) addDebugEntries(entries []core.DebugEntry) {
	for _, e := range entries {
		var wid int64
		if e.Webservice != "" {
			w, ok := s.webservices[e.Webservice]
			if !ok {
				continue // its webservice was deleted
			}
			wid = w.id
		}
		if e.Time.IsZero() {
			e.Time = s.Now()
		}
		s.debugID++
		e = copyEntry(e)
		e.ID, e.Time = s.debugID, stored(e.Time)
		s.debug = append(s.debug, debugRow{webserviceID: wid, e: e})
	}
}

// pruneDebug removes the entries of one webservice ("" for those of none)
// older than before and beyond the newest keep.
func (s *Store) pruneDebug(webservice string, before time.Time, keep int) int {
	var wid int64
	if webservice != "" {
		w, ok := s.webservices[webservice]
		if !ok {
			return 0
		}
		wid = w.id
	}
	if before.IsZero() && keep <= 0 {
		return 0
	}
	var mine []debugRow
	for _, d := range s.debug {
		if d.webserviceID == wid {
			mine = append(mine, d)
		}
	}
	slices.SortFunc(mine, newer)
	gone := map[int64]bool{}
	cutoff := stored(before)
	for i, d := range mine {
		if (!before.IsZero() && d.e.Time.Before(cutoff)) || (keep > 0 && i >= keep) {
			gone[d.e.ID] = true
		}
	}
	s.debug = slices.DeleteFunc(s.debug, func(d debugRow) bool { return gone[d.e.ID] })
	return len(gone)
}

// AddDebugEntries implements core.DebugStore. Entries of a webservice
// that does not exist (any more) are dropped.
func (s *Store) AddDebugEntries(_ context.Context, entries []core.DebugEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addDebugEntries(entries)
	return nil
}

// AppendDebug implements core.DebugStore.
func (s *Store) AppendDebug(_ context.Context, entries []core.DebugEntry, keep map[string]core.DebugRetention) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addDebugEntries(entries)
	pruned := 0
	for _, ws := range slices.Sorted(maps.Keys(keep)) {
		pruned += s.pruneDebug(ws, keep[ws].Before, keep[ws].Keep)
	}
	return pruned, nil
}

// DebugEntries implements core.DebugStore.
func (s *Store) DebugEntries(_ context.Context, f core.DebugFilter) ([]core.DebugEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wid int64
	if f.Webservice != "" {
		w, err := s.webservice(f.Webservice)
		if err != nil {
			return nil, err
		}
		wid = w.id
	}
	since := stored(f.Since)
	var rows []debugRow
	for _, d := range s.debug {
		if (wid != 0 && d.webserviceID != wid) || (!f.Since.IsZero() && d.e.Time.Before(since)) ||
			(f.Status != 0 && d.e.Status != f.Status) || (f.Verdict != "" && d.e.Verdict != f.Verdict) {
			continue
		}
		rows = append(rows, d)
	}
	slices.SortFunc(rows, newer)
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultDebugLimit
	}
	var out []core.DebugEntry
	for _, d := range rows[:min(limit, len(rows))] {
		out = append(out, copyEntry(d.e))
	}
	return out, nil
}

// DebugEntry implements core.DebugStore.
func (s *Store) DebugEntry(_ context.Context, id int64) (core.DebugEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.debug {
		if d.e.ID == id {
			return copyEntry(d.e), nil
		}
	}
	return core.DebugEntry{}, &core.NotFoundError{Kind: "debug entry", Name: strconv.FormatInt(id, 10)}
}

// ClearDebug implements core.DebugStore.
func (s *Store) ClearDebug(_ context.Context, webservice string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if webservice == "" {
		n := len(s.debug)
		s.debug = nil
		return n, nil
	}
	w, err := s.webservice(webservice)
	if err != nil {
		return 0, err
	}
	n := len(s.debug)
	s.debug = slices.DeleteFunc(s.debug, func(d debugRow) bool { return d.webserviceID == w.id })
	return n - len(s.debug), nil
}

// PruneDebug implements core.DebugStore.
func (s *Store) PruneDebug(_ context.Context, webservice string, before time.Time, keep int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pruneDebug(webservice, before, keep), nil
}

// --- configuration version and serve status

// ConfigVersion implements core.ChangeCounter.
func (s *Store) ConfigVersion(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, nil
}

// PutServeStatus implements core.ServeStatusStore; statuses whose
// heartbeat is more than a day old are forgotten.
func (s *Store) PutServeStatus(_ context.Context, st core.ServeStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.StartedAt, st.Heartbeat = time.UnixMilli(st.StartedAt.UnixMilli()).UTC(), time.UnixMilli(st.Heartbeat.UnixMilli()).UTC()
	st.LastRefreshRun = stored(st.LastRefreshRun)
	s.statuses[st.Instance] = st
	cutoff := s.Now().Add(-24 * time.Hour)
	for k, o := range s.statuses {
		if o.Heartbeat.Before(stored(cutoff)) {
			delete(s.statuses, k)
		}
	}
	return nil
}

// ServeStatuses implements core.ServeStatusStore.
func (s *Store) ServeStatuses(context.Context) ([]core.ServeStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.statuses))
	slices.SortFunc(out, func(a, b core.ServeStatus) int {
		if c := b.Heartbeat.Compare(a.Heartbeat); c != 0 {
			return c
		}
		return strings.Compare(a.Instance, b.Instance)
	})
	return out, nil
}
