package jwks_test

import (
	"context"
	"fmt"
	"testing"

	"oidcctl/core"
)

// TestSetsBounded: the cache holds at most MaxSets sets and MaxBytes of
// them; the set used least recently goes first and is fetched again when
// it is needed, and Stats says what is held and how lookups went.
func TestSetsBounded(t *testing.T) {
	clk := newClock()
	srv := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", "RS256"))
	c := newCache(clk)
	c.MaxSets = 2
	ctx := context.Background()
	get := func(name string) {
		t.Helper()
		if _, err := c.PublicKey(ctx, core.Profile{Name: name}, srv.URL, "k1"); err != nil {
			t.Fatal(err)
		}
	}
	get("a")
	get("b")
	get("a") // b is now the least recently used
	get("c")
	s := c.Stats()
	if s.Sets != 2 || s.MaxSets != 2 || s.Bytes <= 0 || s.MaxBytes <= 0 || s.Hits != 1 || s.Misses != 3 {
		t.Errorf("stats %+v: want 2 sets with their bytes, 1 hit and 3 misses", s)
	}
	n := srv.count()
	get("a")
	if srv.count() != n {
		t.Error("a, used recently, was dropped")
	}
	get("b")
	if srv.count() != n+1 {
		t.Error("b, used least recently, was kept")
	}

	// In bytes: a bound that one set fills holds one.
	one := c.Stats().Bytes / 2
	c2 := newCache(clk)
	c2.MaxBytes = one + one/2
	for i := range 5 {
		if _, err := c2.PublicKey(ctx, core.Profile{Name: fmt.Sprint("p", i)}, srv.URL, "k1"); err != nil {
			t.Fatal(err)
		}
	}
	if s := c2.Stats(); s.Sets != 1 || s.Bytes != one {
		t.Errorf("stats %+v: want one set of %d bytes", s, one)
	}
}
