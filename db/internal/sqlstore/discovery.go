package sqlstore

import (
	"context"
	"errors"

	"oidcctl/core"
)

// CachedDiscovery returns the cached discovery document of a profile;
// *core.NotFoundError with Kind "profile" when there is no such profile,
// Kind "discovery document" when none is cached for it.
func (db *Store) CachedDiscovery(ctx context.Context, profile string) (core.CachedDocument, error) {
	doc, err := readTx(ctx, db, func(tx Tx) (core.CachedDocument, error) {
		return cachedDiscovery(ctx, tx, profile)
	})
	return doc, wrap("read discovery cache of profile", profile, err)
}

// CacheDiscovery replaces the cached discovery document of a profile;
// *core.NotFoundError when there is no such profile. FetchedAt is kept with
// millisecond precision.
func (db *Store) CacheDiscovery(ctx context.Context, profile string, doc core.CachedDocument) error {
	return wrap("cache discovery document of profile", profile, db.inTx(ctx, func(tx Tx) error {
		return cacheDiscovery(ctx, tx, profile, doc)
	}))
}

func cachedDiscovery(ctx context.Context, tx Tx, profile string) (core.CachedDocument, error) {
	id, err := profileID(ctx, tx, profile)
	if err != nil {
		return core.CachedDocument{}, err
	}
	var (
		doc       core.CachedDocument
		fetchedAt int64
	)
	err = tx.QueryRow(ctx, `SELECT url, body, fetched_at FROM discovery_cache WHERE profile_id = $1`, id).
		Scan(&doc.URL, &doc.Body, &fetchedAt)
	if errors.Is(err, ErrNoRows) {
		return core.CachedDocument{}, &core.NotFoundError{Kind: "discovery document", Name: profile}
	}
	if err != nil {
		return core.CachedDocument{}, err
	}
	doc.FetchedAt = fromMillis(fetchedAt)
	return doc, nil
}

func cacheDiscovery(ctx context.Context, tx Tx, profile string, doc core.CachedDocument) error {
	id, err := profileID(ctx, tx, profile)
	if err != nil {
		return err
	}
	body := doc.Body
	if body == nil {
		body = []byte{} // the column is NOT NULL; an empty body is still a body
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO discovery_cache (profile_id, url, body, fetched_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (profile_id) DO UPDATE SET url = excluded.url, body = excluded.body, fetched_at = excluded.fetched_at`,
		id, doc.URL, body, doc.FetchedAt.UnixMilli())
	return err
}
