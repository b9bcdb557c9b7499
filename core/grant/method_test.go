package grant_test

import (
	"runtime"
	"testing"

	"oidcctl/core/discovery"
	"oidcctl/core/grant"
)

func TestChooseMethod(t *testing.T) {
	withDevice := &discovery.Document{
		DeviceAuthorizationEndpoint: "https://idp.example/device",
		GrantTypesSupported:         []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"},
	}
	advertisedOnlyEndpoint := &discovery.Document{
		DeviceAuthorizationEndpoint: "https://idp.example/device",
		GrantTypesSupported:         []string{"authorization_code"},
	}
	without := &discovery.Document{}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	desktop := grant.MethodRemote // no DISPLAY: only macOS and Windows have a browser anyway
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		desktop = grant.MethodBrowser
	}
	for _, tc := range []struct {
		name              string
		d                 *discovery.Document
		getenv            func(string) string
		device, noBrowser bool
		want              grant.Method
	}{
		{"X11 desktop", withDevice, env("DISPLAY", ":0"), false, false, grant.MethodBrowser},
		{"Wayland desktop", without, env("WAYLAND_DISPLAY", "wayland-0"), false, false, grant.MethodBrowser},
		{"SSH, provider has device flow", withDevice, env("SSH_CONNECTION", "10.0.0.2 5000 10.0.0.1 22", "DISPLAY", "localhost:10.0"), false, false, grant.MethodDevice},
		{"SSH, no device flow", without, env("SSH_CONNECTION", "10.0.0.2 5000 10.0.0.1 22"), false, false, grant.MethodRemote},
		{"SSH, device endpoint but not the grant", advertisedOnlyEndpoint, env("SSH_TTY", "/dev/pts/1"), false, false, grant.MethodRemote},
		{"SSH with BROWSER set", withDevice, env("SSH_CONNECTION", "x", "BROWSER", "w3m"), false, false, grant.MethodBrowser},
		{"--device", without, env("DISPLAY", ":0"), true, false, grant.MethodDevice},
		{"--no-browser", withDevice, env("DISPLAY", ":0"), false, true, grant.MethodRemote},
		{"headless box, no device flow", without, env(), false, false, desktop},
		{"nil document", nil, env("SSH_CLIENT", "x"), false, false, grant.MethodRemote},
	} {
		if got := grant.ChooseMethod(tc.d, tc.getenv, tc.device, tc.noBrowser); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
