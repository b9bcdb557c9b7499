package assets_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"oidcctl/assets"
)

// The example nginx site and its snippet pass nginx -t, with a throwaway
// certificate in place of the example's. (core/serve runs them with
// forged headers against a real serve.)
func TestNginxExampleIsValid(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("nginx is not installed: run `make test-deps` (it installs the Debian package nginx)")
		}
	}
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	site := strings.NewReplacer(
		"/etc/ssl/certs/api.example.com.pem", cert,
		"/etc/ssl/private/api.example.com.key", key,
	).Replace(string(assets.NginxExample))
	if site == string(assets.NginxExample) {
		t.Fatal("the example's certificate paths changed; update this test")
	}
	must(t, os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600))
	// The site includes snippets/oidcctl-auth.conf, relative to nginx.conf.
	must(t, os.MkdirAll(filepath.Join(dir, "snippets"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "snippets", "oidcctl-auth.conf"), assets.NginxAuthSnippet, 0o600))
	main := "pid " + dir + "/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n" +
		"client_body_temp_path " + dir + "/body; proxy_temp_path " + dir + "/proxy; fastcgi_temp_path " + dir + "/fcgi;\n" +
		"uwsgi_temp_path " + dir + "/uwsgi; scgi_temp_path " + dir + "/scgi;\n" +
		"include " + dir + "/site.conf;\n}\n"
	must(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600))
	out, err := exec.Command(bin, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

func TestSystemdUnit(t *testing.T) {
	unit := string(assets.SystemdUnit)
	for _, want := range []string{"\nType=notify\n", "\nDynamicUser=yes\n", "\nStateDirectory=oidcctl\n", "\nRuntimeDirectory=oidcctl\n",
		"\nLoadCredential=oidcctl.key:/etc/oidcctl/oidcctl.key\n", "\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n",
		"\nPrivateTmp=yes\n", "\nWatchdogSec=30s\n", "\nExecStart=/usr/local/bin/oidcctl serve --listen 127.0.0.1:8085 --socket /run/oidcctl/token.sock\n",
		"\nExecReload=/bin/kill -HUP $MAINPID\n", "\nRestartPreventExitStatus=2\n",
		// /proc hides other processes and everything but process entries.
		"\nProtectProc=invisible\n", "\nProcSubset=pid\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
}

// systemd-analyze security scores the unit at 1.5 or better (lower is
// safer): ProtectProc=invisible and ProcSubset=pid took it from 1.7.
func TestSystemdUnitSecurityScore(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze is not installed: run `make test-deps` (it installs the Debian package systemd)")
	}
	unit := filepath.Join(t.TempDir(), "oidcctl.service")
	must(t, os.WriteFile(unit, assets.SystemdUnit, 0o600))
	out, err := exec.Command(bin, "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for oidcctl\.service: (\d+\.\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	must(t, err)
	if score > 1.5 {
		t.Errorf("systemd-analyze security: exposure %.1f, want 1.5 or better", score)
	}
}

func selfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "api.example.com"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"api.example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	must(t, err)
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	must(t, err)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600))
	return certPath, keyPath
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
