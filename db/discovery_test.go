package db

import (
	"context"
	"reflect"
	"testing"
	"time"

	"oidcctl/core"
)

func TestDiscoveryCache(t *testing.T) {
	ctx := context.Background()
	d, _ := openTest(t)
	for _, p := range []string{"a", "b"} {
		if err := d.CreateProfile(ctx, minimalProfile(p)); err != nil {
			t.Fatal(err)
		}
	}

	_, err := d.CachedDiscovery(ctx, "a")
	if !reflect.DeepEqual(err, &core.NotFoundError{Kind: "discovery document", Name: "a"}) {
		t.Fatalf("CachedDiscovery before any: got %v", err)
	}

	first := core.CachedDocument{
		URL:       "https://idp/a/.well-known/openid-configuration",
		Body:      []byte(`{"issuer":"https://idp/a","jwks_uri":"https://idp/a/keys"}` + "\x00\xff"),
		FetchedAt: time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC),
	}
	second := core.CachedDocument{
		URL:       "https://idp/a2/.well-known/openid-configuration",
		Body:      []byte(`{"issuer":"https://idp/a2"}`),
		FetchedAt: first.FetchedAt.Add(time.Hour),
	}
	other := core.CachedDocument{URL: "https://idp/b", Body: []byte(`{}`), FetchedAt: first.FetchedAt}

	for _, step := range []struct {
		name    string
		profile string
		put     core.CachedDocument
		want    map[string]core.CachedDocument
	}{
		{"put", "a", first, map[string]core.CachedDocument{"a": first}},
		{"other profile kept apart", "b", other, map[string]core.CachedDocument{"a": first, "b": other}},
		{"overwrite", "a", second, map[string]core.CachedDocument{"a": second, "b": other}},
	} {
		if err := d.CacheDiscovery(ctx, step.profile, step.put); err != nil {
			t.Fatalf("%s: CacheDiscovery: %v", step.name, err)
		}
		for profile, want := range step.want {
			got, err := d.CachedDiscovery(ctx, profile)
			if err != nil {
				t.Fatalf("%s: CachedDiscovery %s: %v", step.name, profile, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: profile %s: got %+v, want %+v", step.name, profile, got, want)
			}
		}
	}

	t.Run("local time comes back as the same instant in UTC, to the millisecond", func(t *testing.T) {
		local := time.Date(2026, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("CEST", 2*3600))
		if err := d.CacheDiscovery(ctx, "b", core.CachedDocument{URL: "u", Body: []byte("x"), FetchedAt: local}); err != nil {
			t.Fatal(err)
		}
		got, err := d.CachedDiscovery(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		if want := local.Truncate(time.Millisecond).UTC(); !got.FetchedAt.Equal(want) || got.FetchedAt.Location() != time.UTC {
			t.Errorf("FetchedAt: got %v, want %v", got.FetchedAt, want)
		}
	})

	t.Run("empty body", func(t *testing.T) {
		if err := d.CacheDiscovery(ctx, "b", core.CachedDocument{URL: "u", FetchedAt: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := d.CachedDiscovery(ctx, "b")
		if err != nil || len(got.Body) != 0 || got.URL != "u" {
			t.Errorf("got %+v, %v", got, err)
		}
	})

	t.Run("missing profile", func(t *testing.T) {
		want := &core.NotFoundError{Kind: "profile", Name: "nope"}
		if err := d.CacheDiscovery(ctx, "nope", first); !reflect.DeepEqual(err, want) {
			t.Errorf("CacheDiscovery: got %v, want %v", err, want)
		}
		if _, err := d.CachedDiscovery(ctx, "nope"); !reflect.DeepEqual(err, want) {
			t.Errorf("CachedDiscovery: got %v, want %v", err, want)
		}
	})

	t.Run("cascade on profile delete", func(t *testing.T) {
		if err := d.DeleteProfile(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		// A new profile of the same name starts without a cache.
		if err := d.CreateProfile(ctx, minimalProfile("a")); err != nil {
			t.Fatal(err)
		}
		if _, err := d.CachedDiscovery(ctx, "a"); !reflect.DeepEqual(err, &core.NotFoundError{Kind: "discovery document", Name: "a"}) {
			t.Errorf("cache survived its profile: %v", err)
		}
		var n int
		if err := d.db.QueryRow(`SELECT count(*) FROM discovery_cache`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("discovery_cache rows: %d, want 1 (b's)", n)
		}
	})
}
