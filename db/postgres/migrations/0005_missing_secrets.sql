-- 0005: a new key of accounts.settings and of profiles.settings,
-- "missing_secrets" (the secrets a profile or account imported from a
-- configuration file without them still needs: "client_secret",
-- "client_key_password", "password"). No table changes; the step exists
-- so that an older binary refuses this database instead of dropping the
-- key when it updates an account or a profile.
SELECT 1;
