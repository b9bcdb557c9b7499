package serve_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oidcctl/core/serve"
)

// unixClient talks HTTP over a unix socket.
func unixClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
}

func get(t *testing.T, c *http.Client, u string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTokenSocket(t *testing.T) {
	h := start(t)
	fi, err := os.Stat(h.sock)
	must(t, err)
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	c := unixClient(h.sock)
	status, body := get(t, c, "http://x/token/billing")
	st, err := h.store.TokenState(context.Background(), "billing")
	must(t, err)
	if status != 200 || body != st.Tokens.AccessToken.Reveal()+"\n" {
		t.Fatalf("%d %q", status, body)
	}
	status, body = get(t, c, "http://x/token/billing?format=json")
	var ans struct {
		Account, TokenType, Token string
		ExpiresIn                 int64 `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || status != 200 || ans.Token != st.Tokens.AccessToken.Reveal() || ans.ExpiresIn <= 0 {
		t.Fatalf("%d %s", status, body)
	}
	if status, body = get(t, c, "http://x/token/nope", "Accept", "application/json"); status != 404 || !strings.Contains(body, `account \"nope\" does not exist`) {
		t.Fatalf("unknown account: %d %s", status, body)
	}
	if status, _ = get(t, c, "http://x/other"); status != 404 {
		t.Fatalf("other path: %d", status)
	}
	h.op.FailTokenRequests(http.StatusInternalServerError)
	defer h.op.FailTokenRequests(0)
	h.clock.Add(24 * time.Hour)
	defer h.clock.Add(-24 * time.Hour)
	if status, body = get(t, c, "http://x/token/billing"); status != 502 || !strings.Contains(body, "no_token") {
		t.Fatalf("expired and provider failing: %d %s", status, body)
	}
}

func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	ln, err := serve.ListenUnix(path)
	must(t, err)
	if _, err := serve.ListenUnix(path); err == nil || !strings.Contains(err.Error(), "another process is listening") {
		t.Fatalf("second listener: %v", err)
	}
	// A socket left behind by a process that died is replaced.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	ln, err = serve.ListenUnix(path)
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	ln.Close()
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, []byte("x"), 0o600))
	if _, err := serve.ListenUnix(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("a file in the way: %v", err)
	}
	if _, err := serve.ListenUnix(filepath.Join(dir, "missing", "s.sock")); err == nil {
		t.Fatal("a socket in a missing directory")
	}
}
