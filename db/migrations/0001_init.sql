-- 0001: profiles, functional accounts, the discovery cache and the meta
-- table that holds the key check.
--
-- Conventions for this and every later migration:
--   * times are INTEGER unix milliseconds, UTC;
--   * durations are INTEGER nanoseconds (Go's time.Duration), and keys in a
--     settings document that hold one end in "_ns";
--   * secrets are BLOBs sealed by crypt.Key.Seal with the associated data
--     "<kind>/<name>/<column>", NULL when not set; plaintext never reaches SQL;
--   * settings is a JSON object of what is not queried by itself; adding a
--     key to it needs a new migration (even an empty one), so that an older
--     binary refuses the database instead of dropping the key on update;
--   * tables are STRICT; rows are referred to by id, never by name, and ids
--     are AUTOINCREMENT so that a deleted row's id is never reused.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;

CREATE TABLE profiles (
	id                  INTEGER PRIMARY KEY AUTOINCREMENT,
	name                TEXT    NOT NULL UNIQUE,
	discovery_url       TEXT    NOT NULL,
	client_id           TEXT    NOT NULL,
	client_secret       BLOB,   -- sealed, "profile/<name>/client_secret"
	client_key_password BLOB,   -- sealed, "profile/<name>/client_key_password"
	settings            TEXT    NOT NULL CHECK (json_valid(settings)),
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL UNIQUE,
	profile_id INTEGER NOT NULL REFERENCES profiles (id) ON DELETE RESTRICT,
	grant_type TEXT    NOT NULL,
	username   TEXT    NOT NULL DEFAULT '',
	password   BLOB,   -- sealed, "account/<name>/password"
	settings   TEXT    NOT NULL CHECK (json_valid(settings)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX accounts_profile_id ON accounts (profile_id);

CREATE TABLE discovery_cache (
	profile_id INTEGER PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
	url        TEXT    NOT NULL,
	body       BLOB    NOT NULL,
	fetched_at INTEGER NOT NULL
) STRICT;
