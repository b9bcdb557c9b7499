package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/core/oidctest"
	"oidcctl/db/pgtest"
	"oidcctl/internal/testkit"
)

// lockStore takes the database away from serve until the returned
// function is called: on PostgreSQL every table of the schema is locked
// ACCESS EXCLUSIVE (no read or write of any table completes), on SQLite
// the write lock is held (no write completes; WAL readers go on).
// check, called while it is held, shows that the lock holds.
type storeLocker func(t *testing.T, c *cli) (check func(t *testing.T), release func())

func lockPostgres(t *testing.T, c *cli) (func(t *testing.T), func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.env["OIDCCTL_DB"])
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables of the schema: %v %v", tables, err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '10s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(tables, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T) {
		t.Helper()
		other, err := pgx.Connect(ctx, c.env["OIDCCTL_DB"])
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close(ctx)
		if _, err := other.Exec(ctx, `SET lock_timeout = '100ms'`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := other.QueryRow(ctx, `SELECT count(*) FROM debug_log`).Scan(&n); err == nil || !strings.Contains(err.Error(), "lock timeout") {
			t.Fatalf("a read of debug_log while the tables are locked: %d, %v; want a lock timeout", n, err)
		}
	}
	release := func() {
		tx.Rollback(ctx)
		conn.Close(ctx)
	}
	return check, release
}

func lockSQLite(t *testing.T, c *cli) (func(t *testing.T), func()) {
	t.Helper()
	ctx := context.Background()
	open := func(busy string) *sql.Conn {
		t.Helper()
		dbh, err := sql.Open("sqlite", "file:"+filepath.ToSlash(c.env["OIDCCTL_DB"])+"?_pragma=busy_timeout("+busy+")")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dbh.Close() })
		conn, err := dbh.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	conn := open("5000")
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T) {
		t.Helper()
		other := open("0")
		defer other.Close()
		if _, err := other.ExecContext(ctx, `BEGIN IMMEDIATE`); err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			t.Fatalf("a second writer while the write lock is held: %v, want SQLITE_BUSY", err)
		}
	}
	release := func() {
		conn.ExecContext(ctx, `ROLLBACK`)
		conn.Close()
	}
	return check, release
}

// TestForwardAuthDoesNotWaitForTheDatabase: once serve knows a token
// (and the user and keys behind it), forward-auth answers it without
// touching the database, and the debugger's writes of those calls do not
// hold them up either: they are queued and written in a batch once the
// database can be written again. On PostgreSQL every table is locked
// while the calls are made, so a single read or write of any table on
// the call path would hang the call (the client gives up after 3 s); on
// SQLite the write lock is held, so a write on the call path would wait
// for the busy timeout (5 s). This is why forward-auth throughput does
// not depend on the engine (bench/forward-auth-engines.sh).
func TestForwardAuthDoesNotWaitForTheDatabase(t *testing.T) {
	for _, tc := range []struct {
		name string
		lock storeLocker
	}{{"sqlite", lockSQLite}, {"postgres", lockPostgres}} {
		t.Run(tc.name, func(t *testing.T) {
			op := oidctest.Start(t, oidctest.WithAccessTokenLifetime(2*time.Hour))
			var c *cli
			if tc.name == "postgres" {
				c, _ = pgCLI(t, pgtest.URL(t), op)
			} else {
				c = newCLI(t)
				addProvider(c, op)
			}
			c.ok("account", "add", "billing", "--profile", "service")
			c.ok("user", "add", oidctest.ServiceClientID, "--email", "sid1@example.test", "--role", "api")
			tok := strings.TrimSpace(c.ok("token", "get", "billing"))
			bad := tok[:len(tok)-4] + map[bool]string{true: "AAAA", false: "BBBB"}[!strings.HasSuffix(tok, "AAAA")]

			hc := &http.Client{Timeout: 3 * time.Second}
			srv := c.startServe(hc, "--auth-profile", "service", "--no-scheduler", "--auth-debug", "all")
			base := srv.base
			if s, b := httpDo(t, hc, "GET", base+"/auth", tok); s != 200 {
				t.Fatalf("forward-auth before the lock: %d %s", s, b)
			}
			written := func() int {
				var es []json.RawMessage
				if err := json.Unmarshal([]byte(c.ok("debug", "list", "-n", "1000", "-o", "json")), &es); err != nil {
					t.Fatal(err)
				}
				return len(es)
			}
			testkit.Eventually(t, 5*time.Second, "the first call in the debugger", func() bool { return written() == 1 })

			check, release := tc.lock(t, c)
			released := false
			defer func() {
				if !released {
					release()
				}
			}()
			const calls = 40
			start := time.Now()
			for i := range calls {
				token, want := tok, 200
				switch i % 4 {
				case 2:
					// A token not seen before, of the user serve knows,
					// signed with a key it has.
					now := time.Now()
					fresh, err := op.SignJWT(map[string]any{"iss": op.Issuer, "sub": oidctest.ServiceClientID, "aud": oidctest.ServiceClientID,
						"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": fmt.Sprint("fresh-", i)})
					if err != nil {
						t.Fatal(err)
					}
					token = fresh
				case 3:
					token, want = bad, 401
				}
				if s, b := httpDo(t, hc, "GET", base+"/auth", token); s != want {
					t.Fatalf("call %d with the database locked: %d %s, want %d", i, s, b, want)
				}
			}
			took := time.Since(start)
			// The lock still held after the calls: they did not wait for it.
			check(t)
			release()
			released = true
			t.Logf("%d calls with the database locked in %v", calls, took)
			testkit.Eventually(t, 10*time.Second, "the calls made under the lock in the debugger", func() bool {
				return written() == 1+calls
			})
			srv.end(t)
		})
	}
}
