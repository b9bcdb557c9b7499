package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Cluster is a PostgreSQL server of one test's own, which the test may
// stop and start again: for fault tests (the database restarting under a
// running serve). It is made like the shared one (initdb in a temporary
// directory, postgres on a unix socket there) and always runs locally:
// OIDCCTL_TEST_POSTGRES names a server the tests cannot stop, so it is not
// used here. The cluster is stopped and removed when the test ends.
type Cluster struct {
	mu sync.Mutex
	s  *server
	n  int
}

// NewCluster starts a cluster for t; it fails t when none can be started.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	s, err := startLocal()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c := &Cluster{s: s}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.s.stop()
	})
	return c
}

// URL returns the connection string of a new, empty database on the
// cluster. It stays until the cluster is removed.
func (c *Cluster) URL(t testing.TB) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	name := fmt.Sprintf("oidcctl_fault_%d", c.n)
	if err := c.s.exec(context.Background(), `CREATE DATABASE `+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	u, err := withDatabase(c.s.admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// Stop shuts the server down as an administrator's restart does (fast
// shutdown: open sessions are ended, then it exits) and waits until it
// has. Clients then find no server at the socket until Start.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.halt(syscall.SIGINT)
	// The socket is gone with the server; a stale lock file would stop
	// the next start.
	os.Remove(filepath.Join(c.s.dir, ".s.PGSQL.5432.lock"))
}

// Start starts the stopped server again on the same data, and waits
// until it answers.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.done != nil {
		t.Fatal("pgtest: Start of a cluster that runs")
	}
	if err := c.s.launch(); err != nil {
		t.Fatalf("pgtest: start again: %v", err)
	}
}
