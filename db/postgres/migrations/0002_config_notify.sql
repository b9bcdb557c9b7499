-- Every raise of the configuration version also notifies the channel
-- oidcctl_config, so that each serve instance, on whichever host, that
-- LISTENs on it reloads at once instead of at its next poll of
-- config_version (see listen.go). PostgreSQL delivers the notification
-- when the transaction commits, and folds the notifications of one
-- transaction into one; a rolled-back transaction notifies nobody.
CREATE OR REPLACE FUNCTION oidcctl_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE config_version SET version = version + 1 WHERE id = 1;
	PERFORM pg_notify('oidcctl_config', '');
	RETURN NULL;
END $$;
