package core

import (
	"context"
	"time"
)

// Store keeps profiles, accounts, cached discovery documents, token
// states, shared settings, local users, webservices, their invoke
// credentials, the debugger's log, the pending logins of logins through
// serve and the ids of used DPoP proofs, and tells when the configuration
// changed. The db package implements it; every method is safe for use by several processes on one
// database at once.
type Store interface {
	ProfileStore
	AccountStore
	DiscoveryCache
	TokenStore
	OverviewStore
	SettingStore
	UserStore
	WebserviceStore
	CredentialStore
	DebugStore
	ChangeCounter
	ServeStatusStore
	PendingLoginStore
	ReplayStore
}

// ProfileStore keeps profiles. Secrets are sealed at rest by the
// implementation; callers see plaintext Secret values.
type ProfileStore interface {
	// CreateProfile stores a new profile; *ExistsError when the name is taken.
	CreateProfile(ctx context.Context, p Profile) error
	// Profile returns one profile; *NotFoundError when there is none.
	Profile(ctx context.Context, name string) (Profile, error)
	// Profiles returns every profile, ordered by name.
	Profiles(ctx context.Context) ([]Profile, error)
	// UpdateProfile reads a profile, lets fn change it and writes it back,
	// all in one transaction. fn must not change the name. When fn returns
	// an error nothing is written and that error is returned.
	UpdateProfile(ctx context.Context, name string, fn func(*Profile) error) (Profile, error)
	// DeleteProfile removes a profile and its cached discovery document;
	// *InUseError naming the accounts or webservices that use it (both
	// joined with errors.Join when both do).
	DeleteProfile(ctx context.Context, name string) error
}

// AccountStore keeps functional accounts.
type AccountStore interface {
	// CreateAccount stores a new account; *ExistsError when the name is
	// taken, *NotFoundError (Kind "profile") when its profile does not exist.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns one account; *NotFoundError when there is none.
	Account(ctx context.Context, name string) (Account, error)
	// Accounts returns the accounts of one profile, or of all profiles when
	// profile is "", ordered by name.
	Accounts(ctx context.Context, profile string) ([]Account, error)
	// AccountsNeedingSecrets returns the accounts that lack a secret
	// they need, or whose profile lacks one (Account.NeedsSecret,
	// Profile.NeedsSecret), ordered by name: what SecretsNeeded reads, so
	// that 100,000 accounts are not read to find the few.
	AccountsNeedingSecrets(ctx context.Context) ([]Account, error)
	// UpdateAccount is UpdateProfile for accounts; fn may move the account
	// to another existing profile but not rename it.
	UpdateAccount(ctx context.Context, name string, fn func(*Account) error) (Account, error)
	// DeleteAccount removes an account and everything kept for it.
	DeleteAccount(ctx context.Context, name string) error
}

// CachedDocument is a discovery document as fetched, with when and from
// where.
type CachedDocument struct {
	URL       string
	Body      []byte
	FetchedAt time.Time
}

// DiscoveryCache keeps the last discovery document fetched for each profile,
// so that every process on one database shares it.
type DiscoveryCache interface {
	// CachedDiscovery returns the cached document of a profile;
	// *NotFoundError when none is cached.
	CachedDiscovery(ctx context.Context, profile string) (CachedDocument, error)
	// CacheDiscovery replaces the cached document of a profile.
	CacheDiscovery(ctx context.Context, profile string, doc CachedDocument) error
}
