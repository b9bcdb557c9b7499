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

// CreateWebservice stores a new webservice; *core.ExistsError when the
// name is taken, *core.NotFoundError (Kind "profile" or "account") when
// the profile or account it names does not exist, *core.ValidationError
// when its kind is neither provider nor requester. Its CreatedAt and
// UpdatedAt are set from db.Now. The rest is core's to validate
// (Webservice.Validate).
func (db *Store) CreateWebservice(ctx context.Context, w core.Webservice) error {
	return wrap("create webservice", w.Name, db.inTx(ctx, func(tx Tx) error {
		return db.createWebservice(ctx, tx, &w)
	}))
}

// Webservice returns one webservice; *core.NotFoundError when there is
// none.
func (db *Store) Webservice(ctx context.Context, name string) (core.Webservice, error) {
	w, err := readTx(ctx, db, func(tx Tx) (core.Webservice, error) {
		w, _, err := findWebservice(ctx, tx, name)
		return w, err
	})
	return w, wrap("read webservice", name, err)
}

// Webservices returns every webservice, ordered by name (byte order).
func (db *Store) Webservices(ctx context.Context) ([]core.Webservice, error) {
	ws, err := readTx(ctx, db, func(tx Tx) ([]core.Webservice, error) {
		return listWebservices(ctx, tx)
	})
	return ws, wrapOp("list webservices", err)
}

// UpdateWebservice is UpdateProfile for webservices: one write
// transaction, fn's error returned as it is, a rename refused with a
// *core.ValidationError, the timestamps fn sets ignored. fn may point the
// webservice at another profile or account; *core.NotFoundError when that
// does not exist.
func (db *Store) UpdateWebservice(ctx context.Context, name string, fn func(*core.Webservice) error) (core.Webservice, error) {
	w, err := writeTx(ctx, db, func(tx Tx) (core.Webservice, error) {
		w, id, err := findWebservice(ctx, tx, name)
		if err != nil {
			return w, err
		}
		if err := edit(&w, fn, "webservice", "name", &w.Name, &w.CreatedAt); err != nil {
			return w, err
		}
		return w, db.updateWebservice(ctx, tx, id, &w)
	})
	return w, wrap("update webservice", name, err)
}

// DeleteWebservice removes a webservice, its debugger entries and its
// invoke credentials (ON DELETE CASCADE); *core.NotFoundError when there
// is none.
func (db *Store) DeleteWebservice(ctx context.Context, name string) error {
	return wrap("delete webservice", name, db.inTx(ctx, func(tx Tx) error {
		id, err := webserviceID(ctx, tx, name)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM webservices WHERE id = $1`, id)
		return err
	}))
}

const webserviceColumns = `w.id, w.name, w.kind, coalesce(p.name, ''), coalesce(a.name, ''), w.settings, w.created_at, w.updated_at`

const webserviceFrom = ` FROM webservices w
	LEFT JOIN profiles p ON p.id = w.profile_id
	LEFT JOIN accounts a ON a.id = w.account_id`

func scanWebservice(row Row) (core.Webservice, int64, error) {
	var (
		w                    core.Webservice
		id                   int64
		kind, settings       string
		createdAt, updatedAt int64
	)
	if err := row.Scan(&id, &w.Name, &kind, &w.Profile, &w.Account, &settings, &createdAt, &updatedAt); err != nil {
		return core.Webservice{}, 0, err
	}
	var s rowform.WebserviceSettings
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return core.Webservice{}, 0, fmt.Errorf("webservice %s: settings: %w", w.Name, err)
	}
	w.Kind = core.WebserviceKind(kind)
	w.Route, w.Methods, w.Upstream, w.PassAuthorization = s.Route, s.Methods, s.Upstream, s.PassAuthorization
	w.Endpoint, w.Path, w.Method = s.Endpoint, s.Path, s.Method
	w.Debug = core.DebugSettings{
		Enabled:    s.Debug.Enabled,
		MaxBody:    s.Debug.MaxBody,
		MaxAge:     time.Duration(s.Debug.MaxAgeNS),
		MaxEntries: s.Debug.MaxEntries,
	}
	w.CreatedAt, w.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
	return w, id, nil
}

// findWebservice returns a webservice and its id; *core.NotFoundError when
// there is none.
func findWebservice(ctx context.Context, tx Tx, name string) (core.Webservice, int64, error) {
	w, id, err := scanWebservice(tx.QueryRow(ctx, `SELECT `+webserviceColumns+webserviceFrom+` WHERE w.name = $1`, name))
	if errors.Is(err, ErrNoRows) {
		return core.Webservice{}, 0, &core.NotFoundError{Kind: "webservice", Name: name}
	}
	return w, id, err
}

// webserviceID returns the id of a webservice; *core.NotFoundError when
// there is none.
func webserviceID(ctx context.Context, tx Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM webservices WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		return 0, &core.NotFoundError{Kind: "webservice", Name: name}
	}
	return id, err
}

func listWebservices(ctx context.Context, tx Tx) ([]core.Webservice, error) {
	rows, err := tx.Query(ctx, `SELECT `+webserviceColumns+webserviceFrom+` ORDER BY w.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.Webservice
	for rows.Next() {
		w, _, err := scanWebservice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// webserviceNames returns the names of the webservices whose column
// (profile_id or account_id, a constant) is id, sorted.
func webserviceNames(ctx context.Context, tx Tx, column string, id int64) ([]string, error) {
	if column != "profile_id" && column != "account_id" {
		return nil, fmt.Errorf("webservices by %q: not a reference column", column)
	}
	return queryStrings(ctx, tx, nil, `SELECT name FROM webservices WHERE `+column+` = $1 ORDER BY name`, id)
}

// webserviceValues returns the stored form of a webservice's references
// (the ids, or nil for NULL when it names none) and settings.
func webserviceValues(ctx context.Context, tx Tx, w *core.Webservice) (profile, account any, settings string, err error) {
	if err := rowform.CheckWebservice(w); err != nil {
		return nil, nil, "", err
	}
	if w.Profile != "" {
		if profile, err = profileID(ctx, tx, w.Profile); err != nil {
			return nil, nil, "", err
		}
	}
	if w.Account != "" {
		if account, err = accountID(ctx, tx, w.Account); err != nil {
			return nil, nil, "", err
		}
	}
	js, err := json.Marshal(rowform.WebserviceSettings{
		Route:             w.Route,
		Methods:           w.Methods,
		Upstream:          w.Upstream,
		PassAuthorization: w.PassAuthorization,
		Endpoint:          w.Endpoint,
		Path:              w.Path,
		Method:            w.Method,
		Debug: rowform.DebugSettings{
			Enabled:    w.Debug.Enabled,
			MaxBody:    w.Debug.MaxBody,
			MaxAgeNS:   int64(w.Debug.MaxAge),
			MaxEntries: w.Debug.MaxEntries,
		},
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("settings: %w", err)
	}
	return profile, account, string(js), nil
}

// createWebservice inserts w and sets its timestamps.
func (db *Store) createWebservice(ctx context.Context, tx Tx, w *core.Webservice) error {
	if _, err := webserviceID(ctx, tx, w.Name); err == nil {
		return &core.ExistsError{Kind: "webservice", Name: w.Name}
	} else if !errors.Is(err, core.ErrNotFound) {
		return err
	}
	if err := db.caseClash(ctx, tx, "webservice", "webservices", "name", w.Name); err != nil {
		return err
	}
	profile, account, settings, err := webserviceValues(ctx, tx, w)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = tx.Exec(ctx, `
		INSERT INTO webservices (name, kind, profile_id, account_id, settings, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		w.Name, string(w.Kind), profile, account, settings, now, now)
	if err != nil {
		return err
	}
	w.CreatedAt, w.UpdatedAt = fromMillis(now), fromMillis(now)
	return nil
}

// updateWebservice writes w over the row id and sets w.UpdatedAt.
func (db *Store) updateWebservice(ctx context.Context, tx Tx, id int64, w *core.Webservice) error {
	profile, account, settings, err := webserviceValues(ctx, tx, w)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = tx.Exec(ctx, `
		UPDATE webservices
		SET kind = $1, profile_id = $2, account_id = $3, settings = $4, updated_at = $5
		WHERE id = $6`,
		string(w.Kind), profile, account, settings, now, id)
	if err != nil {
		return err
	}
	w.UpdatedAt = fromMillis(now)
	return nil
}
