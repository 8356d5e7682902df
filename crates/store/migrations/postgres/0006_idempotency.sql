-- Idempotency keys: the first response to a creating POST sent with an `Idempotency-Key`,
-- kept per principal and key so that a retry is answered with it instead of creating again.
--
-- A key is `in_flight` while its request runs (status, headers and body are NULL) and
-- `done` once its response is kept. `fingerprint` is a hash of the request (method, path,
-- content type and body): the same key with another request is refused. `created_at` is
-- when the request claimed the key (a claim older than the in-flight limit is taken to be
-- abandoned); `expires_at` is when the kept response stops being replayed.
CREATE TABLE idempotency_keys (
    principal       TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    fingerprint     BYTEA   NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('in_flight', 'done')),
    status          INTEGER,
    headers         TEXT,
    body            BYTEA,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
-- The hourly purge deletes by expiry.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
