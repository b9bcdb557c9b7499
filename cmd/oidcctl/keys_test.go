//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"oidcctl/core/crypt"
)

// TestMissingKeyFileBesideSealedDatabase: when the key file beside a
// database with sealed secrets is gone, oidcctl names the missing file and
// creates no new key (which could not open the secrets anyway).
func TestMissingKeyFileBesideSealedDatabase(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-secret-file", c.file("s", "secret"))
	keyPath := filepath.Join(c.dir, "data", crypt.KeyFileName)
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	r := c.run("", "profile", "list")
	if r.code != exitFailure || !strings.Contains(r.stderr, "secret key "+keyPath+" does not exist") || !strings.Contains(r.stderr, "backup") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a new key file was created: %v", err)
	}
}

// TestKeyAndDatabaseModes: a key file others may read gives a warning; a
// database file others may read is narrowed to 0600.
func TestKeyAndDatabaseModes(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	keyPath := filepath.Join(c.dir, "data", crypt.KeyFileName)
	dbPath := c.env["OIDCCTL_DB"]
	for _, p := range []string{keyPath, dbPath} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := c.run("", "profile", "list")
	if r.code != exitOK {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.stderr, "secret key "+keyPath+" may be read by others") || !strings.Contains(r.stderr, "chmod 600") {
		t.Errorf("no warning about the key file's mode: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, "narrowed to its owner") {
		t.Errorf("no warning about the database file's mode: %q", r.stderr)
	}
	fi, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %04o after open, want 0600", fi.Mode().Perm())
	}
}

// The helper process is this test binary run again: TestMainHelper calls
// main with the arguments in envMainArgs (JSON), as the oidcctl binary
// would.
const envMainArgs = "OIDCCTL_CMD_TEST_MAIN_ARGS"

// TestMainHelper is not a test: it is the body of the processes that
// TestReadOnlyDatabase and TestSIGTERMWhileReading start. Run normally it
// returns at once.
func TestMainHelper(t *testing.T) {
	raw := os.Getenv(envMainArgs)
	if raw == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		panic(err)
	}
	os.Args = append([]string{"oidcctl"}, args...)
	main()
}

// helperBinary is a copy of this test binary that any user may run (the
// go tool builds it in a directory only its owner may enter), made once.
var helperBinary = struct {
	once sync.Once
	path string
	err  error
}{}

// helperCommand runs main in helperBinary with env and args.
func helperCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	helperBinary.once.Do(func() {
		helperBinary.path, helperBinary.err = copyTestBinary()
	})
	if helperBinary.err != nil {
		t.Fatal(helperBinary.err)
	}
	js, _ := json.Marshal(args)
	cmd := exec.Command(helperBinary.path, "-test.run=^TestMainHelper$")
	cmd.Env = append(env, envMainArgs+"="+string(js))
	return cmd
}

func copyTestBinary() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "oidcctl-helper-")
	if err != nil {
		return "", err
	}
	benchCleanup = append(benchCleanup, dir) // removed by TestMain
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	src, err := os.Open(self)
	if err != nil {
		return "", err
	}
	defer src.Close()
	bin := filepath.Join(dir, "oidcctl.test")
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", err
	}
	return bin, dst.Close()
}

// TestReadOnlyDatabase: a database in a directory and file this user may
// not write (0555, 0444) still serves reading commands (see makeReadOnly).
func TestReadOnlyDatabase(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a", "--client-secret-file", c.file("s", "secret"))
	run := makeReadOnly(t, c)
	code, out, stderr := run("profile", "list", "-o", "json")
	if code != exitOK || !strings.Contains(out, `"name": "kc"`) {
		t.Fatalf("profile list on a read-only database: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "opened read-only") {
		t.Errorf("no word that the database is read-only: %q", stderr)
	}
	code, _, stderr = run("profile", "add", "p2", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	if code != exitFailure || !strings.Contains(stderr, "database is read-only") {
		t.Fatalf("profile add on a read-only database: exit %d, %q", code, stderr)
	}

	// A directory this user may write, a file it may not: still read-only,
	// and no -shm file of this user's is left for the owner to trip on.
	if err := os.Chmod(filepath.Join(c.dir, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = run("profile", "list", "-o", "json")
	if code != exitOK || !strings.Contains(out, `"name": "kc"`) {
		t.Fatalf("profile list on a read-only file: exit %d\n%s%s", code, out, stderr)
	}
	for _, suffix := range []string{"-shm", "-wal"} {
		if _, err := os.Stat(c.env["OIDCCTL_DB"] + suffix); err == nil {
			t.Errorf("the read-only run left %s behind", filepath.Base(c.env["OIDCCTL_DB"]+suffix))
		}
	}
}

// TestSIGTERMWhileReading: the oidcctl process, waiting for the rest of a
// role map on standard input, ends promptly on SIGTERM instead of ignoring
// it (main catches the signal; the read used to go on regardless).
func TestSIGTERMWhileReading(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	cmd := helperCommand(t, []string{"OIDCCTL_DB=" + c.env["OIDCCTL_DB"]}, "profile", "edit", "kc", "--role-map-file", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var errOut strings.Builder
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// More than a pipe holds (64 KiB): when the write returns, the process
	// is reading, and waits for more.
	if _, err := io.WriteString(stdin, "# "+strings.Repeat("x", 256<<10)+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("still running 10s after SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(errOut.String(), "stopped while reading") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
