-- 0004: what running `oidcctl serve` processes report about themselves, for
-- the console. Not configuration: no trigger raises config_version. One row
-- per instance (host:pid); rows of instances gone for a day are removed by
-- the next write.
CREATE TABLE serve_status (
	instance   TEXT    PRIMARY KEY,
	status     TEXT    NOT NULL CHECK (json_valid(status)),
	heartbeat  INTEGER NOT NULL
) STRICT;
