package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// make demo, end to end with the oidcctl binary: the demo creates its
// database, the README's "Try it" tour runs against it as written (in
// bash, with the export and alias lines the demo prints), and ctrl+c
// stops it, removes the demo database and leaves the user's own database
// as it was.
func TestDemoRunsTheREADMETour(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin", "oidcctl")
	if out, err := exec.Command("go", "build", "-o", bin, "oidcctl/cmd/oidcctl").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The user's own database, where oidcctl keeps it without flags.
	home := filepath.Join(tmp, "home")
	userEnv := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "OIDCCTL_CONFIG=" + filepath.Join(tmp, "no-host.conf")}
	oidcctl(t, bin, userEnv, "profile", "add", "mine", "--discovery-url", "https://idp.example/.well-known/openid-configuration", "--client-id", "mine")
	own := filepath.Join(home, ".local", "share", "oidcctl", "oidcctl.db")
	before := digest(t, own)

	// The demo, with the user's environment, and TMPDIR inside the test's.
	demoTmp := filepath.Join(tmp, "tmp")
	must(t, os.MkdirAll(demoTmp, 0o700))
	t.Setenv("TMPDIR", demoTmp)
	t.Setenv("HOME", home)
	ctx, ctrlC := context.WithCancel(context.Background())
	defer ctrlC()
	out := &syncBuffer{until: "ctrl+c here stops", seen: make(chan struct{})}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--oidcctl", bin}, out, out) }()
	select {
	case <-out.seen:
	case code := <-done:
		t.Fatalf("the demo ended (exit %d):\n%s", code, out)
	case <-time.After(30 * time.Second):
		t.Fatalf("the demo did not start:\n%s", out)
	}
	printed := out.String()
	export := regexp.MustCompile(`(?m)^  (export OIDCCTL_DB=\S+ OIDCCTL_KEY_FILE=\S+)$`).FindStringSubmatch(printed)
	alias := regexp.MustCompile(`(?m)^  (alias oidcctl=\S+)$`).FindStringSubmatch(printed)
	if export == nil || alias == nil {
		t.Fatalf("no export or alias line in:\n%s", printed)
	}
	demoDB := strings.TrimPrefix(strings.Fields(export[1])[1], "OIDCCTL_DB=")
	if !strings.HasPrefix(demoDB, demoTmp+string(os.PathSeparator)) {
		t.Errorf("the demo database %s is not in a new temporary directory", demoDB)
	}

	tour := readmeTour(t)
	script := "set -e\nshopt -s expand_aliases\n" + export[1] + "\n" + alias[1] + "\n" + tour
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = userEnv
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's tour failed: %v\n%s\n--- the tour:\n%s", err, got, tour)
	}
	for _, want := range []string{`Profile "demo" works with this provider.`, "billing", "support-bot", `Verdict: ACCEPTED: Accepted as "sid1"`, "tickets"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("the tour's output lacks %q:\n%s", want, got)
		}
	}

	ctrlC()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after ctrl+c", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not stop on ctrl+c")
	}
	if _, err := os.Stat(filepath.Dir(demoDB)); !os.IsNotExist(err) {
		t.Errorf("the demo directory is still there: %v", err)
	}
	if digest(t, own) != before {
		t.Error("the user's own database changed")
	}
	if list := oidcctl(t, bin, userEnv, "profile", "list"); strings.Contains(list, "demo") || !strings.Contains(list, "mine") {
		t.Errorf("the user's own profiles:\n%s", list)
	}
}

// readmeTour returns the shell block that follows the demo tour marker in
// the README.
func readmeTour(t *testing.T) string {
	b, err := os.ReadFile("../../../../README.md")
	must(t, err)
	_, rest, ok := strings.Cut(string(b), "<!-- demo tour")
	if !ok {
		t.Fatal("the README has no demo tour marker")
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(block, "oidcctl ") {
		t.Fatal("no shell block after the README's demo tour marker")
	}
	return block
}

func oidcctl(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("oidcctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func digest(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return sha256.Sum256(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is the demo's output, read while it writes; seen is closed
// once it holds until.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	until string
	seen  chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.until != "" && strings.Contains(b.buf.String(), b.until) {
		b.until = ""
		close(b.seen)
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
