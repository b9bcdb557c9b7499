// Package pgtest gives tests a real, empty PostgreSQL database.
//
// The first test that asks starts a throwaway cluster for the whole test
// binary: initdb in a temporary directory, then postgres on a unix socket
// in that directory only (no TCP port, so parallel test binaries do not
// clash), without fsync. When the tests run as root the server runs as the
// "postgres" user, since PostgreSQL refuses root. Each test gets a
// database of its own, dropped when the test ends. A test package that
// uses pgtest calls Main from its TestMain, which stops the cluster and
// removes its directory when the tests are done; the server also dies with
// the test binary when that is killed.
//
// When OIDCCTL_TEST_POSTGRES holds a connection string (a URL or a
// key=value string) the tests use that server instead, which needs a role
// that may create databases.
//
// The binaries are Debian's (package postgresql), found in
// /usr/lib/postgresql/<version>/bin or on PATH; scripts/test-deps.sh
// installs them.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "OIDCCTL_TEST_POSTGRES"

var (
	once    sync.Once
	srv     *server
	srvErr  error
	counter atomic.Int64
)

// server is the cluster the tests of this binary share: admin is a
// connection string to its maintenance database; cmd and dir are set when
// pgtest started it.
type server struct {
	admin string
	cmd   *exec.Cmd
	done  chan struct{} // closed when cmd has exited
	dir   string
	bin   string              // where initdb and postgres are
	cred  *syscall.Credential // who runs them; nil: this user
}

// Main runs the tests of a package and then stops the cluster pgtest
// started, if it started one: call it from TestMain as
// os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if srv != nil {
		srv.stop()
	}
	return code
}

// URL returns the connection string of a new, empty database on the
// shared server, dropped (with its connections) when t ends. It fails t
// when no server can be started.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		t.Fatalf("pgtest: %v", srvErr)
	}
	ctx := context.Background()
	name := fmt.Sprintf("oidcctl_test_%d_%d", os.Getpid(), counter.Add(1))
	if err := srv.exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(srv.admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// exec runs one statement on the maintenance database.
func (s *server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns the connection string conn with its database
// replaced by name.
func withDatabase(conn, name string) (string, error) {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err != nil {
			return "", fmt.Errorf("%s: not a URL: %w", EnvURL, err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// key=value: a later dbname wins.
	return conn + " dbname=" + name, nil
}

// start uses the server named by EnvURL or starts one.
func start() (*server, error) {
	if conn := os.Getenv(EnvURL); conn != "" {
		s := &server{admin: conn}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.exec(ctx, `SELECT 1`); err != nil {
			return nil, fmt.Errorf("the server in %s: %w", EnvURL, err)
		}
		return s, nil
	}
	return startLocal()
}

// startLocal makes a cluster in a new temporary directory and starts it.
func startLocal() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "oidcctl-pg-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, bin: bin}
	ok := false
	defer func() {
		if !ok {
			s.stop()
		}
	}()
	if s.cred, err = runAs(dir); err != nil {
		return nil, err
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := s.launch(); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// launch starts postgres on the cluster in s.dir and waits until it
// answers.
func (s *server) launch() error {
	dir := s.dir
	logf, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	// No TCP (listen_addresses empty): the socket in dir only.
	s.cmd = exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(dir, "data"), "-k", dir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Pdeathsig: a test binary killed (a timeout, ^C) takes the server
	// with it. Go sets it after the change of user.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.admin = "postgres://postgres@/postgres?host=" + url.QueryEscape(dir)
	var werr error
	done := make(chan struct{})
	s.done = done
	cmd := s.cmd
	go func() { werr = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.exec(ctx, `SELECT 1`)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return fmt.Errorf("postgres exited: %v\n%s", werr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after 30 s: %w", err)
		}
	}
}

// stop ends the server pgtest started and removes its directory.
func (s *server) stop() {
	// SIGQUIT: immediate shutdown, there is nothing to keep.
	s.halt(syscall.SIGQUIT)
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// halt ends the postgres that s started, if it runs, with sig (killing it
// after 10 s), and waits for it.
func (s *server) halt(sig syscall.Signal) {
	if s.done == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.done = nil
}

// runAs returns the credential to run PostgreSQL with: nil (this user)
// unless this is root, which PostgreSQL refuses; then the "postgres" user,
// who is given dir.
func runAs(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("tests run as root and PostgreSQL refuses root, but there is no postgres user to run it as (install the postgresql package): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// binDir finds the directory of initdb and postgres: Debian's newest
// /usr/lib/postgresql/<version>/bin, else the directory of initdb on PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, postgres): install the postgresql package (scripts/test-deps.sh), or set %s to a server's URL", EnvURL)
}
