package grant

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"oidcctl/core/discovery"
)

// Method is how a person logs in for an authorization_code account.
type Method int

// The login methods.
const (
	// MethodAuto, the zero value, lets ChooseMethod pick one of the others.
	MethodAuto Method = iota
	// MethodBrowser: open a local browser; the loopback callback gets the
	// code (AuthorizeLoopback).
	MethodBrowser
	// MethodDevice: the device flow (StartDevice): a code to enter on any
	// device.
	MethodDevice
	// MethodRemote: print the URL for a browser elsewhere; the code comes
	// through the loopback callback reached over `ssh -L`, or as the
	// redirect URL pasted back (Callback.Wait and
	// AuthCodeFlow.ExchangeRedirect, whichever comes first).
	MethodRemote
	// MethodServe: print the URL (and open a local browser where there
	// is one); the browser returns to `oidcctl serve` at the account's
	// https redirect URI, which completes the login (a core.PendingLogin)
	// on any host that shares the database. It is never chosen by
	// ChooseMethod: an https redirect URI implies it.
	MethodServe
)

func (m Method) String() string {
	switch m {
	case MethodAuto:
		return "auto"
	case MethodBrowser:
		return "browser"
	case MethodDevice:
		return "device"
	case MethodRemote:
		return "remote"
	case MethodServe:
		return "serve"
	}
	return "unknown"
}

// ChooseMethod picks the login method: the device flow when device is
// set; MethodRemote when noBrowser is set; MethodBrowser when there is a
// local browser (see HasLocalBrowser); otherwise the device flow when the
// provider offers it, else MethodRemote. getenv nil means os.Getenv.
func ChooseMethod(d *discovery.Document, getenv func(string) string, device, noBrowser bool) Method {
	switch {
	case device:
		return MethodDevice
	case noBrowser:
		return MethodRemote
	case HasLocalBrowser(getenv):
		return MethodBrowser
	case SupportsDevice(d):
		return MethodDevice
	}
	return MethodRemote
}

// HasLocalBrowser guesses whether a browser can be opened on this machine
// for the person at the keyboard: yes when BROWSER is set (the person's
// explicit choice); no in an SSH session (SSH_CONNECTION, SSH_CLIENT or
// SSH_TTY set), since a browser would open on the server's display if
// anywhere; yes on macOS and Windows, and with a DISPLAY or
// WAYLAND_DISPLAY elsewhere. getenv nil means os.Getenv.
func HasLocalBrowser(getenv func(string) string) bool {
	if getenv == nil {
		getenv = os.Getenv
	}
	switch {
	case getenv("BROWSER") != "":
		return true
	case getenv("SSH_CONNECTION") != "" || getenv("SSH_CLIENT") != "" || getenv("SSH_TTY") != "":
		return false
	case runtime.GOOS == "darwin" || runtime.GOOS == "windows":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// SupportsDevice reports whether the provider advertises the device flow:
// a device_authorization_endpoint, and the device_code grant unless
// grant_types_supported is absent.
func SupportsDevice(d *discovery.Document) bool {
	if d == nil || d.DeviceAuthorizationEndpoint == "" {
		return false
	}
	return d.GrantTypesSupported == nil || slices.Contains(d.GrantTypesSupported, deviceGrant)
}

// ForwardCommand is the ssh command line that makes this callback
// server's port reachable from the admin's own browser: the host is the
// address the admin's SSH connection reached ($SSH_CONNECTION); it
// forwards to [::1] when the server listens there only.
func (cb *Callback) ForwardCommand(getenv func(string) string) string {
	target := "127.0.0.1"
	if cb.v6Only {
		target = "[::1]"
	}
	return forwardCommand(target, cb.Port, getenv)
}

func forwardCommand(target string, port int, getenv func(string) string) string {
	host := "THIS-HOST"
	if getenv != nil {
		if f := strings.Fields(getenv("SSH_CONNECTION")); len(f) == 4 {
			host = f[2]
		}
	}
	return fmt.Sprintf("ssh -L %d:%s:%d %s", port, target, port, host)
}
