package serve_test

import (
	"oidcctl/core/serve"
	"oidcctl/db"
)

var _ serve.Store = (*db.DB)(nil)
