-- 0007: new keys of profiles.settings: "assertion_audience" (the aud of
-- private_key_jwt client assertions: token_endpoint or issuer) and
-- "client_keys" (the profile's private_key_jwt key pairs, sealed with the
-- database key like every secret column, base64 in the JSON). No table
-- changes; the step exists so that an older binary refuses this database
-- instead of dropping the keys when it updates a profile.
SELECT 1;
