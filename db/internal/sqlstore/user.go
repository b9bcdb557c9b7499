package sqlstore

import (
	"context"
	"errors"
	"slices"

	"oidcctl/core"
	"oidcctl/db/internal/rowform"
)

// CreateUser stores a new user; *core.ExistsError (Kind "user") when the
// login is taken, *core.ValidationError when the login or a role is empty.
// Its roles are stored sorted and without duplicates; CreatedAt and
// UpdatedAt are set from db.Now, whatever u says.
func (db *Store) CreateUser(ctx context.Context, u core.User) error {
	return wrap("create user", u.Login, db.inTx(ctx, func(tx Tx) error {
		return db.createUser(ctx, tx, &u)
	}))
}

// User returns one user, its roles sorted; *core.NotFoundError (Kind
// "user") when there is none.
func (db *Store) User(ctx context.Context, login string) (core.User, error) {
	u, err := readTx(ctx, db, func(tx Tx) (core.User, error) {
		u, _, err := findUser(ctx, tx, login)
		return u, err
	})
	return u, wrap("read user", login, err)
}

// Users returns every user, ordered by login (byte order).
func (db *Store) Users(ctx context.Context) ([]core.User, error) {
	us, err := readTx(ctx, db, func(tx Tx) ([]core.User, error) {
		return listUsers(ctx, tx)
	})
	return us, wrapOp("list users", err)
}

// UpdateUser reads a user, lets fn change it and writes it back, in one
// write transaction, so that no other process writes in between.
// When fn returns an error nothing is written and that error is returned
// as it is. A changed login is refused with a *core.ValidationError, as
// is an empty role; the roles are stored sorted and without duplicates;
// the timestamps fn sets are ignored (CreatedAt stays, UpdatedAt is
// db.Now). *core.NotFoundError when there is no such user.
func (db *Store) UpdateUser(ctx context.Context, login string, fn func(*core.User) error) (core.User, error) {
	u, err := writeTx(ctx, db, func(tx Tx) (core.User, error) {
		u, id, err := findUser(ctx, tx, login)
		if err != nil {
			return u, err
		}
		if err := edit(&u, fn, "user", "login", &u.Login, &u.CreatedAt); err != nil {
			return u, err
		}
		return u, db.updateUser(ctx, tx, id, &u)
	})
	return u, wrap("update user", login, err)
}

// DeleteUser removes a user and its roles; *core.NotFoundError when there
// is none.
func (db *Store) DeleteUser(ctx context.Context, login string) error {
	return wrap("delete user", login, db.inTx(ctx, func(tx Tx) error {
		return deleteUser(ctx, tx, login)
	}))
}

const userColumns = `id, login, email, first_name, last_name, profile, created_at, updated_at`

func scanUser(row Row) (core.User, int64, error) {
	var (
		u                    core.User
		id                   int64
		createdAt, updatedAt int64
	)
	if err := row.Scan(&id, &u.Login, &u.Email, &u.FirstName, &u.LastName, &u.Profile, &createdAt, &updatedAt); err != nil {
		return core.User{}, 0, err
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	return u, id, nil
}

// findUser returns a user with its roles, and its id; *core.NotFoundError
// when there is none.
func findUser(ctx context.Context, tx Tx, login string) (core.User, int64, error) {
	u, id, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE login = $1`, login))
	if errors.Is(err, ErrNoRows) {
		return core.User{}, 0, &core.NotFoundError{Kind: "user", Name: login}
	}
	if err != nil {
		return core.User{}, 0, err
	}
	roles, err := userRoles(ctx, tx, `WHERE user_id = $1`, id)
	if err != nil {
		return core.User{}, 0, err
	}
	u.Roles = roles[id]
	return u, id, nil
}

// userRoles returns the roles of the users that where selects, by user
// id, each sorted.
func userRoles(ctx context.Context, tx Tx, where string, args ...any) (map[int64][]string, error) {
	rows, err := tx.Query(ctx, `SELECT user_id, role FROM user_roles `+where+` ORDER BY user_id, role`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	roles := make(map[int64][]string)
	for rows.Next() {
		var (
			id   int64
			role string
		)
		if err := rows.Scan(&id, &role); err != nil {
			return nil, err
		}
		roles[id] = append(roles[id], role)
	}
	return roles, rows.Err()
}

func listUsers(ctx context.Context, tx Tx) ([]core.User, error) {
	rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY login`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out []core.User
		ids []int64
	)
	for rows.Next() {
		u, id, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out, ids = append(out, u), append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	roles, err := userRoles(ctx, tx, "")
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		out[i].Roles = roles[id]
	}
	return out, nil
}

// userID returns the id of a user; *core.NotFoundError when there is none.
func userID(ctx context.Context, tx Tx, login string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM users WHERE login = $1`, login).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		return 0, &core.NotFoundError{Kind: "user", Name: login}
	}
	return id, err
}

// createUser inserts u with its roles, normalizes u.Roles and sets its
// timestamps.
func (db *Store) createUser(ctx context.Context, tx Tx, u *core.User) error {
	if err := rowform.CheckUser(u); err != nil {
		return err
	}
	if _, err := userID(ctx, tx, u.Login); err == nil {
		return &core.ExistsError{Kind: "user", Name: u.Login}
	} else if !errors.Is(err, core.ErrNotFound) {
		return err
	}
	if err := db.caseClash(ctx, tx, "user", "users", "login", u.Login); err != nil {
		return err
	}
	now := db.now()
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO users (login, email, first_name, last_name, profile, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		u.Login, u.Email, u.FirstName, u.LastName, u.Profile, now, now).Scan(&id)
	if err != nil {
		return err
	}
	u.Roles = rowform.NormalRoles(u.Roles)
	if err := setRoles(ctx, tx, id, u.Roles); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(now), fromMillis(now)
	return nil
}

// updateUser writes u over the row id and its roles, normalizes u.Roles
// and sets u.UpdatedAt.
func (db *Store) updateUser(ctx context.Context, tx Tx, id int64, u *core.User) error {
	if err := rowform.CheckUser(u); err != nil {
		return err
	}
	now := db.now()
	_, err := tx.Exec(ctx, `
		UPDATE users SET email = $1, first_name = $2, last_name = $3, profile = $4, updated_at = $5
		WHERE id = $6`,
		u.Email, u.FirstName, u.LastName, u.Profile, now, id)
	if err != nil {
		return err
	}
	u.Roles = rowform.NormalRoles(u.Roles)
	if err := setRoles(ctx, tx, id, u.Roles); err != nil {
		return err
	}
	u.UpdatedAt = fromMillis(now)
	return nil
}

// setRoles makes roles, which are normal, the roles of user id. It
// touches only the rows that change, so that writing a user's roles
// unchanged does not raise the configuration version (see ConfigVersion).
func setRoles(ctx context.Context, tx Tx, id int64, roles []string) error {
	stored, err := userRoles(ctx, tx, `WHERE user_id = $1`, id)
	if err != nil {
		return err
	}
	for _, r := range stored[id] {
		if !slices.Contains(roles, r) {
			if _, err := tx.Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1 AND role = $2`, id, r); err != nil {
				return err
			}
		}
	}
	for _, r := range roles {
		if !slices.Contains(stored[id], r) {
			if _, err := tx.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, id, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteUser removes a user; its roles go with it (ON DELETE CASCADE).
func deleteUser(ctx context.Context, tx Tx, login string) error {
	id, err := userID(ctx, tx, login)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	return err
}
