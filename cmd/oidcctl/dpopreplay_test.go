package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"oidcctl/core/dpop"
	"oidcctl/core/oidctest"
	"oidcctl/db/pgtest"
)

// dpopReplaySetup is a database (PostgreSQL, or a SQLite file) with
// profile "service" requiring DPoP, a DPoP-bound token of its client and two serve
// instances on it (as on two hosts behind one load balancer).
type dpopReplaySetup struct {
	t   *testing.T
	c   *cli
	hc  *http.Client
	key *dpop.Key
	// nonce is what proof puts in its proofs; answerNonce the DPoP-Nonce
	// of the last answer send had.
	nonce, answerNonce string
	tok                string
	a, b               *inProcessServe
}

const dpopReplayURL = "https://app.example.org/api/tickets/7"

// profileArgs are more of `profile edit service` (--dpop-nonce).
func newDPoPReplaySetup(t *testing.T, onPostgres bool, profileArgs ...string) *dpopReplaySetup {
	op := oidctest.Start(t)
	var c *cli
	if onPostgres {
		c, _ = pgCLI(t, pgtest.URL(t), op)
	} else {
		c = newCLI(t)
		addProvider(c, op)
	}
	c.ok("user", "add", oidctest.ServiceClientID, "--email", "svc@example.test", "--role", "api")
	c.ok(append([]string{"profile", "edit", "service", "--dpop", "require"}, profileArgs...)...)
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := op.SignJWT(map[string]any{
		"iss": op.Issuer, "sub": oidctest.ServiceClientID, "aud": []string{oidctest.ServiceClientID},
		"client_id": oidctest.ServiceClientID, "scope": "openid",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"cnf": map[string]any{"jkt": k.Thumbprint()},
	})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	s := &dpopReplaySetup{t: t, c: c, hc: hc, key: k, tok: tok}
	s.a = c.startServe(hc, "--auth-profile", "service", "--no-scheduler")
	s.b = c.startServe(hc, "--auth-profile", "service", "--no-scheduler")
	return s
}

// proof is a fresh proof for the token and dpopReplayURL.
func (s *dpopReplaySetup) proof() string {
	s.t.Helper()
	p, err := s.key.Proof("GET", dpopReplayURL, dpop.ProofOptions{AccessToken: s.tok, Nonce: s.nonce, Now: time.Now()})
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// send sends a forward-auth call with proof to an instance and returns
// the status and the WWW-Authenticate header.
func (s *dpopReplaySetup) send(to *inProcessServe, proof string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest("GET", to.base+"/auth", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for name, v := range map[string]string{
		"Authorization": "DPoP " + s.tok, "DPoP": proof, "X-Forwarded-Method": "GET",
		"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.org", "X-Forwarded-Uri": "/api/tickets/7",
	} {
		req.Header.Set(name, v)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	s.answerNonce = resp.Header.Get("DPoP-Nonce")
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// metric is the value of one series on an instance's /metrics.
func (s *dpopReplaySetup) metric(of *inProcessServe, series string) float64 {
	s.t.Helper()
	resp, err := s.hc.Get(of.base + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		s.t.Fatalf("no series %s in /metrics", series)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

// accept checks that to answers proof with 200; what names the call.
func (s *dpopReplaySetup) accept(to *inProcessServe, proof, what string) {
	s.t.Helper()
	if status, ch := s.send(to, proof); status != http.StatusOK {
		s.t.Fatalf("%s: %d %q, want 200", what, status, ch)
	}
}

// refuseReplay checks that to answers proof with 401 invalid_dpop_proof
// and has counted replays refusals as replays in all.
func (s *dpopReplaySetup) refuseReplay(to *inProcessServe, proof, what string, replays float64) {
	s.t.Helper()
	status, ch := s.send(to, proof)
	if status != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_dpop_proof"`) {
		s.t.Fatalf("%s: %d %q, want 401 invalid_dpop_proof", what, status, ch)
	}
	if n := s.metric(to, replayRefusals); n != replays {
		s.t.Fatalf("%s: %v replays counted, want %v", what, n, replays)
	}
}

// Two serve instances on one database, as behind one load balancer,
// accept each other's DPoP nonces: the nonces' key is derived from the
// database's sealing key, which every instance holds. Each had a random
// key of its own before, and a client that reached the other instance was
// asked for a new nonce every time.
func TestServeInstancesAcceptEachOthersDPoPNonces(t *testing.T) {
	s := newDPoPReplaySetup(t, false, "--dpop-nonce")
	status, ch := s.send(s.a, s.proof())
	if status != http.StatusUnauthorized || s.answerNonce == "" {
		t.Fatalf("instance A without a nonce: %d %q, DPoP-Nonce %q; want 401 and a nonce", status, ch, s.answerNonce)
	}
	s.nonce = s.answerNonce
	s.accept(s.b, s.proof(), "instance B with the nonce instance A issued")
	s.accept(s.a, s.proof(), "instance A with its own nonce")
}

const replayRefusals = `oidcctl_token_refusals_total{reason="dpop_jti_replay"}`

// TestServeInstancesRefuseAProofUsedAtAnother: on PostgreSQL, a DPoP
// proof accepted by instance A and replayed to instance B within its
// window is refused by B as a replay (401 invalid_dpop_proof, reason
// dpop_jti_replay), while a fresh proof of the same key is accepted by
// B; replayed to A itself it is refused as before.
func TestServeInstancesRefuseAProofUsedAtAnother(t *testing.T) {
	s := newDPoPReplaySetup(t, true)
	p := s.proof()
	s.accept(s.a, p, "instance A")
	s.refuseReplay(s.b, p, "the proof replayed to instance B", 1)
	s.refuseReplay(s.a, p, "the proof replayed to instance A", 1)
	s.accept(s.b, s.proof(), "a fresh proof at instance B")
	if n := s.metric(s.b, "oidcctl_dpop_replay_store_errors_total"); n != 0 {
		t.Fatalf("%v database errors counted, want 0", n)
	}
	s.a.end(t)
	s.b.end(t)
}

// TestServeDPoPReplayDatabaseFailure: when the database cannot record a
// proof (its table is gone, as in a failure of the database), DPoP calls
// are still answered, judged by the instance's memory: the proof is
// accepted once, refused when replayed to the same instance, and the
// failures are counted and logged once (rate-limited), not per call.
func TestServeDPoPReplayDatabaseFailure(t *testing.T) {
	s := newDPoPReplaySetup(t, true)
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, s.c.env["OIDCCTL_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	if _, err := pg.Exec(ctx, `DROP TABLE dpop_proofs`); err != nil {
		t.Fatal(err)
	}
	p := s.proof()
	s.accept(s.a, p, "instance A with the database failing")
	s.refuseReplay(s.a, p, "the proof replayed to instance A with the database failing", 1)
	s.accept(s.a, s.proof(), "a second fresh proof with the database failing")
	if n := s.metric(s.a, "oidcctl_dpop_replay_store_errors_total"); n != 2 {
		t.Fatalf("%v database errors counted, want 2 (one per fresh proof)", n)
	}
	const logged = "DPoP: the database cannot be asked"
	if n := strings.Count(s.a.stderr.String(), logged); n != 1 {
		t.Fatalf("the failure logged %d times, want once:\n%s", n, s.a.stderr.String())
	}
	s.a.end(t)
	s.b.end(t)
}

// TestServeOnSQLiteRecordsNoProofs: on SQLite (one host, one serve) the
// replay check is the instance's memory alone, as before: a replayed
// proof is refused by the instance that saw it, and no proof id is
// written to the database.
func TestServeOnSQLiteRecordsNoProofs(t *testing.T) {
	s := newDPoPReplaySetup(t, false)
	p := s.proof()
	s.accept(s.a, p, "instance A")
	s.refuseReplay(s.a, p, "the proof replayed to instance A", 1)
	dbh, err := sql.Open("sqlite", "file:"+filepath.ToSlash(s.c.env["OIDCCTL_DB"])+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer dbh.Close()
	var rows int
	if err := dbh.QueryRow(`SELECT count(*) FROM dpop_proofs`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Fatalf("%d proof ids written to the SQLite database, want none", rows)
	}
	s.a.end(t)
	s.b.end(t)
}
