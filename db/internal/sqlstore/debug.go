package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"oidcctl/core"
	"oidcctl/db/internal/rowform"
)

// The debugger's log keeps each entry as serve gives it: headers and
// bodies are already redacted, so they are stored as they are, not sealed.
// Times are kept in whole milliseconds and come back in UTC; a header
// without fields and an empty body come back nil.

// DefaultDebugLimit is how many entries DebugEntries returns when the
// filter sets no limit.
const DefaultDebugLimit = 100

// AddDebugEntries appends entries in one write transaction: all or
// none. Their IDs are ignored (each gets a new one); a zero Time is
// db.Now. An entry names its webservice by name, "" for a forward-auth
// call without one; an entry of a webservice that no longer exists is
// dropped, as deleting the webservice would have dropped it.
func (db *Store) AddDebugEntries(ctx context.Context, entries []core.DebugEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return wrapOp("add debug entries", db.inTx(ctx, func(tx Tx) error {
		return db.addDebugEntries(ctx, tx, entries)
	}))
}

// AppendDebug appends entries as AddDebugEntries does and, in the same
// write transaction, prunes the entries of every webservice named in
// keep ("" for those without a webservice) as PruneDebug would, so that a
// reader never sees a log beyond its limits. It returns how many entries
// it pruned. A webservice in keep that does not exist is skipped.
func (db *Store) AppendDebug(ctx context.Context, entries []core.DebugEntry, keep map[string]core.DebugRetention) (int, error) {
	if len(entries) == 0 && len(keep) == 0 {
		return 0, nil
	}
	pruned, err := writeTx(ctx, db, func(tx Tx) (int, error) {
		if err := db.addDebugEntries(ctx, tx, entries); err != nil {
			return 0, err
		}
		pruned := 0
		for _, ws := range slices.Sorted(maps.Keys(keep)) {
			n, err := pruneDebug(ctx, tx, db.dialect.NoLimit, ws, keep[ws].Before, keep[ws].Keep)
			if err != nil {
				return 0, keepAsIs(wrapDebug("prune debug entries", ws, err))
			}
			pruned += n
		}
		return pruned, nil
	})
	return pruned, wrapOp("add debug entries", err)
}

// DebugEntries returns the entries f selects, newest first (by time, then
// by id), at most f.Limit of them (DefaultDebugLimit when f.Limit is not
// positive). f.Since selects entries at or after it. A webservice that
// does not exist gives *core.NotFoundError, so that a mistyped name does
// not look like a quiet webservice.
func (db *Store) DebugEntries(ctx context.Context, f core.DebugFilter) ([]core.DebugEntry, error) {
	es, err := readTx(ctx, db, func(tx Tx) ([]core.DebugEntry, error) {
		return listDebugEntries(ctx, tx, f)
	})
	return es, wrapDebug("list debug entries", f.Webservice, err)
}

// DebugEntry returns one entry; *core.NotFoundError (Kind "debug entry",
// Name the id) when there is none.
func (db *Store) DebugEntry(ctx context.Context, id int64) (core.DebugEntry, error) {
	name := strconv.FormatInt(id, 10)
	e, err := readTx(ctx, db, func(tx Tx) (core.DebugEntry, error) {
		e, err := scanDebugEntry(tx.QueryRow(ctx, `SELECT `+debugColumns+` FROM debug_log WHERE id = $1`, id))
		if errors.Is(err, ErrNoRows) {
			return e, &core.NotFoundError{Kind: "debug entry", Name: name}
		}
		return e, err
	})
	return e, wrap("read debug entry", name, err)
}

// ClearDebug removes the entries of a webservice, or every entry when
// webservice is "", and returns how many it removed; *core.NotFoundError
// when the webservice does not exist.
func (db *Store) ClearDebug(ctx context.Context, webservice string) (int, error) {
	n, err := writeTx(ctx, db, func(tx Tx) (int, error) {
		return clearDebug(ctx, tx, webservice)
	})
	return n, wrapDebug("clear debug entries", webservice, err)
}

// PruneDebug removes the entries of a webservice that are older than
// before or beyond its newest keep (by time, then id), and returns how
// many it removed. webservice "" prunes the entries without a webservice
// (forward-auth), not every entry: each webservice has limits of its own.
// A zero before sets no bound on the age, a keep of zero or less none on
// the count. A webservice that does not exist has nothing to prune:
// 0 and no error, since serve prunes from a list the console may have
// just changed.
func (db *Store) PruneDebug(ctx context.Context, webservice string, before time.Time, keep int) (int, error) {
	n, err := writeTx(ctx, db, func(tx Tx) (int, error) {
		return pruneDebug(ctx, tx, db.dialect.NoLimit, webservice, before, keep)
	})
	return n, wrapDebug("prune debug entries", webservice, err)
}

// wrapDebug is wrap for the debugger's log, where webservice may be "".
func wrapDebug(op, webservice string, err error) error {
	if webservice != "" {
		return wrap(op+" of webservice", webservice, err)
	}
	return wrapOp(op, err)
}

const debugColumns = `id, time, request_id, webservice, direction, method, path, status, duration_ns,
	"user", verdict, reason, request_header, request_body, response_header, response_body, bodies_truncated, token_claims`

func scanDebugEntry(row Row) (core.DebugEntry, error) {
	var (
		e                     core.DebugEntry
		at, duration          int64
		truncated             bool
		reqHeader, respHeader string
	)
	if err := row.Scan(&e.ID, &at, &e.RequestID, &e.Webservice, &e.Direction, &e.Method, &e.Path, &e.Status, &duration,
		&e.User, &e.Verdict, &e.Reason, &reqHeader, &e.RequestBody, &respHeader, &e.ResponseBody, &truncated, &e.TokenClaims); err != nil {
		return core.DebugEntry{}, err
	}
	e.Time, e.Duration, e.BodiesTruncated = fromMillis(at), time.Duration(duration), truncated
	var err error
	if e.RequestHeader, err = rowform.ParseHeader(reqHeader); err != nil {
		return core.DebugEntry{}, fmt.Errorf("debug entry %d: request header: %w", e.ID, err)
	}
	if e.ResponseHeader, err = rowform.ParseHeader(respHeader); err != nil {
		return core.DebugEntry{}, fmt.Errorf("debug entry %d: response header: %w", e.ID, err)
	}
	e.RequestBody, e.ResponseBody = rowform.NilIfEmpty(e.RequestBody), rowform.NilIfEmpty(e.ResponseBody)
	return e, nil
}

func (db *Store) addDebugEntries(ctx context.Context, tx Tx, entries []core.DebugEntry) error {
	// One statement for the whole batch: the engine sends it as cheaply
	// as it can.
	var batch [][]any
	// The id of each webservice named in the batch; 0 when it is gone.
	ids := map[string]int64{}
	for i := range entries {
		e := &entries[i]
		var wsID any // NULL for an entry without a webservice
		if e.Webservice != "" {
			id, ok := ids[e.Webservice]
			if !ok {
				var err error
				id, err = webserviceID(ctx, tx, e.Webservice)
				if errors.Is(err, core.ErrNotFound) {
					id, err = 0, nil
				}
				if err != nil {
					return err
				}
				ids[e.Webservice] = id
			}
			if id == 0 {
				continue // its webservice was deleted
			}
			wsID = id
		}
		at := e.Time
		if at.IsZero() {
			at = db.Now()
		}
		reqHeader, err := rowform.HeaderJSON(e.RequestHeader)
		if err != nil {
			return fmt.Errorf("request header: %w", err)
		}
		respHeader, err := rowform.HeaderJSON(e.ResponseHeader)
		if err != nil {
			return fmt.Errorf("response header: %w", err)
		}
		batch = append(batch, []any{at.UnixMilli(), e.RequestID, wsID, e.Webservice, e.Direction, e.Method, e.Path,
			e.Status, int64(e.Duration), e.User, e.Verdict, e.Reason,
			reqHeader, rowform.NilIfEmpty(e.RequestBody), respHeader, rowform.NilIfEmpty(e.ResponseBody), e.BodiesTruncated,
			e.TokenClaims})
	}
	if len(batch) == 0 {
		return nil
	}
	return tx.ExecBatch(ctx, insertDebugEntry, batch)
}

const insertDebugEntry = `
	INSERT INTO debug_log (time, request_id, webservice_id, webservice, direction, method, path, status,
		duration_ns, "user", verdict, reason, request_header, request_body, response_header, response_body,
		bodies_truncated, token_claims)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`

func listDebugEntries(ctx context.Context, tx Tx, f core.DebugFilter) ([]core.DebugEntry, error) {
	var (
		where []string
		args  []any
	)
	if f.Webservice != "" {
		id, err := webserviceID(ctx, tx, f.Webservice)
		if err != nil {
			return nil, err
		}
		args = append(args, id)
		where = append(where, fmt.Sprintf(`webservice_id = $%d`, len(args)))
	}
	if !f.Since.IsZero() {
		args = append(args, f.Since.UnixMilli())
		where = append(where, fmt.Sprintf(`time >= $%d`, len(args)))
	}
	if f.Status != 0 {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf(`status = $%d`, len(args)))
	}
	if f.Verdict != "" {
		args = append(args, f.Verdict)
		where = append(where, fmt.Sprintf(`verdict = $%d`, len(args)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultDebugLimit
	}
	query := `SELECT ` + debugColumns + ` FROM debug_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, limit)
	query += fmt.Sprintf(` ORDER BY time DESC, id DESC LIMIT $%d`, len(args))
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.DebugEntry
	for rows.Next() {
		e, err := scanDebugEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func clearDebug(ctx context.Context, tx Tx, webservice string) (int, error) {
	query, args := `DELETE FROM debug_log`, []any{}
	if webservice != "" {
		id, err := webserviceID(ctx, tx, webservice)
		if err != nil {
			return 0, err
		}
		query, args = `DELETE FROM debug_log WHERE webservice_id = $1`, []any{id}
	}
	n, err := tx.Exec(ctx, query, args...)
	return int(n), err
}

// pruneDebug deletes the entries of one webservice (none: those without
// one) older than before or beyond the newest keep. noLimit is the
// dialect's NoLimit.
func pruneDebug(ctx context.Context, tx Tx, noLimit, webservice string, before time.Time, keep int) (int, error) {
	var wsID any // NULL: the entries without a webservice
	if webservice != "" {
		id, err := webserviceID(ctx, tx, webservice)
		if errors.Is(err, core.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		wsID = id
	}
	var (
		bounds []string
		args   = []any{wsID}
	)
	if !before.IsZero() {
		args = append(args, before.UnixMilli())
		bounds = append(bounds, fmt.Sprintf(`time < $%d`, len(args)))
	}
	if keep > 0 {
		args = append(args, keep)
		bounds = append(bounds, fmt.Sprintf(`id IN (SELECT id FROM debug_log WHERE webservice_id IS NOT DISTINCT FROM $1
			ORDER BY time DESC, id DESC %s OFFSET $%d)`, noLimit, len(args)))
	}
	if len(bounds) == 0 {
		return 0, nil
	}
	n, err := tx.Exec(ctx,
		`DELETE FROM debug_log WHERE webservice_id IS NOT DISTINCT FROM $1 AND (`+strings.Join(bounds, ` OR `)+`)`, args...)
	return int(n), err
}
