// Package assets holds the files that ship inside the oidcctl binary.
package assets

import _ "embed"

// ExampleConfig is an example setup in the format of `oidcctl config
// export`, printed by `oidcctl config example`.
//
//go:embed example.yaml
var ExampleConfig []byte

// SystemdUnit is the systemd unit of `oidcctl serve` (Type=notify,
// DynamicUser, the key by LoadCredential), printed by `oidcctl serve
// --print-unit`.
//
//go:embed oidcctl.service
var SystemdUnit []byte

// NginxExample is an nginx site that asks `oidcctl serve` about every
// request with auth_request.
//
//go:embed nginx-oidcctl.conf
var NginxExample []byte

// NginxAuthSnippet is the include of every location of NginxExample
// (snippets/oidcctl-auth.conf): auth_request, the identity and forwarding
// headers, the challenge.
//
//go:embed nginx-oidcctl-auth.conf
var NginxAuthSnippet []byte
