-- 0002: the token state of each account, settings shared by every process
-- on the database, and local API users with their roles. The conventions
-- of 0001 hold; in addition, an unset time is NULL (never 0), so that
-- "never" and 1970 stay apart.

-- One row per account that has had tokens, a failure or a lease; an
-- account without a row has a zero state. Deleting the account deletes
-- its row.
CREATE TABLE tokens (
	account_id          INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	access_token        BLOB,   -- sealed, "account/<name>/access_token"
	refresh_token       BLOB,   -- sealed, "account/<name>/refresh_token"
	id_token            BLOB,   -- sealed, "account/<name>/id_token"
	token_type          TEXT    NOT NULL DEFAULT '',
	expiry              INTEGER,                     -- of the access token
	refresh_expiry      INTEGER,                     -- of the refresh token
	scope               TEXT    NOT NULL DEFAULT '', -- granted, space-separated
	obtained_at         INTEGER,
	last_success        INTEGER,
	last_error          TEXT    NOT NULL DEFAULT '',
	last_error_at       INTEGER,
	failures            INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0), -- since the last success
	next_attempt        INTEGER,
	needs_authorization INTEGER NOT NULL DEFAULT 0 CHECK (needs_authorization IN (0, 1)),
	-- The refresh lease: '' and NULL when nobody holds it.
	lease_owner         TEXT    NOT NULL DEFAULT '',
	lease_until         INTEGER
) STRICT;

-- Settings every process shares, such as the refresh schedule. A setting
-- that is not set has no row.
CREATE TABLE settings (
	key        TEXT    PRIMARY KEY,
	value      TEXT    NOT NULL CHECK (value <> ''),
	updated_at INTEGER NOT NULL
) STRICT;

-- Local API users. profile is the name of the profile whose token created
-- the user ('' for one made by hand): a record of where the user came
-- from, not a reference, so that it neither blocks nor follows the
-- deletion of that profile.
CREATE TABLE users (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	login      TEXT    NOT NULL UNIQUE CHECK (login <> ''),
	email      TEXT    NOT NULL DEFAULT '',
	first_name TEXT    NOT NULL DEFAULT '',
	last_name  TEXT    NOT NULL DEFAULT '',
	profile    TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE user_roles (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role    TEXT    NOT NULL CHECK (role <> ''),
	PRIMARY KEY (user_id, role)
) STRICT, WITHOUT ROWID;
