package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"oidcctl/core"
	"oidcctl/db/internal/rowform"
)

// CreateAccount stores a new account; *core.ExistsError when the name is
// taken, *core.NotFoundError (Kind "profile") when its profile does not
// exist. Its CreatedAt and UpdatedAt are set from db.Now.
func (db *Store) CreateAccount(ctx context.Context, a core.Account) error {
	return wrap("create account", a.Name, db.inTx(ctx, func(tx Tx) error {
		return db.createAccount(ctx, tx, &a)
	}))
}

// Account returns one account; *core.NotFoundError when there is none.
func (db *Store) Account(ctx context.Context, name string) (core.Account, error) {
	a, err := readTx(ctx, db, func(tx Tx) (core.Account, error) {
		a, _, err := db.findAccount(ctx, tx, name)
		return a, err
	})
	return a, wrap("read account", name, err)
}

// Accounts returns the accounts of one profile, or of all profiles when
// profile is "", ordered by name (byte order). A profile that does not
// exist gives *core.NotFoundError rather than an empty list, so that a
// mistyped name does not look like a profile without accounts.
func (db *Store) Accounts(ctx context.Context, profile string) ([]core.Account, error) {
	as, err := readTx(ctx, db, func(tx Tx) ([]core.Account, error) {
		return db.listAccounts(ctx, tx, profile)
	})
	return as, wrap("list accounts of profile", profile, err)
}

// AccountsNeedingSecrets returns the accounts that lack a secret they
// need, or whose profile lacks one, ordered by name (byte order). The
// database picks out those whose settings, or whose profile's settings,
// spell the key missing_secrets (kept only when not empty), so that
// 100,000 accounts are not read to find the few; the key spelled
// elsewhere (a user map's claim) is then told apart here.
func (db *Store) AccountsNeedingSecrets(ctx context.Context) ([]core.Account, error) {
	as, err := readTx(ctx, db, func(tx Tx) ([]core.Account, error) {
		rows, err := tx.Query(ctx, `SELECT `+accountColumns+`, p.settings`+accountFrom+`
			WHERE CAST(a.settings AS TEXT) LIKE '%"missing_secrets"%' OR CAST(p.settings AS TEXT) LIKE '%"missing_secrets"%'
			ORDER BY a.name`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []core.Account
		for rows.Next() {
			var profile string
			a, _, err := db.scanAccount(withColumn{rows, &profile})
			if err != nil {
				return nil, err
			}
			var ps rowform.ProfileSettings
			if err := json.Unmarshal([]byte(profile), &ps); err != nil {
				return nil, fmt.Errorf("profile %s: settings: %w", a.Profile, err)
			}
			if a.NeedsSecret() || len(ps.MissingSecrets) > 0 {
				out = append(out, a)
			}
		}
		return out, rows.Err()
	})
	return as, wrapOp("list accounts that need a secret", err)
}

// withColumn is a row with one more column than its reader scans: the
// last one goes to extra.
type withColumn struct {
	Row
	extra any
}

func (r withColumn) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra)...) }

// UpdateAccount is UpdateProfile for accounts: one write transaction,
// fn's error returned as it is, a rename refused with a
// *core.ValidationError. fn may move the account to another profile;
// *core.NotFoundError (Kind "profile") when that profile does not exist.
func (db *Store) UpdateAccount(ctx context.Context, name string, fn func(*core.Account) error) (core.Account, error) {
	a, err := writeTx(ctx, db, func(tx Tx) (core.Account, error) {
		a, id, err := db.findAccount(ctx, tx, name)
		if err != nil {
			return a, err
		}
		if err := edit(&a, fn, "account", "name", &a.Name, &a.CreatedAt); err != nil {
			return a, err
		}
		return a, db.updateAccount(ctx, tx, id, &a)
	})
	return a, wrap("update account", name, err)
}

// DeleteAccount removes an account and everything kept for it (later
// tables refer to it ON DELETE CASCADE); *core.NotFoundError when there is
// none, *core.InUseError naming the webservices (sorted) while requester
// webservices use it.
func (db *Store) DeleteAccount(ctx context.Context, name string) error {
	return wrap("delete account", name, db.inTx(ctx, func(tx Tx) error {
		return deleteAccount(ctx, tx, name)
	}))
}

const accountColumns = `a.id, a.name, p.name, a.grant_type, a.username, a.password, a.settings, a.created_at, a.updated_at`

const accountFrom = ` FROM accounts a JOIN profiles p ON p.id = a.profile_id`

// scanAccount reads one row of accountColumns.
func (db *Store) scanAccount(row Row) (core.Account, int64, error) {
	var (
		a                    core.Account
		id                   int64
		password             []byte
		settings             string
		createdAt, updatedAt int64
	)
	if err := row.Scan(&id, &a.Name, &a.Profile, &a.GrantType, &a.Username, &password, &settings, &createdAt, &updatedAt); err != nil {
		return core.Account{}, 0, err
	}
	var s rowform.AccountSettings
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return core.Account{}, 0, fmt.Errorf("account %s: settings: %w", a.Name, err)
	}
	a.Scopes, a.Resources = s.Scopes, s.Resources
	a.ResourceParam, a.TokenType = s.ResourceParam, core.TokenType(s.TokenType)
	a.RedirectURI = s.RedirectURI
	a.MissingSecrets = s.MissingSecrets
	a.DPoP = s.DPoP
	var err error
	if a.Password, err = db.open(password, secretAD("account", a.Name, "password")); err != nil {
		return core.Account{}, 0, err
	}
	if a.DPoPKey, err = db.open(s.DPoPKey, secretAD("account", a.Name, "dpop_key")); err != nil {
		return core.Account{}, 0, err
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	return a, id, nil
}

// findAccount returns an account and its id; *core.NotFoundError when there
// is none.
func (db *Store) findAccount(ctx context.Context, tx Tx, name string) (core.Account, int64, error) {
	row := tx.QueryRow(ctx, `SELECT `+accountColumns+accountFrom+` WHERE a.name = $1`, name)
	a, id, err := db.scanAccount(row)
	if errors.Is(err, ErrNoRows) {
		return core.Account{}, 0, &core.NotFoundError{Kind: "account", Name: name}
	}
	return a, id, err
}

// accountID returns the id of an account; *core.NotFoundError when there
// is none.
func accountID(ctx context.Context, tx Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		return 0, &core.NotFoundError{Kind: "account", Name: name}
	}
	return id, err
}

func (db *Store) listAccounts(ctx context.Context, tx Tx, profile string) ([]core.Account, error) {
	query, args := `SELECT `+accountColumns+accountFrom+` ORDER BY a.name`, []any{}
	if profile != "" {
		pid, err := profileID(ctx, tx, profile)
		if err != nil {
			return nil, err
		}
		query, args = `SELECT `+accountColumns+accountFrom+` WHERE a.profile_id = $1 ORDER BY a.name`, []any{pid}
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.Account
	for rows.Next() {
		a, _, err := db.scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// accountValues returns the stored form of the sealed and JSON columns.
func (db *Store) accountValues(a *core.Account) (password []byte, settings string, err error) {
	if password, err = db.seal(a.Password, secretAD("account", a.Name, "password")); err != nil {
		return nil, "", err
	}
	dpopKey, err := db.seal(a.DPoPKey, secretAD("account", a.Name, "dpop_key"))
	if err != nil {
		return nil, "", err
	}
	js, err := json.Marshal(rowform.AccountSettings{
		DPoP:           a.DPoP,
		DPoPKey:        dpopKey,
		Scopes:         a.Scopes,
		Resources:      a.Resources,
		ResourceParam:  a.ResourceParam,
		TokenType:      string(a.TokenType),
		RedirectURI:    a.RedirectURI,
		MissingSecrets: a.MissingSecrets,
	})
	if err != nil {
		return nil, "", fmt.Errorf("settings: %w", err)
	}
	return password, string(js), nil
}

// createAccount inserts a and sets its timestamps.
func (db *Store) createAccount(ctx context.Context, tx Tx, a *core.Account) error {
	if _, err := accountID(ctx, tx, a.Name); err == nil {
		return &core.ExistsError{Kind: "account", Name: a.Name}
	} else if !errors.Is(err, core.ErrNotFound) {
		return err
	}
	if err := db.caseClash(ctx, tx, "account", "accounts", "name", a.Name); err != nil {
		return err
	}
	pid, err := profileID(ctx, tx, a.Profile)
	if err != nil {
		return err
	}
	password, settings, err := db.accountValues(a)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = tx.Exec(ctx, `
		INSERT INTO accounts (name, profile_id, grant_type, username, password, settings, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.Name, pid, string(a.GrantType), a.Username, password, settings, now, now)
	if err != nil {
		return err
	}
	// Every account has its row of tokens from the start (migration 0013
	// made one for the older ones): the refresh scheduler finds the
	// accounts without tokens by an index of that table (DueTokenStates).
	if _, err := tx.Exec(ctx, `INSERT INTO tokens (account_id) SELECT id FROM accounts WHERE name = $1`, a.Name); err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(now), fromMillis(now)
	return nil
}

// updateAccount writes a over the row id, moving it to a.Profile, and sets
// a.UpdatedAt.
func (db *Store) updateAccount(ctx context.Context, tx Tx, id int64, a *core.Account) error {
	pid, err := profileID(ctx, tx, a.Profile)
	if err != nil {
		return err
	}
	password, settings, err := db.accountValues(a)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = tx.Exec(ctx, `
		UPDATE accounts
		SET profile_id = $1, grant_type = $2, username = $3, password = $4, settings = $5, updated_at = $6
		WHERE id = $7`,
		pid, string(a.GrantType), a.Username, password, settings, now, id)
	if err != nil {
		return err
	}
	a.UpdatedAt = fromMillis(now)
	return nil
}

// deleteAccount removes an account unless webservices use it; its token
// state goes with it (ON DELETE CASCADE).
func deleteAccount(ctx context.Context, tx Tx, name string) error {
	id, err := accountID(ctx, tx, name)
	if err != nil {
		return err
	}
	webservices, err := webserviceNames(ctx, tx, "account_id", id)
	if err != nil {
		return err
	}
	if err := core.InUse("account", name, core.Usage{By: "webservice", Names: webservices}); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, id)
	return err
}
