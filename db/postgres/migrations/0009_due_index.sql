-- 0009: indexes with which a refresh run finds the accounts that may be
-- due (a token expiring before its horizon, or no token at all), the next
-- retry and the next end of another process's lease, without reading
-- every account's tokens: a run that finds nothing due stays fast with
-- 100,000 accounts.
CREATE INDEX tokens_expiry ON tokens (expiry);
CREATE INDEX tokens_refresh_expiry ON tokens (refresh_expiry);
CREATE INDEX tokens_empty ON tokens (account_id) WHERE access_token IS NULL AND refresh_token IS NULL;
CREATE INDEX tokens_next_attempt ON tokens (next_attempt);
CREATE INDEX tokens_lease_until ON tokens (lease_until);

-- Every account has a row in tokens from now on (an account is created
-- with one): the accounts that never had tokens are then found by
-- tokens_empty, not by reading every account.
INSERT INTO tokens (account_id) SELECT id FROM accounts WHERE id NOT IN (SELECT account_id FROM tokens);
