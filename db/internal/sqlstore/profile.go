package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"oidcctl/core"
	"oidcctl/db/internal/rowform"
)

// CreateProfile stores a new profile; *core.ExistsError when the name is
// taken. Its CreatedAt and UpdatedAt are set from db.Now.
func (db *Store) CreateProfile(ctx context.Context, p core.Profile) error {
	return wrap("create profile", p.Name, db.inTx(ctx, func(tx Tx) error {
		return db.createProfile(ctx, tx, &p)
	}))
}

// Profile returns one profile; *core.NotFoundError when there is none.
func (db *Store) Profile(ctx context.Context, name string) (core.Profile, error) {
	p, err := readTx(ctx, db, func(tx Tx) (core.Profile, error) {
		p, _, err := db.findProfile(ctx, tx, name)
		return p, err
	})
	return p, wrap("read profile", name, err)
}

// Profiles returns every profile, ordered by name (byte order).
func (db *Store) Profiles(ctx context.Context) ([]core.Profile, error) {
	ps, err := readTx(ctx, db, func(tx Tx) ([]core.Profile, error) {
		return db.listProfiles(ctx, tx)
	})
	return ps, wrapOp("list profiles", err)
}

// UpdateProfile reads a profile, lets fn change it and writes it back, in
// one write transaction, so that no other process writes in between.
// When fn returns an error nothing is written and that error is returned
// as it is. A changed name is refused with a *core.ValidationError; the
// timestamps fn sets are ignored (CreatedAt stays, UpdatedAt is db.Now).
// The profile is not validated here: that is core's job, in fn.
func (db *Store) UpdateProfile(ctx context.Context, name string, fn func(*core.Profile) error) (core.Profile, error) {
	p, err := writeTx(ctx, db, func(tx Tx) (core.Profile, error) {
		p, id, err := db.findProfile(ctx, tx, name)
		if err != nil {
			return p, err
		}
		if err := edit(&p, fn, "profile", "name", &p.Name, &p.CreatedAt); err != nil {
			return p, err
		}
		return p, db.updateProfile(ctx, tx, id, &p)
	})
	return p, wrap("update profile", name, err)
}

// DeleteProfile removes a profile and its cached discovery document;
// *core.NotFoundError when there is no such profile. While accounts or
// webservices use it, it is refused with a *core.InUseError naming them
// (sorted); when both do, the error is errors.Join of the one naming the
// accounts and the one naming the webservices, so that errors.As finds
// the accounts' and the message lists both.
func (db *Store) DeleteProfile(ctx context.Context, name string) error {
	return wrap("delete profile", name, db.inTx(ctx, func(tx Tx) error {
		return deleteProfile(ctx, tx, name)
	}))
}

// edit runs fn, the caller's function of an Update method, on v, the row
// as read: fn's error comes back as it is (asIs), a changed key (*key, the
// name or login of kind) is refused with a *core.ValidationError, and
// *created, which fn may have changed, is put back. Whatever fn does to
// v's UpdatedAt is overwritten when the row is written.
func edit[T any](v *T, fn func(*T) error, kind, field string, key *string, created *time.Time) error {
	name, createdAt := *key, *created
	if err := fn(v); err != nil {
		return asIs{err}
	}
	if *key != name {
		return rowform.RenameError(kind, field, name, *key)
	}
	*created = createdAt
	return nil
}

const profileColumns = `id, name, discovery_url, client_id, client_secret, client_key_password, settings, created_at, updated_at`

// scanProfile reads one row of profileColumns.
func (db *Store) scanProfile(row Row) (core.Profile, int64, error) {
	var (
		p                    core.Profile
		id                   int64
		secret, keyPassword  []byte
		settings             string
		createdAt, updatedAt int64
	)
	if err := row.Scan(&id, &p.Name, &p.DiscoveryURL, &p.ClientID, &secret, &keyPassword, &settings, &createdAt, &updatedAt); err != nil {
		return core.Profile{}, 0, err
	}
	var s rowform.ProfileSettings
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return core.Profile{}, 0, fmt.Errorf("profile %s: settings: %w", p.Name, err)
	}
	s.Apply(&p)
	if err := s.OpenClientKeys(db.key, &p); err != nil {
		return core.Profile{}, 0, err
	}
	var err error
	if p.ClientSecret, err = db.open(secret, secretAD("profile", p.Name, "client_secret")); err != nil {
		return core.Profile{}, 0, err
	}
	if p.TLS.ClientKeyPassword, err = db.open(keyPassword, secretAD("profile", p.Name, "client_key_password")); err != nil {
		return core.Profile{}, 0, err
	}
	p.CreatedAt, p.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	return p, id, nil
}

// findProfile returns a profile and its id; *core.NotFoundError when there
// is none.
func (db *Store) findProfile(ctx context.Context, tx Tx, name string) (core.Profile, int64, error) {
	row := tx.QueryRow(ctx, `SELECT `+profileColumns+` FROM profiles WHERE name = $1`, name)
	p, id, err := db.scanProfile(row)
	if errors.Is(err, ErrNoRows) {
		return core.Profile{}, 0, &core.NotFoundError{Kind: "profile", Name: name}
	}
	return p, id, err
}

// profileID returns the id of a profile; *core.NotFoundError when there is
// none.
func profileID(ctx context.Context, tx Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM profiles WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		return 0, &core.NotFoundError{Kind: "profile", Name: name}
	}
	return id, err
}

func (db *Store) listProfiles(ctx context.Context, tx Tx) ([]core.Profile, error) {
	rows, err := tx.Query(ctx, `SELECT `+profileColumns+` FROM profiles ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.Profile
	for rows.Next() {
		p, _, err := db.scanProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// profileValues returns the stored form of the sealed and JSON columns.
func (db *Store) profileValues(p *core.Profile) (secret, keyPassword []byte, settings string, err error) {
	if secret, err = db.seal(p.ClientSecret, secretAD("profile", p.Name, "client_secret")); err != nil {
		return nil, nil, "", err
	}
	if keyPassword, err = db.seal(p.TLS.ClientKeyPassword, secretAD("profile", p.Name, "client_key_password")); err != nil {
		return nil, nil, "", err
	}
	s := rowform.NewProfileSettings(p)
	if err := s.SealClientKeys(db.key, p); err != nil {
		return nil, nil, "", err
	}
	js, err := json.Marshal(s)
	if err != nil {
		return nil, nil, "", fmt.Errorf("settings: %w", err)
	}
	return secret, keyPassword, string(js), nil
}

// createProfile inserts p and sets its timestamps.
func (db *Store) createProfile(ctx context.Context, tx Tx, p *core.Profile) error {
	if _, err := profileID(ctx, tx, p.Name); err == nil {
		return &core.ExistsError{Kind: "profile", Name: p.Name}
	} else if !errors.Is(err, core.ErrNotFound) {
		return err
	}
	if err := db.caseClash(ctx, tx, "profile", "profiles", "name", p.Name); err != nil {
		return err
	}
	secret, keyPassword, settings, err := db.profileValues(p)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = tx.Exec(ctx, `
		INSERT INTO profiles (name, discovery_url, client_id, client_secret, client_key_password, settings, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.Name, p.DiscoveryURL, p.ClientID, secret, keyPassword, settings, now, now)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = fromMillis(now), fromMillis(now)
	return nil
}

// updateProfile writes p over the row id and sets p.UpdatedAt.
func (db *Store) updateProfile(ctx context.Context, tx Tx, id int64, p *core.Profile) error {
	secret, keyPassword, settings, err := db.profileValues(p)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = tx.Exec(ctx, `
		UPDATE profiles
		SET discovery_url = $1, client_id = $2, client_secret = $3, client_key_password = $4, settings = $5, updated_at = $6
		WHERE id = $7`,
		p.DiscoveryURL, p.ClientID, secret, keyPassword, settings, now, id)
	if err != nil {
		return err
	}
	p.UpdatedAt = fromMillis(now)
	return nil
}

// deleteProfile removes a profile unless accounts or webservices use it;
// its discovery cache goes with it (ON DELETE CASCADE).
func deleteProfile(ctx context.Context, tx Tx, name string) error {
	id, err := profileID(ctx, tx, name)
	if err != nil {
		return err
	}
	accounts, err := accountNames(ctx, tx, id)
	if err != nil {
		return err
	}
	webservices, err := webserviceNames(ctx, tx, "profile_id", id)
	if err != nil {
		return err
	}
	if err := core.InUse("profile", name, core.Usage{By: "account", Names: accounts}, core.Usage{By: "webservice", Names: webservices}); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM profiles WHERE id = $1`, id)
	return err
}

// accountNames returns the names of the accounts of a profile, sorted.
func accountNames(ctx context.Context, tx Tx, profileID int64) ([]string, error) {
	return queryStrings(ctx, tx, nil, `SELECT name FROM accounts WHERE profile_id = $1 ORDER BY name`, profileID)
}
