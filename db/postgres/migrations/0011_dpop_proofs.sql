-- 0011: the ids of used DPoP proofs, as the SQLite store's 0015: one row
-- per used proof (the SHA-256 of its key's thumbprint and jti, never the
-- proof) until it could no longer be accepted (unix milliseconds), so
-- that a proof used at one serve instance is refused at another.
CREATE TABLE dpop_proofs (
	id         bytea  NOT NULL PRIMARY KEY,
	expires_at bigint NOT NULL
);
CREATE INDEX dpop_proofs_expires_at ON dpop_proofs (expires_at);
