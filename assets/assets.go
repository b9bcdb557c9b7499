// Package assets holds the files that ship inside the oidcctl binary.
package assets

import _ "embed"

// ExampleConfig is an example setup in the format of `oidcctl config
// export`, printed by `oidcctl config example`.
//
//go:embed example.yaml
var ExampleConfig []byte
