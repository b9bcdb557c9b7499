-- 0008: pending logins, the authorization code logins whose browser
-- returns to `oidcctl serve` (an https redirect URI): `account authorize`
-- writes one, serve completes it and records the outcome, which the
-- command waits for. One row per state; the PKCE verifier is sealed as
-- "login/<state>/verifier". Removing an account removes its logins. Not
-- part of serve's configuration (no config_version trigger): serve reads
-- a login by its state when the browser returns.
CREATE TABLE pending_logins (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	state        TEXT    NOT NULL UNIQUE,
	account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	redirect_uri TEXT    NOT NULL,
	verifier     BLOB    NOT NULL, -- sealed, "login/<state>/verifier"
	nonce        TEXT    NOT NULL DEFAULT '',
	scopes       TEXT    NOT NULL CHECK (json_valid(scopes)), -- JSON array of strings
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('pending', 'exchanging', 'done', 'failed')),
	reason       TEXT    NOT NULL DEFAULT '',
	finished_at  INTEGER
) STRICT;
CREATE INDEX pending_logins_account_id ON pending_logins (account_id);
CREATE INDEX pending_logins_expires_at ON pending_logins (expires_at);
