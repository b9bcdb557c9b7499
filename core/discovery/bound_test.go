package discovery_test

import (
	"testing"
	"time"
)

// TestDocumentsBounded: the client holds at most MaxDocuments documents in
// memory; the one used least recently goes first and is fetched again when
// it is needed, and Stats says what is held and how Gets went.
func TestDocumentsBounded(t *testing.T) {
	prov, c, tr, _, _ := providerClient(t)
	c.Cache = nil // no shared cache to fall back on: a dropped document is fetched
	c.MaxDocuments = 2
	get := func(name string) {
		t.Helper()
		p := profile(name, prov.DiscoveryURL)
		p.DiscoveryTTL = time.Hour
		if _, err := c.Get(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	get("a")
	get("b")
	get("a") // b is now the least recently used
	get("c")
	s := c.Stats()
	if s.Documents != 2 || s.MaxDocuments != 2 || s.Bytes <= 0 || s.MaxBytes <= 0 || s.Hits != 1 || s.Misses != 3 {
		t.Errorf("stats %+v: want 2 documents with their bytes, 1 hit and 3 misses", s)
	}
	n := tr.count(discoveryPath)
	get("a")
	if tr.count(discoveryPath) != n {
		t.Error("a, used recently, was dropped")
	}
	get("b")
	if tr.count(discoveryPath) != n+1 {
		t.Error("b, used least recently, was kept")
	}
	one := c.Stats().Bytes / 2
	c.MaxBytes, c.MaxDocuments = one+one/2, 0
	get("d")
	if s := c.Stats(); s.Documents != 1 || s.Bytes != one {
		t.Errorf("stats %+v: want one document of %d bytes", s, one)
	}
}
