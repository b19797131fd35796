-- Idempotency keys (issue 15): the first request with a key claims it (status NULL), and its
-- answer is stored sealed under a key derived from the issuer key (it can hold an issued
-- pass's QR text and link). Rows older than a day are deleted as new keys come in.
-- The same SQL runs on SQLite and PostgreSQL.
CREATE TABLE idempotency_keys (
    actor       TEXT NOT NULL,          -- the caller, as the audit trail names it
    key         TEXT NOT NULL,          -- the Idempotency-Key header
    fingerprint TEXT NOT NULL,          -- SHA-256 of method, path and body
    status      BIGINT,                 -- NULL while the first request runs
    response    TEXT,                   -- hex(nonce || ChaCha20-Poly1305 of the JSON answer)
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (actor, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
