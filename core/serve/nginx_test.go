package serve_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
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

var nginxConf = template.Must(template.New("nginx").Parse(`
daemon off;
master_process off;
pid {{.Dir}}/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path {{.Dir}}/body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;

	server {
		listen {{.Listen}};

		# The subrequest to oidcctl: no body, the original URI and method
		# for the debugger, the profile per location.
		location = /_auth {
			internal;
			proxy_pass {{.Serve}}/auth?profile=$auth_profile;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Original-URI $request_uri;
			proxy_set_header X-Original-Method $request_method;
		}

		location / {
			set $auth_profile op;
			auth_request /_auth;
			auth_request_set $auth_user $upstream_http_x_auth_user;
			auth_request_set $auth_roles $upstream_http_x_auth_roles;
			auth_request_set $auth_subject $upstream_http_x_auth_subject;
			auth_request_set $auth_challenge $upstream_http_www_authenticate;
			add_header WWW-Authenticate $auth_challenge always;
			proxy_set_header X-Auth-User $auth_user;
			proxy_set_header X-Auth-Roles $auth_roles;
			proxy_set_header X-Auth-Subject $auth_subject;
			proxy_pass {{.Upstream}};
		}

		location /admin/ {
			set $auth_profile op-write;
			auth_request /_auth;
			auth_request_set $auth_user $upstream_http_x_auth_user;
			auth_request_set $auth_challenge $upstream_http_www_authenticate;
			add_header WWW-Authenticate $auth_challenge always;
			proxy_set_header X-Auth-User $auth_user;
			proxy_pass {{.Upstream}};
		}
	}
}
`))

// startNginx runs nginx in front of upstream, asking serve at /auth; it
// returns nginx's base URL.
func startNginx(t *testing.T, serveURL, upstreamURL string) string {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	listen := freeAddr(t)
	f, err := os.Create(filepath.Join(dir, "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	err = nginxConf.Execute(f, map[string]string{"Dir": dir, "Listen": listen, "Serve": serveURL, "Upstream": upstreamURL})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s after 10s:\n%s", listen, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(out.String(), "[emerg]") {
		t.Fatalf("nginx:\n%s", out.String())
	}
	return fmt.Sprintf("http://%s", listen)
}
