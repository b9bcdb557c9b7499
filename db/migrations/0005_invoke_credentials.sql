-- 0005: the invoke credentials of requester webservices. A caller of
-- /invoke/NAME over TCP presents one (the X-Oidcctl-Credential header);
-- only its SHA-256 is kept, never the secret, which is shown once when it
-- is issued. The conventions of 0001 and 0002 hold. Removing a webservice
-- removes its credentials.
CREATE TABLE invoke_credentials (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	webservice_id INTEGER NOT NULL REFERENCES webservices (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL,
	hash          BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
	hint          TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	UNIQUE (webservice_id, name)
) STRICT;

-- serve keeps the credentials in memory with the rest of its
-- configuration: issuing or revoking one is a configuration change, so
-- that a running serve picks it up within seconds.
CREATE TRIGGER invoke_credentials_insert_config AFTER INSERT ON invoke_credentials
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER invoke_credentials_update_config AFTER UPDATE ON invoke_credentials
BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER invoke_credentials_delete_config AFTER DELETE ON invoke_credentials
BEGIN UPDATE config_version SET version = version + 1; END;
