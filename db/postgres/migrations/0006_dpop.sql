-- 0006: new keys of profiles.settings, "dpop" (off, allow or require:
-- DPoP-bound incoming tokens, RFC 9449) and "dpop_nonce", and of
-- accounts.settings, "dpop" (the account obtains DPoP-bound tokens) and
-- "dpop_key" (its DPoP private key, sealed as every secret). No table
-- changes; the step exists so that an older binary refuses this database
-- instead of dropping the keys when it updates an account or a profile.
SELECT 1;
