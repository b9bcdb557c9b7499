package sqlstore

import (
	"context"
	"fmt"

	"oidcctl/core"
)

// CreateCredential stores an invoke credential (its hash, never the
// secret); *core.ExistsError when the webservice already has one of that
// name, *core.NotFoundError when the webservice does not exist,
// *core.ValidationError when it is not a requester webservice or the
// credential is malformed. Its CreatedAt is set from db.Now.
func (db *Store) CreateCredential(ctx context.Context, c core.InvokeCredential) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return wrap("create credential", c.Name, db.inTx(ctx, func(tx Tx) error {
		w, id, err := findWebservice(ctx, tx, c.Webservice)
		if err != nil {
			return err
		}
		if w.Kind != core.Requester {
			return &core.ValidationError{Kind: "credential", Name: c.Name, Problems: []core.FieldError{{
				Field:   "webservice",
				Problem: fmt.Sprintf("%q is a %s webservice; credentials are for requester webservices", w.Name, w.Kind),
			}}}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM invoke_credentials WHERE webservice_id = $1 AND name = $2`, id, c.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &core.ExistsError{Kind: "credential", Name: c.Webservice + "/" + c.Name}
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO invoke_credentials (webservice_id, name, hash, hint, created_at)
			VALUES ($1, $2, $3, $4, $5)`, id, c.Name, c.Hash, c.Hint, db.now())
		return err
	}))
}

// Credentials returns the invoke credentials of a webservice, or of all
// webservices when webservice is "", ordered by webservice and name;
// *core.NotFoundError when the webservice named does not exist.
func (db *Store) Credentials(ctx context.Context, webservice string) ([]core.InvokeCredential, error) {
	cs, err := readTx(ctx, db, func(tx Tx) ([]core.InvokeCredential, error) {
		return listCredentials(ctx, tx, webservice)
	})
	return cs, wrapOp("list credentials", err)
}

// listCredentials is Credentials in tx.
func listCredentials(ctx context.Context, tx Tx, webservice string) ([]core.InvokeCredential, error) {
	q := `SELECT w.name, c.name, c.hash, c.hint, c.created_at
		FROM invoke_credentials c JOIN webservices w ON w.id = c.webservice_id`
	var args []any
	if webservice != "" {
		id, err := webserviceID(ctx, tx, webservice)
		if err != nil {
			return nil, keepAsIs(wrap("list credentials of webservice", webservice, err))
		}
		q += ` WHERE c.webservice_id = $1`
		args = append(args, id)
	}
	rows, err := tx.Query(ctx, q+` ORDER BY w.name, c.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.InvokeCredential
	for rows.Next() {
		var (
			c       core.InvokeCredential
			created int64
		)
		if err := rows.Scan(&c.Webservice, &c.Name, &c.Hash, &c.Hint, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMillis(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteCredential revokes an invoke credential; *core.NotFoundError when
// the webservice or the credential does not exist.
func (db *Store) DeleteCredential(ctx context.Context, webservice, name string) error {
	return wrap("delete credential", name, db.inTx(ctx, func(tx Tx) error {
		id, err := webserviceID(ctx, tx, webservice)
		if err != nil {
			return err
		}
		n, err := tx.Exec(ctx, `DELETE FROM invoke_credentials WHERE webservice_id = $1 AND name = $2`, id, name)
		if err != nil {
			return err
		}
		if n == 0 {
			return &core.NotFoundError{Kind: "credential", Name: webservice + "/" + name}
		}
		return nil
	}))
}
