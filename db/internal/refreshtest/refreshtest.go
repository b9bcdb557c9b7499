// Package refreshtest is the cross-process refresh test that both stores
// under db (SQLite and PostgreSQL) run: several real processes refresh one
// account in a loop on one database, against a provider whose refresh
// tokens rotate and die on reuse, and every refresh token must be sent
// exactly once. The token manager's lease and the rotated token stored in
// the transaction that ends the refresh are only as good as the store's
// transactions across processes, so the test lives with the stores.
//
// It is for tests only: a store's test calls Run, and its test binary's
// helper test (named by Config.HelperTest) calls Helper.
package refreshtest

import (
	"context"
	"fmt"
	"io"
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
)

// The helper processes are the test binary run again with
// -test.run=^HelperTest$ and these variables set.
const (
	envWhere = "OIDCCTL_REFRESH_WHERE"
	envKey   = "OIDCCTL_REFRESH_KEY"
	envCount = "OIDCCTL_REFRESH_COUNT"
	envOwner = "OIDCCTL_REFRESH_OWNER"
)

// Account is the name of the account the processes refresh.
const Account = "svc"

// Config says which database the processes share and how many there are.
type Config struct {
	// Store is the database, opened by the test.
	Store core.Store
	// Where names the database for the helper processes' open (a file
	// path, a connection string), and KeyFile the file of its key.
	Where, KeyFile string
	// HelperTest is the name of the test that calls Helper.
	HelperTest string
	// Processes is how many processes refresh, each PerProcess times.
	Processes, PerProcess int
}

// Run sets up a profile and a password account on c.Store, gets its first
// tokens, runs c.Processes helper processes that each refresh the account
// c.PerProcess times, and fails t when a refresh token was sent twice, a
// refresh failed, or the account is left with an error or a lease.
func Run(t *testing.T, c Config) {
	t.Helper()
	ctx := context.Background()
	op := oidctest.Start(t)
	AddAccounts(t, c.Store, op, Account)
	if _, err := Manager(c.Store, "test-owner").Token(ctx, Account); err != nil {
		t.Fatal(err)
	}
	op.ResetTokenRequests()

	var wg sync.WaitGroup
	outputs := make([][]byte, c.Processes)
	errs := make([]error, c.Processes)
	for i := range c.Processes {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^"+c.HelperTest+"$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				envWhere+"="+c.Where,
				envKey+"="+c.KeyFile,
				envCount+"="+strconv.Itoa(c.PerProcess),
				fmt.Sprintf("%s=process-%d", envOwner, i))
			outputs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	for i := range c.Processes {
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
	if want := c.Processes * c.PerProcess; refreshes != want {
		t.Fatalf("%d refreshes, want %d", refreshes, want)
	}
	if passwords != 0 {
		t.Fatalf("%d password grants: a refresh failed and was papered over", passwords)
	}
	st, err := c.Store.TokenState(ctx, Account)
	if err != nil || st.LastError != "" || st.LeaseOwner != "" {
		t.Fatalf("final state: error %q, lease %q, %v", st.LastError, st.LeaseOwner, err)
	}
}

// AddAccounts adds to store the profile "web" of op's web client and, on
// it, password accounts of op's user with the given names, whose scopes
// ask for a refresh token.
func AddAccounts(tb testing.TB, store core.Store, op *oidctest.Provider, names ...string) {
	tb.Helper()
	ctx := context.Background()
	reg := core.Registry{Store: store}
	p := core.NewProfile("web")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = op.DiscoveryURL, oidctest.WebClientID, core.NewSecret(oidctest.WebClientSecret)
	if err := reg.AddProfile(ctx, p); err != nil {
		tb.Fatal(err)
	}
	for _, name := range names {
		a := core.NewAccount(name, "web")
		a.GrantType, a.Scopes = core.GrantPassword, []string{"openid", "offline_access"}
		a.Username, a.Password = op.Username(), core.NewSecret(oidctest.Password)
		if err := reg.AddAccount(ctx, a); err != nil {
			tb.Fatal(err)
		}
	}
}

// Manager is the token manager of one process on store.
func Manager(store core.Store, owner string) *tokens.Manager {
	return tokens.New(tokens.Config{
		Store:     store,
		Discovery: &discovery.Client{Cache: store},
		Grants:    &grant.Client{},
		Owner:     owner,
		LeaseTTL:  30 * time.Second,
	})
}

// Opener opens the database where with key, as the store's package does.
type Opener func(ctx context.Context, where string, key *crypt.Key) (Store, error)

// Store is a core.Store that can be closed.
type Store interface {
	core.Store
	io.Closer
}

// Helper is the body of a helper process: when the variables Run sets are
// there, it opens the database with open, refreshes the account as many
// times as it is told, and exits the process (1 after an error, which it
// prints). Run normally, without them, it returns at once.
func Helper(open Opener) {
	where := os.Getenv(envWhere)
	if where == "" {
		return
	}
	if err := helper(open, where); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helper(open Opener, where string) error {
	key, err := crypt.LoadKey(os.Getenv(envKey), false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := open(ctx, where, key)
	if err != nil {
		return err
	}
	defer store.Close()
	m := Manager(store, os.Getenv(envOwner))
	count, _ := strconv.Atoi(os.Getenv(envCount))
	for i := range count {
		if _, err := m.Refresh(ctx, Account); err != nil {
			return fmt.Errorf("%s: refresh %d: %w", m.Owner(), i, err)
		}
	}
	return nil
}
