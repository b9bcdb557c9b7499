package core

import (
	"context"
	"fmt"
)

// Registry is the way the command line and the console change profiles and
// accounts: it validates every change before the store sees it, and
// forgets that a secret is missing once it is given (SettleSecrets). Reads go
// straight to the embedded Store.
type Registry struct {
	Store
}

// AddProfile validates and stores a new profile.
func (r Registry) AddProfile(ctx context.Context, p Profile) error {
	p.SettleSecrets()
	if err := p.Validate(); err != nil {
		return err
	}
	return r.CreateProfile(ctx, p)
}

// EditProfile lets fn change a stored profile and stores the result when it
// is valid; all in one transaction.
func (r Registry) EditProfile(ctx context.Context, name string, fn func(*Profile) error) (Profile, error) {
	return r.UpdateProfile(ctx, name, func(p *Profile) error {
		if err := fn(p); err != nil {
			return err
		}
		if p.Name != name {
			return fmt.Errorf("profile %q cannot be renamed", name)
		}
		p.SettleSecrets()
		return p.Validate()
	})
}

// AddAccount validates and stores a new account.
func (r Registry) AddAccount(ctx context.Context, a Account) error {
	a.SettleSecrets()
	if err := a.Validate(); err != nil {
		return err
	}
	key, err := NewDPoPKey()
	if err != nil {
		return err
	}
	a.settleDPoPKey(key)
	return r.CreateAccount(ctx, a)
}

// EditAccount is EditProfile for accounts.
func (r Registry) EditAccount(ctx context.Context, name string, fn func(*Account) error) (Account, error) {
	key, err := NewDPoPKey() // made before the transaction, used when DPoP was turned on
	if err != nil {
		return Account{}, err
	}
	return r.UpdateAccount(ctx, name, func(a *Account) error {
		if err := fn(a); err != nil {
			return err
		}
		if a.Name != name {
			return fmt.Errorf("account %q cannot be renamed", name)
		}
		a.SettleSecrets()
		a.settleDPoPKey(key)
		return a.Validate()
	})
}
