package core

import (
	"context"
	"time"
)

// ServeStatus is what a running `oidcctl serve` reports about itself in the
// database, so that the console and `oidcctl serve status` can show it.
type ServeStatus struct {
	// Instance names the process: host and pid.
	Instance string
	Listen   string
	Socket   string
	Version  string
	// StartedAt is when it started; Heartbeat when it last said it was
	// alive. A status whose heartbeat is older than a few intervals belongs
	// to a process that is gone.
	StartedAt time.Time
	Heartbeat time.Time
	// LastRefreshRun is when its scheduler last ran, with how many
	// accounts it renewed and how many failed.
	LastRefreshRun     time.Time
	LastRefreshRenewed int
	LastRefreshFailed  int
	// Stopped is set when it shut down cleanly.
	Stopped bool
}

// ServeHeartbeat is how often serve reports its status.
const ServeHeartbeat = 10 * time.Second

// Alive reports whether the status was reported recently enough, at now,
// for its process to be running.
func (s ServeStatus) Alive(now time.Time) bool {
	return !s.Stopped && now.Sub(s.Heartbeat) < 3*ServeHeartbeat
}

// ServeStatusStore keeps the statuses of serve processes. Writing one is
// not a configuration change.
type ServeStatusStore interface {
	// PutServeStatus stores the status of one instance, replacing the one
	// before.
	PutServeStatus(ctx context.Context, s ServeStatus) error
	// ServeStatuses returns every instance's status, newest heartbeat
	// first.
	ServeStatuses(ctx context.Context) ([]ServeStatus, error)
}
