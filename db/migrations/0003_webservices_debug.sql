-- 0003: the webservices of `oidcctl serve`, the debugger's log of their
-- calls, and the configuration version that tells serve to reload. The
-- conventions of 0001 and 0002 hold.
--
-- It also stands for two new keys of profiles.settings,
-- "token_auth_method" (client_secret_basic, client_secret_post, or absent
-- for "from discovery") and "introspect" (true, or absent), so that an
-- older binary refuses this database instead of dropping them on update.

-- A provider webservice refers to a profile, a requester one to an
-- account; the other is NULL. Neither can be deleted while a webservice
-- uses it. settings holds route, methods, upstream, pass_authorization
-- (provider), endpoint, path, method (requester) and debug (enabled,
-- max_body, max_age_ns, max_entries).
CREATE TABLE webservices (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT    NOT NULL UNIQUE,
	kind       TEXT    NOT NULL CHECK (kind IN ('provider', 'requester')),
	profile_id INTEGER REFERENCES profiles (id) ON DELETE RESTRICT,
	account_id INTEGER REFERENCES accounts (id) ON DELETE RESTRICT,
	settings   TEXT    NOT NULL CHECK (json_valid(settings)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX webservices_profile_id ON webservices (profile_id);
CREATE INDEX webservices_account_id ON webservices (account_id);

-- The debugger's log: one row per call through serve, headers and bodies
-- already redacted by serve (so not sealed). webservice_id is NULL for a
-- forward-auth call without a webservice; webservice keeps the name for
-- display. Deleting a webservice deletes its entries. Headers are JSON
-- objects of arrays (Go's http.Header), '{}' when there are none; an empty
-- body is NULL.
CREATE TABLE debug_log (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	time             INTEGER NOT NULL,
	request_id       TEXT    NOT NULL DEFAULT '',
	webservice_id    INTEGER REFERENCES webservices (id) ON DELETE CASCADE,
	webservice       TEXT    NOT NULL DEFAULT '',
	direction        TEXT    NOT NULL,
	method           TEXT    NOT NULL DEFAULT '',
	path             TEXT    NOT NULL DEFAULT '',
	status           INTEGER NOT NULL DEFAULT 0,
	duration_ns      INTEGER NOT NULL DEFAULT 0,
	user             TEXT    NOT NULL DEFAULT '',
	verdict          TEXT    NOT NULL DEFAULT '',
	reason           TEXT    NOT NULL DEFAULT '',
	request_header   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(request_header)),
	request_body     BLOB,
	response_header  TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(response_header)),
	response_body    BLOB,
	bodies_truncated INTEGER NOT NULL DEFAULT 0 CHECK (bodies_truncated IN (0, 1))
) STRICT;

CREATE INDEX debug_log_webservice_time ON debug_log (webservice_id, time);
CREATE INDEX debug_log_time ON debug_log (time);

-- The configuration version: one row, raised by the triggers below on
-- every write to what serve reads as its configuration. Not by tokens,
-- discovery_cache or debug_log, which change all the time. A trigger runs
-- once per row, so one statement may raise it by more than one: only
-- "has it changed" is meaningful, not by how much. An UPDATE of a user or
-- a setting that changes nothing but updated_at does not count, so that a
-- server syncing users from tokens does not make every process reload.
CREATE TABLE config_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
) STRICT;

INSERT INTO config_version (id, version) VALUES (1, 0);

CREATE TRIGGER profiles_insert_config AFTER INSERT ON profiles
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER profiles_update_config AFTER UPDATE ON profiles
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER profiles_delete_config AFTER DELETE ON profiles
BEGIN UPDATE config_version SET version = version + 1; END;

CREATE TRIGGER accounts_insert_config AFTER INSERT ON accounts
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER accounts_update_config AFTER UPDATE ON accounts
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER accounts_delete_config AFTER DELETE ON accounts
BEGIN UPDATE config_version SET version = version + 1; END;

CREATE TRIGGER users_insert_config AFTER INSERT ON users
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER users_update_config AFTER UPDATE ON users
WHEN OLD.login IS NOT NEW.login OR OLD.email IS NOT NEW.email
	OR OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
	OR OLD.profile IS NOT NEW.profile
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER users_delete_config AFTER DELETE ON users
BEGIN UPDATE config_version SET version = version + 1; END;

CREATE TRIGGER user_roles_insert_config AFTER INSERT ON user_roles
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER user_roles_update_config AFTER UPDATE ON user_roles
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER user_roles_delete_config AFTER DELETE ON user_roles
BEGIN UPDATE config_version SET version = version + 1; END;

CREATE TRIGGER webservices_insert_config AFTER INSERT ON webservices
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER webservices_update_config AFTER UPDATE ON webservices
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER webservices_delete_config AFTER DELETE ON webservices
BEGIN UPDATE config_version SET version = version + 1; END;

CREATE TRIGGER settings_insert_config AFTER INSERT ON settings
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER settings_update_config AFTER UPDATE ON settings
WHEN OLD.key IS NOT NEW.key OR OLD.value IS NOT NEW.value
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER settings_delete_config AFTER DELETE ON settings
BEGIN UPDATE config_version SET version = version + 1; END;
