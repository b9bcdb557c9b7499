-- 0010: indexes with which the console's overview counts and pages
-- 100,000 accounts without reading every account's tokens
-- (CountAccounts, TokenStatePage): the accounts of each profile in name
-- order, for a page in profile and account name order that stops at its
-- end; and the accounts that are not valid (needing authorization,
-- failing, without an access token; tokens_expiry finds the expired),
-- so that the valid ones are counted as the rest.
CREATE INDEX accounts_profile_name ON accounts (profile_id, name);
CREATE INDEX tokens_needs_authorization ON tokens (account_id) WHERE needs_authorization;
CREATE INDEX tokens_failing ON tokens (account_id) WHERE last_error <> '';
CREATE INDEX tokens_no_access ON tokens (account_id) WHERE access_token IS NULL;
