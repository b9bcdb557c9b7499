package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"oidcctl/db/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Each test gets a database of its own, empty, on a real server.
func TestURLGivesAnEmptyDatabaseOfItsOwn(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.URL(t), pgtest.URL(t)
	if a == b {
		t.Fatalf("two tests share %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the second database has %d tables, want none", n)
	}
	var version string
	if err := ca.QueryRow(ctx, `SHOW server_version`).Scan(&version); err != nil || version == "" {
		t.Fatalf("server_version = %q, %v", version, err)
	}
}

// A cluster of a test's own stops and starts again with its data: a
// connection fails while it is down and works once it is back.
func TestClusterStopsAndStartsAgain(t *testing.T) {
	ctx := context.Background()
	c := pgtest.NewCluster(t)
	u := c.URL(t)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	c.Stop(t)
	if conn, err := pgx.Connect(ctx, u); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped cluster")
	}
	c.Start(t)
	conn, err = pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("after Start: %v", err)
	}
	defer conn.Close(ctx)
	var x int
	if err := conn.QueryRow(ctx, `SELECT x FROM kept`).Scan(&x); err != nil || x != 7 {
		t.Fatalf("data after the restart: %d, %v", x, err)
	}
}
