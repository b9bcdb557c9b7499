package validate

import (
	"context"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/jwks"
)

// TestNewDefaults: New sets every default in one place, at construction,
// so that what the Validator uses can be read back (serve reads its
// discovery source and key cache) and nothing is filled in lazily on first
// use or patched in by whoever holds it.
func TestNewDefaults(t *testing.T) {
	v := New(Config{})
	c := v.Config()
	if _, ok := c.Discovery.(*discovery.Client); !ok || v.Discovery() != c.Discovery {
		t.Errorf("Discovery = %T, want a discovery.Client of its own", c.Discovery)
	}
	if c.Keys == nil || v.Keys() != c.Keys {
		t.Error("no key cache of its own")
	}
	if c.Now == nil || c.Logger == nil {
		t.Error("no clock or logger")
	}
	if c.MaxTokenSize != DefaultMaxTokenSize || c.ResultTTL != DefaultResultTTL || c.ResultCacheSize != DefaultResultCacheSize {
		t.Errorf("limits %d, %s, %d: want the defaults", c.MaxTokenSize, c.ResultTTL, c.ResultCacheSize)
	}

	// What the caller gives is kept as it is.
	keys := &jwks.Cache{}
	disc := &staticDiscovery{}
	now := func() time.Time { return time.Unix(1, 0) }
	c = New(Config{Discovery: disc, Keys: keys, Now: now, ResultTTL: -1, MaxTokenSize: 10}).Config()
	if c.Discovery != disc || c.Keys != keys || c.Now().Unix() != 1 || c.ResultTTL != -1 || c.MaxTokenSize != 10 {
		t.Errorf("New changed what it was given: %+v", c)
	}
}

// TestNewConcurrentFirstUse: a new Validator is ready at once; the first
// calls may come from many goroutines (run with -race).
func TestNewConcurrentFirstUse(t *testing.T) {
	v := New(Config{Discovery: &staticDiscovery{}})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := v.Validate(context.Background(), core.NewProfile("p"), "a.b"); r.Reason != ReasonMalformed {
				t.Errorf("reason %s", r.Reason)
			}
			v.Forget("p")
		})
	}
	wg.Wait()
}
