-- 0015: the ids of used DPoP proofs (core.ReplayStore), so that a proof
-- used at one serve instance is refused at another. An id is the SHA-256
-- of the proof key's thumbprint and the jti, never the proof; expires_at
-- (unix milliseconds) is when the proof could no longer be accepted
-- anyway. serve writes here only on PostgreSQL (several instances); the
-- table is in both engines so that their schemas stay the same.
CREATE TABLE dpop_proofs (
	id         BLOB    NOT NULL PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX dpop_proofs_expires_at ON dpop_proofs (expires_at);
