package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"oidcctl/core"
)

// refusingCache is a core.DiscoveryCache with nothing cached that refuses
// every write with err, as a store does that was opened read-only.
type refusingCache struct{ err error }

func (refusingCache) CachedDiscovery(_ context.Context, profile string) (core.CachedDocument, error) {
	return core.CachedDocument{}, &core.NotFoundError{Kind: "discovery document", Name: profile}
}

func (c refusingCache) CacheDiscovery(context.Context, string, core.CachedDocument) error {
	return c.err
}

// TestReadOnlyCacheSkippedQuietly: a cache that is read-only (its writes
// fail with core.ErrReadOnly) costs a debug line, not a warning on every
// fetch; a cache that fails otherwise is still warned about. The document
// is served either way.
func TestReadOnlyCacheSkippedQuietly(t *testing.T) {
	prov, c, _, _, _ := providerClient(t)
	for _, tt := range []struct {
		name  string
		err   error
		level string
	}{
		{"read-only", fmt.Errorf("cache discovery document of profile p: %w (this process may not write x.db)", core.ErrReadOnly), "level=DEBUG"},
		{"broken", errors.New("disk I/O error"), "level=WARN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			c.Cache = refusingCache{tt.err}
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			d, err := c.Fetch(t.Context(), profile("p-"+tt.name, prov.DiscoveryURL))
			if err != nil || d.Issuer != prov.Issuer {
				t.Fatalf("Fetch: %v, %+v", err, d)
			}
			var lines []string
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, "cach") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], tt.level) {
				t.Fatalf("log lines about the cache %q, want one at %s", lines, tt.level)
			}
		})
	}
}
