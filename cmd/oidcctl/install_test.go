package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstall: make install PREFIX=… DESTDIR=… puts the binary, a
// manual page per command, the bash, zsh and fish completions and the
// systemd unit (starting the installed binary) where those tools look.
func TestMakeInstall(t *testing.T) {
	tmp := t.TempDir()
	dest, prefix := filepath.Join(tmp, "dest"), "/opt/oidcctl"
	cmd := exec.CommandContext(t.Context(), "make", "-C", "../..", "install",
		"PREFIX="+prefix, "DESTDIR="+dest, "BIN="+filepath.Join(tmp, "build", "oidcctl"), "GEN="+filepath.Join(tmp, "gen"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	root := filepath.Join(dest, prefix)
	if fi, err := os.Stat(filepath.Join(root, "bin", "oidcctl")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("binary: %v", err)
	}
	for _, f := range []struct{ path, want string }{
		{"share/man/man1/oidcctl.1", `.TH "OIDCCTL" "1"`},
		{"share/man/man1/oidcctl-token-get.1", "token get"},
		{"share/bash-completion/completions/oidcctl", "__start_oidcctl"},
		{"share/zsh/site-functions/_oidcctl", "#compdef oidcctl"},
		{"share/fish/vendor_completions.d/oidcctl.fish", "complete -c oidcctl"},
		{"lib/systemd/system/oidcctl.service", "ExecStart=" + prefix + "/bin/oidcctl serve"},
	} {
		b, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		if !strings.Contains(string(b), f.want) {
			t.Errorf("%s lacks %q", f.path, f.want)
		}
	}
}
