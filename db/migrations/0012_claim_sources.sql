-- 0012: the debugger keeps the claims of incoming tokens (a profile's
-- log_token_claims, the manual's LogIDToken): their JOSE header and
-- claims, never the signature, as a JSON object, '' when not recorded.
-- New keys of profiles.settings come with it, read by this binary only:
-- "userinfo_claims" (the UID claim, user map and role map read the
-- userinfo endpoint too), "log_token_claims" and "restrictions.tenants"
-- (the Entra tenants whose tokens are accepted); this step makes an older
-- binary refuse the database instead of dropping them when it updates a
-- profile.
ALTER TABLE debug_log ADD COLUMN token_claims TEXT NOT NULL DEFAULT '';
