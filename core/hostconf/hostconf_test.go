package hostconf_test

import (
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/core/hostconf"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// The file's db applies only when neither the flag nor the environment
// names a database; its key-file only to its own database.
func TestPrecedence(t *testing.T) {
	c, err := hostconf.Parse(strings.NewReader("# host\n\n db = /var/lib/oidcctl/oidcctl.db \nkey-file=/etc/oidcctl/oidcctl.key\n"), "oidcctl.conf")
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
	c, err := hostconf.Load(env(map[string]string{hostconf.PathEnv: filepath.Join(dir, "none.conf")}))
	if err != nil || c != (hostconf.File{}) {
		t.Errorf("missing: %+v, %v", c, err)
	}

}
