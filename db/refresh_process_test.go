package db_test

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
	"oidcctl/core/oidctest"
	"oidcctl/core/tokens"
	"oidcctl/db"
)

// The refresh helper is this test binary run again with
// -test.run=^TestRefreshHelperProcess$ and these variables set.
const (
	envRefreshDir   = "OIDCCTL_REFRESH_DIR"
	envRefreshCount = "OIDCCTL_REFRESH_COUNT"
	envRefreshOwner = "OIDCCTL_REFRESH_OWNER"
)

// TestTwoProcessesNeverReuseARefreshToken runs two real processes that
// refresh one account in a loop, on one SQLite file, against a provider
// whose refresh tokens rotate and die on reuse: every refresh token must
// be sent exactly once. (The token manager's lease is only as good as the
// store's transactions across processes, so this test lives with the
// store.)
func TestTwoProcessesNeverReuseARefreshToken(t *testing.T) {
	ctx := context.Background()
	op := oidctest.Start(t)
	dir := t.TempDir()
	key, err := crypt.LoadKey(filepath.Join(dir, crypt.KeyFileName), true)
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(ctx, filepath.Join(dir, db.FileName), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg := core.Registry{Store: store}
	p := core.NewProfile("web")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = op.DiscoveryURL, oidctest.WebClientID, core.NewSecret(oidctest.WebClientSecret)
	if err := reg.AddProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	a := core.NewAccount("svc", "web")
	a.GrantType, a.Scopes = core.GrantPassword, []string{"openid", "offline_access"}
	a.Username, a.Password = op.Username(), core.NewSecret(oidctest.Password)
	if err := reg.AddAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	m := refreshManager(store, "test-owner")
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	op.ResetTokenRequests()

	const perProcess = 25
	var wg sync.WaitGroup
	outputs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				envRefreshDir+"="+dir,
				envRefreshCount+"="+strconv.Itoa(perProcess),
				fmt.Sprintf("%s=process-%d", envRefreshOwner, i))
			outputs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("process %d: %v\n%s", i, errs[i], outputs[i])
		}
	}
	var refreshes, passwords int
	seen := map[string]int{}
	for i, r := range op.TokenRequests() {
		switch r.Get("grant_type") {
		case "password":
			passwords++
		case "refresh_token":
			refreshes++
			rt := r.Get("refresh_token")
			if j, dup := seen[rt]; dup {
				t.Fatalf("refresh token reused: requests %d and %d sent the same one", j, i)
			}
			seen[rt] = i
		}
	}
	if refreshes != 2*perProcess {
		t.Fatalf("%d refreshes, want %d", refreshes, 2*perProcess)
	}
	if passwords != 0 {
		t.Fatalf("%d password grants: a refresh failed and was papered over", passwords)
	}
	st, _ := store.TokenState(ctx, "svc")
	if st.LastError != "" || st.LeaseOwner != "" {
		t.Fatalf("final state: error %q, lease %q", st.LastError, st.LeaseOwner)
	}
}

func refreshManager(store *db.DB, owner string) *tokens.Manager {
	return tokens.New(tokens.Config{
		Store:     store,
		Discovery: &discovery.Client{Cache: store},
		Grants:    &grant.Client{},
		Owner:     owner,
		LeaseTTL:  30 * time.Second,
	})
}

// TestRefreshHelperProcess is not a test: it is the body of the processes
// of TestTwoProcessesNeverReuseARefreshToken. Run normally it returns at
// once.
func TestRefreshHelperProcess(t *testing.T) {
	dir := os.Getenv(envRefreshDir)
	if dir == "" {
		return
	}
	if err := refreshHelper(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func refreshHelper(dir string) error {
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
	m := refreshManager(store, os.Getenv(envRefreshOwner))
	count, _ := strconv.Atoi(os.Getenv(envRefreshCount))
	for i := range count {
		if _, err := m.Refresh(ctx, "svc"); err != nil {
			return fmt.Errorf("%s: refresh %d: %w", m.Owner(), i, err)
		}
	}
	return nil
}
