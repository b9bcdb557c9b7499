package main

import (
	"context"
	"log/slog"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/grant"
	"oidcctl/core/jwks"
	"oidcctl/core/serve"
	"oidcctl/core/tokens"
	"oidcctl/core/validate"
)

// services are the long-lived objects of one run of oidcctl, built once
// by newServices on the open store and shared by every command, the
// console and serve: one discovery client (and its cache), one key cache
// that the validator and the grants' id_token checks share, one grant
// client, one token manager (whose per-account locks must be the only
// ones in the process) and one validator. Nothing changes them after.
type services struct {
	store     core.Store
	discovery *discovery.Client
	keys      *jwks.Cache
	grants    *grant.Client
	tokens    *tokens.Manager
	validator *validate.Validator
}

// newServices builds the services on store. watch, when not nil, hears of
// every token the manager obtains or refreshes (serve's metrics and
// debugger).
func newServices(store core.Store, log *slog.Logger, watch *serve.TokenWatch) *services {
	sv := &services{
		store:     store,
		discovery: &discovery.Client{Cache: store, Logger: log},
		keys:      &jwks.Cache{Logger: log},
	}
	sv.grants = &grant.Client{
		Logger: log,
		// id_tokens are verified with the run's key cache.
		Keys: func(ctx context.Context, p core.Profile, d *discovery.Document) (jwk.Set, error) {
			set, _, err := sv.keys.Set(ctx, p, d.JWKSURI)
			return set, err
		},
	}
	cfg := tokens.Config{Store: store, Discovery: sv.discovery, Grants: sv.grants, Logger: log}
	if watch != nil {
		cfg.Observe = watch.Observe
	}
	sv.tokens = tokens.New(cfg)
	var users core.UserStore = store
	if watch != nil {
		// serve: known users stay known while the database is unreachable.
		users = validate.RememberUsers(store)
	}
	sv.validator = validate.New(validate.Config{Discovery: sv.discovery, Keys: sv.keys, Users: users, Logger: log})
	return sv
}
