package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestEditReadsInputBeforeTheTransaction: an edit whose input comes slowly
// (standard input that nobody writes to yet, as when a person types or a
// pipe stalls) does not hold the database's write lock while it waits:
// another writer, here a second oidcctl on its own connections, writes
// meanwhile instead of waiting for SQLite's busy timeout and failing. The
// store's Update functions get closures that only change values.
func TestEditReadsInputBeforeTheTransaction(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	c.ok("account", "add", "svc", "--profile", "kc")
	for i, tt := range []struct {
		args  []string
		input string
		check func(t *testing.T)
	}{
		{[]string{"profile", "edit", "kc", "--client-secret-file", "-"}, "s3cret\n", func(t *testing.T) {
			if secret := showField(t, c, "profile", "kc", "client_secret"); secret != "map[set:true]" {
				t.Errorf("client secret %q after the edit, want set", secret)
			}
		}},
		{[]string{"profile", "edit", "kc", "--role-map-file", "-"}, "roles:\n  admin: Admin\n", func(t *testing.T) {
			if out := c.ok("profile", "show", "kc", "-o", "json"); !strings.Contains(out, `"Admin"`) {
				t.Errorf("role map not stored:\n%s", out)
			}
		}},
		{[]string{"account", "edit", "svc", "--grant-type", "password", "--username", "u", "--password-file", "-"}, "pw\n", func(t *testing.T) {
			if pw := showField(t, c, "account", "svc", "password"); pw != "map[set:true]" {
				t.Errorf("password %q after the edit, want set", pw)
			}
		}},
	} {
		t.Run(strings.Join(tt.args[:2], " ")+" "+tt.args[len(tt.args)-2], func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			stdin := &startedReader{r: pr, started: make(chan struct{})}
			edit := c.runCtx(context.Background(), stdin, tt.args...)
			select {
			case r := <-edit:
				t.Fatalf("ended before reading its input: %+v", r)
			case <-stdin.started:
			}
			// A lock held by the edit makes this write fail after SQLite's
			// busy timeout (5 s): its exit code says so, however slow a
			// busy machine runs it. The bound only catches a hang.
			user := fmt.Sprintf("meanwhile-%d", i)
			if r := within(t, 30*time.Second, c.runCtx(context.Background(), strings.NewReader(""), "user", "add", user)); r.code != exitOK {
				t.Fatalf("a write while the edit waits for input: exit %d, %s", r.code, r.stderr)
			}
			if _, err := io.WriteString(pw, tt.input); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			if r := within(t, 10*time.Second, edit); r.code != exitOK {
				t.Fatalf("the edit: exit %d, %s", r.code, r.stderr)
			}
			tt.check(t)
		})
	}
}

// showField returns one field of the JSON form of a profile or account.
func showField(t *testing.T, c *cli, kind, name, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(c.ok(kind, "show", name, "-o", "json")), &m); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(m[field])
}
