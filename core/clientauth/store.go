package clientauth

import (
	"context"

	"oidcctl/core"
)

// KeyChange is what StoreKey does to a profile's client keys.
type KeyChange int

// The key changes: add a key and keep the older ones (rollover), add a
// key and drop the older ones, or drop every key but the newest.
const (
	AddKey KeyChange = iota
	ReplaceKeys
	RetireOldKeys
)

// EditProfile is core.Registry.EditProfile: read, change and store one
// profile in a transaction.
type EditProfile func(ctx context.Context, name string, fn func(*core.Profile) error) (core.Profile, error)

// StoreKey changes the client keys of profile name as change says (key is
// the new one for AddKey and ReplaceKeys, unused for RetireOldKeys), in
// one edit, and returns the stored profile with the ids of the keys it
// dropped. The key is made before, outside the store's transaction.
func StoreKey(ctx context.Context, edit EditProfile, name string, key core.ClientKey, change KeyChange) (core.Profile, []string, error) {
	var retired []string
	p, err := edit(ctx, name, func(q *core.Profile) error {
		old, dropped := q.ClientKeys, 0
		switch change {
		case RetireOldKeys:
			dropped = q.RetireClientKeys()
		case ReplaceKeys:
			q.AddClientKey(key, true)
			dropped = len(old)
		default:
			q.AddClientKey(key, false)
		}
		retired = retired[:0]
		for _, k := range old[:dropped] {
			retired = append(retired, k.ID)
		}
		return nil
	})
	return p, retired, err
}
