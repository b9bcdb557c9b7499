package serve_test

import (
	"log/slog"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/jwks"
	"oidcctl/core/serve"
	"oidcctl/core/tokens"
	"oidcctl/core/validate"
)

// services are what a serve process builds once (cmd/oidcctl does the
// same): one discovery client and key cache, shared by the validator and
// the grants, and a token manager that tells its TokenWatch what it
// obtains.
type services struct {
	docs      *discovery.Client
	keys      *jwks.Cache
	validator *validate.Validator
	watch     *serve.TokenWatch
	tokens    *tokens.Manager
}

// servicesStore is what the services need of the store.
type servicesStore interface {
	serve.Store
	core.UserStore
}

func newServices(store servicesStore, now func() time.Time, owner string, logger *slog.Logger) services {
	sv := services{
		docs:  &discovery.Client{Cache: store, Now: now, Logger: logger},
		keys:  &jwks.Cache{Now: now, Logger: logger},
		watch: serve.NewTokenWatch(),
	}
	sv.validator = validate.New(validate.Config{Discovery: sv.docs, Keys: sv.keys, Users: store, Logger: logger})
	sv.tokens = tokens.New(tokens.Config{
		Store:     store,
		Discovery: sv.docs,
		Grants:    &grant.Client{Logger: logger},
		Owner:     owner,
		Now:       now,
		Observe:   sv.watch.Observe,
		Logger:    logger,
	})
	return sv
}

// config sets the services on cfg.
func (sv services) config(cfg serve.Config) serve.Config {
	cfg.Validator = sv.validator
	cfg.Tokens, cfg.TokenWatch = sv.tokens, sv.watch
	return cfg
}
