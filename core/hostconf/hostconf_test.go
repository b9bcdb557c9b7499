package hostconf_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/core/hostconf"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The file's db applies only when neither the flag nor the environment
// names a database; its key-file only to its own database.
func TestPrecedence(t *testing.T) {
	c, err := hostconf.Parse(strings.NewReader("# host\n\n db = /var/lib/oidcctl/oidcctl.db \nkey-file=/etc/oidcctl/oidcctl.key\n"), "oidcctl.conf", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		flag   string
		env    map[string]string
		wantOK bool
	}{
		{"nothing else", "", map[string]string{"HOME": "/root"}, true},
		{"--db", "/tmp/x.db", nil, false},
		{"OIDCCTL_DB", "", map[string]string{"OIDCCTL_DB": "/tmp/x.db"}, false},
		{"systemd's StateDirectory", "", map[string]string{"STATE_DIRECTORY": "/var/lib/oidcctl"}, false},
	} {
		p, ok := c.DBPath(tc.flag, env(tc.env))
		if ok != tc.wantOK || (ok && p != "/var/lib/oidcctl/oidcctl.db") {
			t.Errorf("%s: DBPath = %q, %v", tc.name, p, ok)
		}
	}
	if k := c.Getenv(env(nil), "/var/lib/oidcctl/oidcctl.db")("OIDCCTL_KEY_FILE"); k != "/etc/oidcctl/oidcctl.key" {
		t.Errorf("key for the host's database: %q", k)
	}
	if k := c.Getenv(env(nil), "/home/me/own.db")("OIDCCTL_KEY_FILE"); k != "" {
		t.Errorf("the host's key offered for another database: %q", k)
	}
	if k := c.Getenv(env(map[string]string{"OIDCCTL_KEY_FILE": "/mine.key"}), "/var/lib/oidcctl/oidcctl.db")("OIDCCTL_KEY_FILE"); k != "/mine.key" {
		t.Errorf("OIDCCTL_KEY_FILE lost to the file: %q", k)
	}
}

// A missing file is no configuration.
func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	c, err := hostconf.Load(env(map[string]string{hostconf.PathEnv: filepath.Join(dir, "none.conf")}), nil)
	if err != nil || c != (hostconf.File{}) {
		t.Errorf("missing: %+v, %v", c, err)
	}

}

// server stands in for the store's knowledge of connection strings: a
// "pg:" prefix names a server, "secret" in it is a password.
func server(v string) (bool, error) {
	if !strings.HasPrefix(v, "pg:") {
		return false, nil
	}
	if strings.Contains(v, "secret") {
		return true, errors.New("holds a password")
	}
	return true, nil
}

// db= takes a server's connection string as it is (not cleaned like a
// path), its key-file applies to that database, and an error about a
// value that holds a password does not repeat the value.
func TestServerDB(t *testing.T) {
	const conn = "pg://oidcctl@db.internal//x/../oidcctl"
	c, err := hostconf.Parse(strings.NewReader("db = "+conn+"\nkey-file=/etc/oidcctl/oidcctl.key\n"), "oidcctl.conf", server)
	if err != nil || c.DB != conn {
		t.Fatalf("Parse: %+v, %v", c, err)
	}
	if p, ok := c.DBPath("", env(nil)); !ok || p != conn {
		t.Errorf("DBPath = %q, %v", p, ok)
	}
	if k := c.Getenv(env(nil), conn)("OIDCCTL_KEY_FILE"); k != "/etc/oidcctl/oidcctl.key" {
		t.Errorf("key for the host's server database: %q", k)
	}
	if k := c.Getenv(env(nil), "pg://oidcctl@elsewhere/oidcctl")("OIDCCTL_KEY_FILE"); k != "" {
		t.Errorf("the host's key offered for another server: %q", k)
	}

	for content, want := range map[string]string{
		"db=pg://u:secret@db/x\n":    "oidcctl.conf:1: db=: holds a password",
		"db pg://u:secret@db/x\n":    "oidcctl.conf:1: want key=value",
		"\ndb=relative/oidcctl.db\n": `oidcctl.conf:2: db="relative/oidcctl.db": want an absolute path or a database server's connection string`,
	} {
		_, err := hostconf.Parse(strings.NewReader(content), "oidcctl.conf", server)
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: %v, want %s…", content, err, want)
		}
	}
	// Without a server, a connection string is no absolute path.
	if _, err := hostconf.Parse(strings.NewReader("db="+conn+"\n"), "oidcctl.conf", nil); err == nil {
		t.Error("a connection string taken without a server")
	}
}
