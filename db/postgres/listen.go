package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/core"
)

// changeChannel is the channel the triggers of migrations/0002 notify on
// every raise of the configuration version.
const changeChannel = "oidcctl_config"

// Backoff of the listener between failed connections: it doubles from
// listenRetryMin up to listenRetryMax and starts again after a connection
// that worked.
const (
	listenRetryMin = 250 * time.Millisecond
	listenRetryMax = 30 * time.Second
)

var _ core.ChangeNotifier = (*DB)(nil)

// ConfigChanges implements core.ChangeNotifier with LISTEN oidcctl_config
// on a connection of its own, outside the pool (a listening connection is
// held for as long as ctx lasts). It sends a value after every
// notification and after every (re)connection, since changes may have been
// made while it was not listening; when the connection is lost it connects
// again with a growing pause, and meanwhile sends nothing: the caller's
// poll of ConfigVersion covers that time. The channel holds one value,
// so a slow reader gets one signal for many changes. It is closed when ctx
// ends.
func (db *DB) ConfigChanges(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	cfg := db.pool.Config().ConnConfig.Copy()
	go func() {
		defer close(ch)
		wait := listenRetryMin
		for ctx.Err() == nil {
			if listenOnce(ctx, cfg, ch) {
				wait = listenRetryMin
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, listenRetryMax)
		}
	}()
	return ch
}

// listenOnce connects, listens and signals on ch until the connection
// fails or ctx ends. It reports whether listening started.
func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, ch chan<- struct{}) bool {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return false
	}
	signal(ch) // what changed before LISTEN took effect
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true
		}
		signal(ch)
	}
}

// signal puts a value in ch unless one is already waiting there.
func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
