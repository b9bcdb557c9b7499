// Command fabench prepares and serves what bench/forward-auth.sh measures.
//
//	fabench setup --dir DIR [--db CONN]
//	                            starts the in-process OpenID provider, makes a
//	                            database in DIR (or the PostgreSQL database
//	                            CONN) with a profile "op" for it and
//	                            the user its tokens map to, writes the tokens
//	                            to measure with, prints shell variables and
//	                            READY, and serves the provider until SIGTERM
//	fabench ceiling --listen A  a bare net/http handler answering 200: the
//	                            ceiling that serve is compared with; on a
//	                            path starting /answer it answers as serve
//	                            answers an accepted token, on /refuse as it
//	                            refuses one, and GET /allocs prints its
//	                            allocations so far
//
// Tokens written by setup (one per line):
//
//	same.txt     one access token issued by the provider (client_credentials)
//	valid.txt    10,000 distinct valid tokens signed with the provider's key
//	invalid.txt  the same 10,000 with their signatures changed
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/core/oidctest"
	"oidcctl/db"
	"oidcctl/db/postgres"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fabench setup --dir DIR | fabench ceiling --listen ADDR")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "setup":
		err = setup(os.Args[2:])
	case "ceiling":
		err = ceiling(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fabench:", err)
		os.Exit(1)
	}
}

func ceiling(args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	fs.Parse(args)
	srv := &http.Server{Addr: *listen, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(bare)}
	return srv.ListenAndServe()
}

// bare answers 200 with no headers of its own, or with the headers (and
// body) of serve's answer: on /answer… to an accepted token (a request id,
// the user headers, Cache-Control), on /refuse… to a refused one (401, a
// WWW-Authenticate challenge and the JSON error body), with values of the
// same lengths; /allocs prints the process's heap allocations so far, for
// the allocations per call.
func bare(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/allocs":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintln(w, ms.Mallocs)
	case strings.HasPrefix(r.URL.Path, "/answer"):
		h := w.Header()
		h["X-Request-Id"] = []string{requestID()}
		h["X-Auth-User"] = []string{"sid1"}
		h["X-Auth-Subject"] = []string{"sid1"}
		h["X-Auth-Roles"] = []string{"api"}
		h["Cache-Control"] = []string{"no-store"}
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(r.URL.Path, "/refuse"):
		id := requestID()
		body := `{"error":"invalid_token","error_description":"The access token is not valid.","request_id":"` + id + `"}` + "\n"
		h := w.Header()
		h["X-Request-Id"] = []string{id}
		h["Www-Authenticate"] = []string{`Bearer error="invalid_token", error_description="The access token is not valid."`}
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		h["Cache-Control"] = []string{"no-store"}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, body)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// requestID is a request id like serve's: 16 hexadecimal digits.
func requestID() string { return strconv.FormatUint(rand.Uint64()|1<<63, 16) }

func setup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	dir := fs.String("dir", "", "directory for the database and the token files")
	n := fs.Int("n", 10000, "distinct tokens")
	conn := fs.String("db", "", "a PostgreSQL database (URL or key=value string) instead of a SQLite file in --dir")
	fs.Parse(args)
	if *dir == "" {
		return fmt.Errorf("--dir is required")
	}
	slog.SetDefault(slog.New(slog.DiscardHandler))
	op, err := oidctest.New(oidctest.WithAccessTokenLifetime(24 * time.Hour))
	if err != nil {
		return err
	}
	defer op.Close()
	ctx := context.Background()
	keyPath := filepath.Join(*dir, crypt.KeyFileName)
	key, err := crypt.LoadKey(keyPath, true)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(*dir, db.FileName)
	var store benchStore
	if *conn != "" {
		dbPath = *conn
		store, err = postgres.Open(ctx, *conn, key)
	} else {
		store, err = db.Open(ctx, dbPath, key)
	}
	if err != nil {
		return err
	}
	reg := core.Registry{Store: store}
	p := core.NewProfile("op")
	p.DiscoveryURL, p.ClientID, p.ClientSecret = op.DiscoveryURL, oidctest.ServiceClientID, core.NewSecret(oidctest.ServiceClientSecret)
	if err := reg.AddProfile(ctx, p); err != nil {
		return err
	}
	if err := store.CreateUser(ctx, core.User{Login: oidctest.ServiceClientID, Email: "sid1@bench.test", Roles: []string{"api"}}); err != nil {
		return err
	}
	store.Close()

	same, err := issued(op)
	if err != nil {
		return err
	}
	var valid, invalid []string
	now := time.Now()
	for i := range *n {
		tok, err := op.SignJWT(map[string]any{
			"iss": op.Issuer, "sub": oidctest.ServiceClientID, "aud": []string{oidctest.ServiceClientID},
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(),
			"scope": "openid", "client_id": oidctest.ServiceClientID, "jti": fmt.Sprintf("bench-%d", i),
		})
		if err != nil {
			return err
		}
		valid = append(valid, tok)
		invalid = append(invalid, tamper(tok))
	}
	files := map[string][]string{"same.txt": {same}, "valid.txt": valid, "invalid.txt": invalid}
	for name, lines := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			return err
		}
	}
	fmt.Printf("OIDCCTL_DB=%s\nOIDCCTL_KEY_FILE=%s\nISSUER=%s\nREADY\n", dbPath, keyPath, op.Issuer)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// benchStore is what setup needs of either engine.
type benchStore interface {
	core.Store
	Close() error
}

// issued gets an access token from the provider's token endpoint.
func issued(op *oidctest.Provider) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}
	req, _ := http.NewRequest(http.MethodPost, op.TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oidctest.ServiceClientID, oidctest.ServiceClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("token response %s: %v", body, err)
	}
	return tr.AccessToken, nil
}

// tamper changes a character in the middle of the signature (the last
// one may only carry unused bits).
func tamper(tok string) string {
	i := strings.LastIndex(tok, ".") + 20
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}
