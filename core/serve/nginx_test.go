package serve_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"oidcctl/assets"
	"oidcctl/core/oidctest"
	"oidcctl/internal/testkit"
)

// nginxBinary finds Debian's nginx; the test fails (it does not skip)
// when it is missing.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed: run `make test-deps` (it installs the Debian package nginx)")
	return ""
}

// nginxSite is the shipped example site, assets/nginx-oidcctl.conf with
// its snippet, running in a real nginx.
type nginxSite struct {
	base   string       // https://127.0.0.1:port
	client *http.Client // trusts the site's throwaway certificate
}

// startNginx runs the shipped site as it is shipped, with only its ports
// and TLS files swapped: oidcctl at serveURL, the API at upstreamURL. The
// site's locations need the profiles keycloak and keycloak-admin.
func startNginx(t *testing.T, serveURL, upstreamURL string) *nginxSite {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	listen := freeAddr(t)
	cert, key, pool := selfSigned(t, dir, "api.example.com")
	site := string(assets.NginxExample)
	for _, r := range []struct{ old, new string }{
		{"listen 443 ssl;", "listen " + listen + " ssl;"},
		{"/etc/ssl/certs/api.example.com.pem", cert},
		{"/etc/ssl/private/api.example.com.key", key},
		{"server 127.0.0.1:8085;", "server " + strings.TrimPrefix(serveURL, "http://") + ";"},
		{"proxy_pass http://127.0.0.1:8080;", "proxy_pass " + upstreamURL + ";"},
	} {
		if !strings.Contains(site, r.old) {
			t.Fatalf("the shipped site has no %q any more: update this test", r.old)
		}
		site = strings.ReplaceAll(site, r.old, r.new)
	}
	must(t, os.MkdirAll(filepath.Join(dir, "snippets"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "snippets", "oidcctl-auth.conf"), assets.NginxAuthSnippet, 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600))
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	include %[1]s/site.conf;
}
`, dir)
	must(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600))

	var out syncBuffer
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	testkit.Eventually(t, 10*time.Second, "nginx to listen on "+listen, func() bool {
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s", err, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if strings.Contains(out.String(), "[emerg]") {
		t.Fatalf("nginx:\n%s", out.String())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "api.example.com"}}
	t.Cleanup(tr.CloseIdleConnections)
	return &nginxSite{base: "https://" + listen, client: &http.Client{Transport: tr}}
}

// selfSigned writes a throwaway certificate and key for host and returns
// their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir, host string) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{host}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	must(t, err)
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	must(t, err)
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600))
	c, err := x509.ParseCertificate(der)
	must(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certPath, keyPath, pool
}

// siteLocations returns the locations of the shipped site and whether
// each is internal.
func siteLocations(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	site := string(assets.NginxExample)
	for _, m := range regexp.MustCompile(`(?m)^\s*location\s+(?:=\s*)?(\S+)\s*\{([^}]*)\}`).FindAllStringSubmatch(site, -1) {
		out[m[1]] = strings.Contains(m[2], "internal;")
	}
	if len(out) < 3 {
		t.Fatalf("found only the locations %v in the shipped site: update this test", out)
	}
	return out
}

// TestNginxExampleForgedHeaders sends forged identity and forwarding
// headers, in every spelling, to every location of the shipped site:
// the upstream gets each identity header once, from oidcctl; a refused
// caller gets exactly one WWW-Authenticate; the internal location is
// not reachable.
func TestNginxExampleForgedHeaders(t *testing.T) {
	h, up, nginx := startBehindNginx(t)
	good := h.serviceToken("openid")
	// Accepted by every profile of the site.
	all := h.signed(map[string]any{"scope": "openid tickets.write"})
	forwarding := []string{"X-Forwarded-For", "X_Forwarded_For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix",
		"X-Forwarded-Uri", "X-Real-IP", "X_Real_IP", "Forwarded"}
	identity := map[string]bool{"x-auth-user": true, "x-auth-roles": true, "x-auth-subject": true}
	user := map[string]string{"x-auth-user": oidctest.ServiceClientID, "x-auth-roles": testRoles, "x-auth-subject": oidctest.ServiceClientID}

	type testCase struct {
		name, path, token string
		status            int
		user              map[string]string // what the upstream must get, by folded name; nil: no call
	}
	cases := []testCase{
		{"admin location, token without the scope", "/api/admin/x", good, 403, nil},
		{"no location", "/", all, 404, nil},
	}
	for loc, internal := range siteLocations(t) {
		if internal {
			cases = append(cases, testCase{loc + " internal", loc, all, 404, nil})
			continue
		}
		path := loc + "x"
		cases = append(cases,
			testCase{loc + " accepted", path, all, 200, user},
			testCase{loc + " no token", path, "", 401, nil},
			testCase{loc + " bad token", path, tamper(all), 401, nil})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", nginx.base+tt.path, nil)
			must(t, err)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			forgeIdentity(req)
			for _, name := range forwarding {
				req.Header[name] = []string{"6.6.6.6"}
			}
			before, _ := up.got()
			resp, err := nginx.client.Do(req)
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			after, _ := up.got()
			if www := resp.Header.Values("WWW-Authenticate"); (tt.status == 401 || tt.status == 403) && len(www) != 1 {
				t.Errorf("%d WWW-Authenticate headers, want 1: %q", len(www), www)
			}
			if tt.user == nil {
				if len(after) != len(before) {
					t.Fatal("the request reached the upstream")
				}
				return
			}
			if len(after) != len(before)+1 {
				t.Fatalf("the upstream got %d requests, want 1", len(after)-len(before))
			}
			got := after[len(after)-1].Header
			seen := map[string]int{}
			for name, vs := range got {
				all := strings.Join(vs, ",")
				if strings.Contains(all, "forged") || strings.Contains(all, "6.6.6.6") {
					t.Errorf("the upstream got the caller's %s: %q", name, vs)
				}
				if f := fold(name); identity[f] {
					seen[f] += len(vs)
					if len(vs) != 1 || vs[0] != tt.user[f] {
						t.Errorf("upstream got %s %q, want %q", name, vs, tt.user[f])
					}
				}
			}
			for f := range identity {
				if seen[f] != 1 {
					t.Errorf("upstream got %s %d times, want once", f, seen[f])
				}
			}
			if ip := got.Get("X-Forwarded-For"); ip != "127.0.0.1" {
				t.Errorf("X-Forwarded-For %q", ip)
			}
		})
	}
}
