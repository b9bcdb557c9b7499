package dbcopy_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/config"
	"oidcctl/core/crypt"
	"oidcctl/db"
	"oidcctl/db/dbcopy"
	"oidcctl/db/pgtest"
	"oidcctl/db/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func newKey(t *testing.T) *crypt.Key {
	t.Helper()
	key, err := crypt.LoadKey(filepath.Join(t.TempDir(), crypt.KeyFileName), true)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fill puts one of everything into a store, secrets included.
func fill(t *testing.T, s core.Store) {
	t.Helper()
	ctx := t.Context()
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = "https://op.example/.well-known/openid-configuration", "cid", core.NewSecret("client-secret-1")
	must(t, s.CreateProfile(ctx, p))
	a := core.NewAccount("svc", "op")
	must(t, s.CreateAccount(ctx, a))
	b := core.NewAccount("batch", "op")
	b.GrantType, b.Username, b.Password = core.GrantPassword, "bob", core.NewSecret("account-password-1")
	must(t, s.CreateAccount(ctx, b))
	exp := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	must(t, s.SaveTokens(ctx, "svc", "", core.TokenSet{
		AccessToken: core.NewSecret("access-1"), TokenType: "Bearer", RefreshToken: core.NewSecret("refresh-1"),
		IDToken: core.NewSecret("id-1"), Expiry: exp, Scope: "openid offline_access", ObtainedAt: exp.Add(-time.Hour),
	}))
	must(t, s.CreateUser(ctx, core.User{Login: "alice", Email: "alice@example.org", Roles: []string{"admin", "ops"}}))
	w := core.NewWebservice("tickets", core.Requester)
	w.Account, w.Endpoint, w.Path, w.Method = "svc", "https://api.example/", "/t", "GET"
	must(t, s.CreateWebservice(ctx, w))
	c, _, err := core.NewInvokeCredential("tickets", "cron")
	must(t, err)
	must(t, s.CreateCredential(ctx, c))
	must(t, s.SetSetting(ctx, "refresh.schedule", "*/5 * * * *"))
	must(t, s.AddDebugEntries(ctx, []core.DebugEntry{{
		Time: exp, RequestID: "r1", Webservice: "tickets", Direction: "out", Method: "GET", Path: "/t",
		Status: 502, Duration: 1500 * time.Millisecond, Verdict: "error", Reason: "upstream down",
		RequestHeader: http.Header{"Accept": {"application/json"}}, RequestBody: []byte("req"),
		ResponseHeader: http.Header{"Content-Type": {"text/plain"}}, ResponseBody: []byte("resp"), BodiesTruncated: true,
	}}))
}

// state is everything a store shows of what fill put in, secrets opened.
type state struct {
	Export      config.Document
	Tokens      []core.TokenState
	Users       []core.User
	Webservices []core.Webservice
	Credentials []core.InvokeCredential
	Schedule    string
	Debug       []core.DebugEntry
}

func read(t *testing.T, s core.Store) state {
	t.Helper()
	ctx := t.Context()
	var st state
	var err error
	st.Export, err = config.Export(ctx, s, true)
	must(t, err)
	st.Tokens, err = s.TokenStates(ctx)
	must(t, err)
	st.Users, err = s.Users(ctx)
	must(t, err)
	st.Webservices, err = s.Webservices(ctx)
	must(t, err)
	st.Credentials, err = s.Credentials(ctx, "")
	must(t, err)
	st.Schedule, _, err = s.Setting(ctx, "refresh.schedule")
	must(t, err)
	st.Debug, err = s.DebugEntries(ctx, core.DebugFilter{})
	must(t, err)
	return st
}

// SQLite → PostgreSQL → SQLite gives back the same configuration (the
// export with its secrets, which therefore still open under the key), the
// same token states and the same users, webservices, credentials,
// settings and (asked for) debugger entries; and the copies take new rows
// afterwards.
func TestRoundTripSQLitePostgresSQLite(t *testing.T) {
	ctx := t.Context()
	key := newKey(t)
	dir := t.TempDir()
	first, back := filepath.Join(dir, "first #1?.db"), filepath.Join(dir, "back.db")
	pg := pgtest.URL(t)

	src, err := db.Open(ctx, first, key)
	must(t, err)
	fill(t, src)
	want := read(t, src)
	must(t, src.Close())
	if want.Tokens[len(want.Tokens)-1].Tokens.RefreshToken.Reveal() != "refresh-1" || len(want.Credentials) != 1 {
		t.Fatalf("fill did not store what it should: %+v", want)
	}

	// The destinations exist with their schema, as `db copy` opens them.
	mid, err := postgres.Open(ctx, pg, key)
	must(t, err)
	defer mid.Close()
	var progressed []string
	res, err := dbcopy.Copy(ctx, first, pg, key.ID(), dbcopy.Options{
		Debug: true,
		Progress: func(table string, done, total int) {
			if done == total {
				progressed = append(progressed, table)
			}
		},
	})
	must(t, err)
	if len(res.Tables) == 0 || len(progressed) != len(res.Tables) {
		t.Fatalf("result %+v, progress ended for %v", res, progressed)
	}
	if got := read(t, mid); !reflect.DeepEqual(got, want) {
		t.Fatalf("in PostgreSQL:\n got %+v\nwant %+v", got, want)
	}

	dst, err := db.Open(ctx, back, key)
	must(t, err)
	defer dst.Close()
	_, err = dbcopy.Copy(ctx, pg, back, key.ID(), dbcopy.Options{Debug: true})
	must(t, err)
	if got := read(t, dst); !reflect.DeepEqual(got, want) {
		t.Fatalf("back in SQLite:\n got %+v\nwant %+v", got, want)
	}

	// New rows get new ids on both copies.
	for _, s := range []core.Store{mid, dst} {
		p := core.NewProfile("op2")
		p.DiscoveryURL, p.ClientID = "https://op2.example/.well-known/openid-configuration", "cid2"
		must(t, s.CreateProfile(ctx, p))
		must(t, s.CreateAccount(ctx, core.NewAccount("svc2", "op2")))
		must(t, s.CreateUser(ctx, core.User{Login: "bob"}))
	}
}

// A destination that holds data is refused, and left as it was, unless
// Replace; then it holds the source's data only.
func TestRefusesNonEmptyDestinationUnlessReplace(t *testing.T) {
	ctx := t.Context()
	key := newKey(t)
	dir := t.TempDir()
	from, to := filepath.Join(dir, "from.db"), pgtest.URL(t)
	src, err := db.Open(ctx, from, key)
	must(t, err)
	fill(t, src)
	want := read(t, src)
	must(t, src.Close())

	dst, err := postgres.Open(ctx, to, key)
	must(t, err)
	defer dst.Close()
	p := core.NewProfile("other")
	p.DiscoveryURL, p.ClientID = "https://other.example/.well-known/openid-configuration", "x"
	must(t, dst.CreateProfile(ctx, p))
	before := read(t, dst)

	_, err = dbcopy.Copy(ctx, from, to, key.ID(), dbcopy.Options{})
	if !errors.Is(err, dbcopy.ErrNotEmpty) {
		t.Fatalf("copy into a non-empty database: %v, want ErrNotEmpty", err)
	}
	if got := read(t, dst); !reflect.DeepEqual(got, before) {
		t.Fatalf("the refused copy changed the destination: %+v", got)
	}
	_, err = dbcopy.Copy(ctx, from, to, key.ID(), dbcopy.Options{Replace: true})
	must(t, err)
	want.Debug = nil // not asked for
	if got := read(t, dst); !reflect.DeepEqual(got, want) {
		t.Fatalf("after replace:\n got %+v\nwant %+v", got, want)
	}
}

// Databases sealed with different keys are refused: the secrets would
// not open on the other side.
func TestRefusesAnotherKey(t *testing.T) {
	ctx := t.Context()
	keyA, keyB := newKey(t), newKey(t)
	dir := t.TempDir()
	from, to := filepath.Join(dir, "from.db"), pgtest.URL(t)
	src, err := db.Open(ctx, from, keyA)
	must(t, err)
	fill(t, src)
	must(t, src.Close())
	dst, err := postgres.Open(ctx, to, keyB)
	must(t, err)
	defer dst.Close()
	_, err = dbcopy.Copy(ctx, from, to, keyA.ID(), dbcopy.Options{})
	if !errors.Is(err, dbcopy.ErrKeyMismatch) {
		t.Fatalf("copy between keys: %v, want ErrKeyMismatch", err)
	}
	var n int
	profiles, err := dst.Profiles(ctx)
	must(t, err)
	if n = len(profiles); n != 0 {
		t.Fatalf("destination got %d profiles", n)
	}
}
