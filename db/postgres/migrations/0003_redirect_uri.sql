-- 0002: a new key of accounts.settings and of profiles.settings,
-- "redirect_uri" (the loopback redirect URI of browser logins, or absent
-- for http://127.0.0.1:<free port>/callback). No table changes; the step
-- exists so that an older binary refuses this database instead of
-- dropping the key when it updates an account or a profile.
SELECT 1;
