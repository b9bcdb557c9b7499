package tokens

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/db"
)

// TestTwoProcessesNeverReuseARefreshToken runs two real processes that
// refresh one account in a loop against a provider whose refresh tokens
// rotate and die on reuse: every refresh token must be sent exactly once.
func TestTwoProcessesNeverReuseARefreshToken(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	e.addAccount(t, "svc", "web", core.GrantPassword, "openid", "offline_access")
	if _, err := e.m.Token(context.Background(), "svc"); err != nil {
		t.Fatal(err)
	}
	e.op.ResetTokenRequests()

	const perProcess = 25
	var wg sync.WaitGroup
	outputs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(),
				"OIDCCTL_REFRESH_HELPER=1",
				"OIDCCTL_REFRESH_DIR="+dir,
				"OIDCCTL_REFRESH_COUNT="+strconv.Itoa(perProcess),
				fmt.Sprintf("OIDCCTL_REFRESH_OWNER=process-%d", i))
			outputs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("process %d: %v\n%s", i, errs[i], outputs[i])
		}
	}
	n, sent := e.grants("refresh_token")
	if n != 2*perProcess {
		t.Fatalf("%d refreshes, want %d", n, 2*perProcess)
	}
	seen := map[string]int{}
	for i, rt := range sent {
		if j, dup := seen[rt]; dup {
			t.Fatalf("refresh token reused: requests %d and %d sent the same one", j, i)
		}
		seen[rt] = i
	}
	if p, _ := e.grants("password"); p != 0 {
		t.Fatalf("%d password grants: a refresh failed and was papered over", p)
	}
	st, _ := e.store.TokenState(context.Background(), "svc")
	if st.LastError != "" || st.LeaseOwner != "" {
		t.Fatalf("final state: error %q, lease %q", st.LastError, st.LeaseOwner)
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("OIDCCTL_REFRESH_HELPER") == "1" {
		if err := refreshHelper(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// refreshHelper is one of the processes of
// TestTwoProcessesNeverReuseARefreshToken.
func refreshHelper() error {
	dir := os.Getenv("OIDCCTL_REFRESH_DIR")
	key, err := crypt.LoadKey(filepath.Join(dir, crypt.KeyFileName), false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := db.Open(ctx, filepath.Join(dir, db.FileName), key)
	if err != nil {
		return err
	}
	defer store.Close()
	m := New(Config{
		Store:     store,
		Discovery: &discovery.Client{Cache: store},
		Grants:    &grant.Client{},
		Owner:     os.Getenv("OIDCCTL_REFRESH_OWNER"),
		LeaseTTL:  30 * time.Second,
	})
	count, _ := strconv.Atoi(os.Getenv("OIDCCTL_REFRESH_COUNT"))
	for i := range count {
		if _, err := m.Refresh(ctx, "svc"); err != nil {
			return fmt.Errorf("%s: refresh %d: %w", m.Owner(), i, err)
		}
	}
	return nil
}
