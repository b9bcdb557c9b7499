package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"oidcctl/core"
	"oidcctl/db/internal/rowform"
)

// PutServeStatus stores the status of one serve instance and forgets
// instances whose last heartbeat is more than a day old.
func (db *Store) PutServeStatus(ctx context.Context, s core.ServeStatus) error {
	doc, err := json.Marshal(rowform.ServeStatusDoc{
		Listen: s.Listen, Socket: s.Socket, Version: s.Version,
		StartedAt:          s.StartedAt.UnixMilli(),
		LastRefreshRun:     rowform.MillisOrZero(s.LastRefreshRun),
		LastRefreshRenewed: s.LastRefreshRenewed,
		LastRefreshFailed:  s.LastRefreshFailed,
		Stopped:            s.Stopped,
	})
	if err != nil {
		return fmt.Errorf("put serve status: %w", err)
	}
	return wrap("put serve status", s.Instance, db.inTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO serve_status (instance, status, heartbeat) VALUES ($1, $2, $3)
			ON CONFLICT (instance) DO UPDATE SET status = excluded.status, heartbeat = excluded.heartbeat`,
			s.Instance, string(doc), s.Heartbeat.UnixMilli()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM serve_status WHERE heartbeat < $1`,
			db.Now().Add(-24*time.Hour).UnixMilli())
		return err
	}))
}

// ServeStatuses returns the status of every serve instance, newest
// heartbeat first.
func (db *Store) ServeStatuses(ctx context.Context) ([]core.ServeStatus, error) {
	ss, err := readTx(ctx, db, func(tx Tx) ([]core.ServeStatus, error) {
		return listServeStatuses(ctx, tx)
	})
	return ss, wrapOp("read serve status", err)
}

// listServeStatuses is ServeStatuses in tx.
func listServeStatuses(ctx context.Context, tx Tx) ([]core.ServeStatus, error) {
	rows, err := tx.Query(ctx, `SELECT instance, status, heartbeat FROM serve_status ORDER BY heartbeat DESC, instance`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.ServeStatus
	for rows.Next() {
		var s core.ServeStatus
		var doc string
		var heartbeat int64
		if err := rows.Scan(&s.Instance, &doc, &heartbeat); err != nil {
			return nil, err
		}
		var d rowform.ServeStatusDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, asIs{fmt.Errorf("read serve status of %s: %w", s.Instance, err)}
		}
		s.Listen, s.Socket, s.Version, s.Stopped = d.Listen, d.Socket, d.Version, d.Stopped
		s.StartedAt, s.Heartbeat = fromMillis(d.StartedAt), fromMillis(heartbeat)
		if d.LastRefreshRun != 0 {
			s.LastRefreshRun = fromMillis(d.LastRefreshRun)
		}
		s.LastRefreshRenewed, s.LastRefreshFailed = d.LastRefreshRenewed, d.LastRefreshFailed
		out = append(out, s)
	}
	return out, rows.Err()
}
