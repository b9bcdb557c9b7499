package main

import (
	"context"
	"io"
	"log/slog"
	"oidcctl/core/validate"
	"path/filepath"
	"testing"
)

// One run builds its services once: every command, the console and serve
// use the same discovery client, key cache, grant client, token manager
// and validator, and the console's screens get exactly these (before, each
// use built new ones and the console patched them together afterwards).
func TestServicesBuiltOnceAndShared(t *testing.T) {
	dir := t.TempDir()
	a := &app{env: env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string {
		if k == "OIDCCTL_DB" {
			return filepath.Join(dir, "oidcctl.db")
		}
		return ""
	}}, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	reg, err := a.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	sv := a.svc
	if _, err := a.open(ctx); err != nil {
		t.Fatal(err)
	}
	if a.svc != sv {
		t.Fatal("a second open built the services again")
	}
	if sv.store != a.store || sv.discovery.Cache != a.store {
		t.Fatal("the services are not on the open store")
	}
	if sv.validator.Discovery() != validate.Discoverer(sv.discovery) || sv.validator.Keys() != sv.keys {
		t.Fatal("the validator has a discovery client or key cache of its own")
	}
	d := a.consoleDeps(reg)
	if d.Discovery != sv.discovery || d.Tokens != sv.tokens || d.Grants != sv.grants || d.Validator != sv.validator {
		t.Fatal("the console's screens do not get the run's services")
	}
}
