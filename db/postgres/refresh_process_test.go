package postgres_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	"oidcctl/db/postgres"
)

// The refresh helper is this test binary run again with
// -test.run=^TestRefreshHelperProcess$ and these variables set.
const (
	envRefreshConn  = "OIDCCTL_REFRESH_CONN"
	envRefreshKey   = "OIDCCTL_REFRESH_KEY"
	envRefreshCount = "OIDCCTL_REFRESH_COUNT"
	envRefreshOwner = "OIDCCTL_REFRESH_OWNER"
)

// Three real processes, each with its own connection pool, refresh one
// account in a loop on one PostgreSQL database, against a provider whose
// refresh tokens rotate and die on reuse: every refresh token is sent
// exactly once, and no refresh fails. The lease and the rotated token
// stored in the transaction that ends the refresh hold across processes
// as they do on one SQLite file.
func TestThreeProcessesNeverReuseARefreshToken(t *testing.T) {
	ctx := context.Background()
	op := oidctest.Start(t)
	store, conn := open(t)
	keyFile := store.Key().Source // the file newKey made
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
	if _, err := refreshManager(store, "test-owner").Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	op.ResetTokenRequests()

	const processes, perProcess = 3, 15
	var wg sync.WaitGroup
	outputs := make([][]byte, processes)
	errs := make([]error, processes)
	for i := range processes {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				envRefreshConn+"="+conn,
				envRefreshKey+"="+keyFile,
				envRefreshCount+"="+strconv.Itoa(perProcess),
				fmt.Sprintf("%s=process-%d", envRefreshOwner, i))
			outputs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i := range processes {
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
	if refreshes != processes*perProcess {
		t.Fatalf("%d refreshes, want %d", refreshes, processes*perProcess)
	}
	if passwords != 0 {
		t.Fatalf("%d password grants: a refresh failed and was papered over", passwords)
	}
	st, err := store.TokenState(ctx, "svc")
	if err != nil || st.LastError != "" || st.LeaseOwner != "" {
		t.Fatalf("final state: error %q, lease %q, %v", st.LastError, st.LeaseOwner, err)
	}
}

func refreshManager(store *postgres.DB, owner string) *tokens.Manager {
	return tokens.New(tokens.Config{
		Store:     store,
		Discovery: &discovery.Client{Cache: store},
		Grants:    &grant.Client{},
		Owner:     owner,
		LeaseTTL:  30 * time.Second,
	})
}

// TestRefreshHelperProcess is not a test: it is the body of the processes
// of TestThreeProcessesNeverReuseARefreshToken. Run normally it returns at
// once.
func TestRefreshHelperProcess(t *testing.T) {
	conn := os.Getenv(envRefreshConn)
	if conn == "" {
		return
	}
	if err := refreshHelper(conn); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func refreshHelper(conn string) error {
	key, err := crypt.LoadKey(os.Getenv(envRefreshKey), false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := postgres.Open(ctx, conn, key)
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
